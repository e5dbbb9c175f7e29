/**
 * Durable acknowledgement: the call row and its job commit in one transaction, and only then
 * does the handler endpoint answer 200. The same event_token twice is stored and run once.
 */
import type { PgBoss } from 'pg-boss';
import type { PrismaClient } from '../generated/prisma/client.ts';
import type { HandlerCallInput } from '../robots/handler-call.ts';
import { QUEUES, fromPrisma } from './queue.ts';

export type Intake = { callId: bigint; duplicate: boolean };

export async function acceptCall(prisma: PrismaClient, boss: PgBoss, portalId: number, call: HandlerCallInput): Promise<Intake> {
  // The workflow stops waiting timeout_duration seconds after the portal queued the call.
  const deadline = call.timeoutSeconds > 0 ? new Date(((call.queuedAt ?? Date.now() / 1000) + call.timeoutSeconds) * 1000) : null;
  return prisma.$transaction(async (tx) => {
    const inserted = await tx.$queryRaw<Array<{ id: bigint }>>`
      INSERT INTO handler_calls (portal_id, code, event_token, workflow_id, document_id, document_type, properties,
                                 use_subscription, timeout_seconds, auth_user_id, deadline_at)
      VALUES (${portalId}, ${call.code}, ${call.eventToken}, ${call.workflowId}, ${call.documentId}::text[],
              ${call.documentType ?? []}::text[], ${JSON.stringify(call.properties)}::jsonb, ${call.useSubscription},
              ${call.timeoutSeconds}, ${call.authUserId}, ${deadline})
      ON CONFLICT (portal_id, event_token) DO NOTHING
      RETURNING id`;
    const row = inserted[0];
    if (!row) {
      const existing = await tx.handlerCall.findUniqueOrThrow({
        where: { portalId_eventToken: { portalId, eventToken: call.eventToken } },
        select: { id: true },
      });
      return { callId: existing.id, duplicate: true };
    }
    await boss.send(QUEUES.calls, { callId: row.id.toString() }, { db: fromPrisma(tx) });
    return { callId: row.id, duplicate: false };
  });
}
