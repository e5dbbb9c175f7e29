-- AlterTable
ALTER TABLE "pending_answers" ADD COLUMN     "in_flight_at" TIMESTAMP(3);
