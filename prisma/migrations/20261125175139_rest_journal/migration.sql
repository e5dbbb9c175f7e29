-- CreateTable
CREATE TABLE "rest_journal" (
    "id" BIGSERIAL NOT NULL,
    "member_id" TEXT NOT NULL,
    "at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "method" TEXT NOT NULL,
    "params" TEXT NOT NULL,
    "status" INTEGER NOT NULL,
    "answer" TEXT,
    "error" TEXT,
    "duration_ms" INTEGER NOT NULL,
    "call_id" BIGINT,
    "answers_for" TEXT[] DEFAULT ARRAY[]::TEXT[],

    CONSTRAINT "rest_journal_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "portal_cache" (
    "portal_id" INTEGER NOT NULL,
    "key" TEXT NOT NULL,
    "value" JSONB NOT NULL,
    "expires_at" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "portal_cache_pkey" PRIMARY KEY ("portal_id","key")
);

-- CreateIndex
CREATE INDEX "rest_journal_member_id_id_idx" ON "rest_journal"("member_id", "id" DESC);

-- CreateIndex
CREATE INDEX "rest_journal_call_id_idx" ON "rest_journal"("call_id");

-- CreateIndex
CREATE INDEX "rest_journal_answers_for_idx" ON "rest_journal" USING GIN ("answers_for" array_ops);

-- CreateIndex
CREATE INDEX "rest_journal_at_idx" ON "rest_journal"("at");

-- CreateIndex
CREATE INDEX "portal_cache_expires_at_idx" ON "portal_cache"("expires_at");
