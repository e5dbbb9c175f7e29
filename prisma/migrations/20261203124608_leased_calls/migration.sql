-- CreateIndex
CREATE INDEX "handler_calls_leased_idx" ON "handler_calls"("portal_id") WHERE (finished_at IS NULL AND lease_until IS NOT NULL);
