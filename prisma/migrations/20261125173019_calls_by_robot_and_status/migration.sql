-- CreateIndex
CREATE INDEX "handler_calls_portal_id_code_status_received_at_id_idx" ON "handler_calls"("portal_id", "code", "status", "received_at" DESC, "id" DESC);
