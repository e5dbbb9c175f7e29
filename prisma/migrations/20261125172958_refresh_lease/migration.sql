-- AlterTable
ALTER TABLE "portals" ADD COLUMN     "refresh_lease_owner" TEXT,
ADD COLUMN     "refresh_lease_until" TIMESTAMP(3);
