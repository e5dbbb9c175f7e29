-- CreateEnum
CREATE TYPE "PortalState" AS ENUM ('installed', 'needs_reauth', 'uninstalled');

-- CreateEnum
CREATE TYPE "CallStatus" AS ENUM ('received', 'running', 'answered', 'failed', 'timed_out');

-- CreateTable
CREATE TABLE "portals" (
    "id" SERIAL NOT NULL,
    "member_id" TEXT NOT NULL,
    "domain" TEXT NOT NULL,
    "client_endpoint" TEXT NOT NULL,
    "server_endpoint" TEXT NOT NULL,
    "access_token_enc" TEXT,
    "refresh_token_enc" TEXT,
    "access_expires_at" TIMESTAMP(3),
    "application_token_hash" TEXT,
    "scope" TEXT NOT NULL DEFAULT '',
    "status" TEXT NOT NULL DEFAULT '',
    "user_id" INTEGER,
    "language_id" TEXT NOT NULL DEFAULT 'en',
    "app_version" INTEGER,
    "state" "PortalState" NOT NULL DEFAULT 'installed',
    "state_reason" TEXT,
    "installed_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "uninstalled_at" TIMESTAMP(3),
    "updated_at" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "portals_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "handler_calls" (
    "id" BIGSERIAL NOT NULL,
    "portal_id" INTEGER NOT NULL,
    "code" TEXT NOT NULL,
    "event_token" TEXT NOT NULL,
    "workflow_id" TEXT NOT NULL,
    "document_id" TEXT[],
    "document_type" TEXT[],
    "properties" JSONB NOT NULL,
    "use_subscription" BOOLEAN NOT NULL,
    "timeout_seconds" INTEGER NOT NULL,
    "auth_user_id" INTEGER,
    "status" "CallStatus" NOT NULL DEFAULT 'received',
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "error" TEXT,
    "return_values" JSONB,
    "received_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "deadline_at" TIMESTAMP(3),
    "started_at" TIMESTAMP(3),
    "finished_at" TIMESTAMP(3),
    "answered_at" TIMESTAMP(3),

    CONSTRAINT "handler_calls_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "pending_answers" (
    "id" BIGSERIAL NOT NULL,
    "portal_id" INTEGER NOT NULL,
    "call_id" BIGINT,
    "method" TEXT NOT NULL,
    "params" JSONB NOT NULL,
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "last_error" TEXT,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "not_before" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "pending_answers_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "portal_rate_state" (
    "portal_id" INTEGER NOT NULL,
    "level" DOUBLE PRECISION NOT NULL DEFAULT 0,
    "updated_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "portal_rate_state_pkey" PRIMARY KEY ("portal_id")
);

-- CreateTable
CREATE TABLE "registered_handlers" (
    "portal_id" INTEGER NOT NULL,
    "kind" TEXT NOT NULL,
    "code" TEXT NOT NULL,
    "fingerprint" TEXT NOT NULL,
    "updated_at" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "registered_handlers_pkey" PRIMARY KEY ("portal_id","kind","code")
);

-- CreateIndex
CREATE UNIQUE INDEX "portals_member_id_key" ON "portals"("member_id");

-- CreateIndex
CREATE INDEX "handler_calls_portal_id_received_at_id_idx" ON "handler_calls"("portal_id", "received_at" DESC, "id" DESC);

-- CreateIndex
CREATE INDEX "handler_calls_portal_id_code_received_at_idx" ON "handler_calls"("portal_id", "code", "received_at" DESC);

-- CreateIndex
CREATE INDEX "handler_calls_portal_id_status_received_at_idx" ON "handler_calls"("portal_id", "status", "received_at" DESC);

-- CreateIndex
CREATE UNIQUE INDEX "handler_calls_portal_id_event_token_key" ON "handler_calls"("portal_id", "event_token");

-- CreateIndex
CREATE INDEX "pending_answers_portal_id_not_before_id_idx" ON "pending_answers"("portal_id", "not_before", "id");

-- AddForeignKey
ALTER TABLE "handler_calls" ADD CONSTRAINT "handler_calls_portal_id_fkey" FOREIGN KEY ("portal_id") REFERENCES "portals"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "pending_answers" ADD CONSTRAINT "pending_answers_portal_id_fkey" FOREIGN KEY ("portal_id") REFERENCES "portals"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "pending_answers" ADD CONSTRAINT "pending_answers_call_id_fkey" FOREIGN KEY ("call_id") REFERENCES "handler_calls"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "portal_rate_state" ADD CONSTRAINT "portal_rate_state_portal_id_fkey" FOREIGN KEY ("portal_id") REFERENCES "portals"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "registered_handlers" ADD CONSTRAINT "registered_handlers_portal_id_fkey" FOREIGN KEY ("portal_id") REFERENCES "portals"("id") ON DELETE CASCADE ON UPDATE CASCADE;
