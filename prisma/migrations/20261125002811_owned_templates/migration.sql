-- CreateTable
CREATE TABLE "owned_templates" (
    "portal_id" INTEGER NOT NULL,
    "template_id" INTEGER NOT NULL,
    "name" TEXT NOT NULL,
    "added_by" INTEGER NOT NULL,
    "added_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "owned_templates_pkey" PRIMARY KEY ("portal_id","template_id")
);

-- AddForeignKey
ALTER TABLE "owned_templates" ADD CONSTRAINT "owned_templates_portal_id_fkey" FOREIGN KEY ("portal_id") REFERENCES "portals"("id") ON DELETE CASCADE ON UPDATE CASCADE;
