-- AlterTable
ALTER TABLE "handler_calls" ADD COLUMN     "lease_until" TIMESTAMPTZ(3),
ADD COLUMN     "run_after" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP;

-- AlterTable
ALTER TABLE "portals" ADD COLUMN     "answer_lease_until" TIMESTAMPTZ(3);

-- CreateIndex
CREATE INDEX "handler_calls_unfinished_idx" ON "handler_calls"("id") WHERE (finished_at IS NULL);
