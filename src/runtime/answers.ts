/**
 * Answers to the portal (bizproc.event.send, bizproc.activity.log) wait in pending_answers and
 * go out through `batch`, up to 50 a request, so a busy portal's completions are not throttled
 * to its 2 requests a second. One flush job per portal is active at a time (a pg-boss `stately`
 * queue keyed by portal), so answers of one call keep their order.
 */
import type { PgBoss } from 'pg-boss';
import type { Logger } from 'pino';
import type { Prisma, PrismaClient } from '../generated/prisma/client.ts';
import { PortalCallError, type PortalClients } from '../portals/portal-client.ts';
import type { RateBudget } from '../portals/rate-budget.ts';
import { PortalUnavailableError } from '../portals/shared-refresh.ts';
import { QUEUES, fromPrisma } from './queue.ts';
import { metrics } from '../metrics/metrics.ts';

export type AnswerMethod = 'bizproc.event.send' | 'bizproc.activity.log';

type Tx = Prisma.TransactionClient;

const MAX_ATTEMPTS = 12;

/** Queues an answer and makes sure a flush for its portal is pending, inside the caller's transaction. */
export async function enqueueAnswer(
  tx: Tx,
  boss: PgBoss,
  answer: { portalId: number; callId: bigint | null; method: AnswerMethod; params: Record<string, unknown> },
): Promise<void> {
  await tx.pendingAnswer.create({
    data: { portalId: answer.portalId, callId: answer.callId, method: answer.method, params: answer.params as Prisma.InputJsonValue },
  });
  await requestFlush(boss, answer.portalId, tx);
}

export async function requestFlush(boss: PgBoss, portalId: number, tx?: Tx, startAfterSeconds?: number): Promise<void> {
  await boss.send(
    QUEUES.answers,
    { portalId },
    { singletonKey: String(portalId), ...(tx ? { db: fromPrisma(tx) } : {}), ...(startAfterSeconds ? { startAfter: startAfterSeconds } : {}) },
  );
}

/**
 * A refusal of one answer in a batch that retrying cannot change. A portal takes a repeated or
 * late bizproc.event.send (a step already closed, a stale event) as `true` and changes nothing,
 * so a refusal here is about the answer itself (a token that does not decode: ACCESS_DENIED).
 * A command the batch answer has no outcome for was perhaps never run: sent again.
 */
function isFinalRefusal(error: { code: string; transient: boolean }): boolean {
  return !error.transient && error.code !== MISSING_OUTCOME;
}

const MISSING_OUTCOME = 'BATCH_ITEM_MISSING';
/**
 * What the core answers an event for a workflow that no longer exists: CBPRuntime::sendExternalEvent
 * throws "workflow not found" with code 404, which the REST layer passes on as the error code.
 */
const WORKFLOW_GONE = '404';

export class AnswerSender {
  constructor(
    private readonly deps: { prisma: PrismaClient; boss: PgBoss; clients: PortalClients; logger: Logger; batchSize: number; budget?: RateBudget },
  ) {}

  /** Sends every due answer of a portal, up to batchSize (≤ 50) a batch, until none is left or the portal pushes back. */
  async flush(portalId: number): Promise<void> {
    const { prisma } = this.deps;
    const log = this.deps.logger.child({ portalId });
    for (;;) {
      const dueNow = () =>
        prisma.pendingAnswer.findMany({ where: { portalId, notBefore: { lte: new Date() } }, orderBy: { id: 'asc' }, take: this.deps.batchSize, include: { call: { select: { receivedAt: true } } } });
      let due = await dueNow();
      if (due.length === 0) return this.scheduleLater(portalId);
      if (due.length < this.deps.batchSize && this.deps.budget) {
        // A partial batch waits for the portal's budget to have room, and fills up meanwhile: a
        // busy portal's requests then each carry a full batch instead of a few answers.
        await this.deps.budget.whenRoom(portalId);
        due = await dueNow();
      }
      // Marked before the batch leaves: a row still marked at the next flush was out when the
      // process died or the database went away, and the portal may have taken it. Sending it
      // again is safe (the portal takes a repeated answer as a no-op); the mark says why it is.
      const resent = due.filter((a) => a.inFlightAt !== null).length;
      if (resent > 0) log.info({ answers: resent }, 'sending again answers whose earlier send has an unknown outcome');
      await prisma.pendingAnswer.updateMany({ where: { id: { in: due.map((a) => a.id) } }, data: { inFlightAt: new Date() } });

      let outcomes;
      try {
        const client = await this.deps.clients.forPortal(portalId);
        log.debug({ portal: client.portal.memberId, answers: due.length }, 'sending answers');
        outcomes = await client.batch(due.map((a) => [a.method, a.params as Record<string, unknown>]));
      } catch (error) {
        const reason = error instanceof Error ? error.message : String(error);
        const retryable = error instanceof PortalUnavailableError || (error instanceof PortalCallError && error.transient) || !(error instanceof PortalCallError);
        const answered = error instanceof PortalCallError && error.status >= 400;
        await this.postpone(due, reason, retryable, answered);
        log.warn({ reason, answers: due.length }, 'answers postponed');
        return this.scheduleLater(portalId);
      }

      await prisma.$transaction(async (tx) => {
        for (const [index, answer] of due.entries()) {
          const outcome = outcomes[index]!;
          if (outcome.ok) {
            metrics.answerSent(answer.method, answer.call?.receivedAt.getTime());
            await tx.pendingAnswer.delete({ where: { id: answer.id } });
            if (answer.method === 'bizproc.event.send' && answer.callId !== null) await markAnswered(tx, answer.callId);
            continue;
          }
          const refusal = new PortalCallError(answer.method, outcome.error, outcome.description, 400);
          if (answer.inFlightAt && answer.method === 'bizproc.event.send' && outcome.error === WORKFLOW_GONE) {
            // Sent before with an unknown outcome, and the workflow has ended since: nothing waits
            // for this answer any more, and the first send most likely is what ended it.
            metrics.answerSent(answer.method, answer.call?.receivedAt.getTime());
            await tx.pendingAnswer.delete({ where: { id: answer.id } });
            if (answer.callId !== null) await markAnswered(tx, answer.callId);
            log.info({ call: answer.callId?.toString() }, 'answer re-sent after an unknown outcome found its workflow ended: counted as delivered');
            continue;
          }
          metrics.answerFailed(answer.method, isFinalRefusal(refusal) || answer.attempts + 1 >= MAX_ATTEMPTS);
          if (isFinalRefusal(refusal) || answer.attempts + 1 >= MAX_ATTEMPTS) {
            await tx.pendingAnswer.delete({ where: { id: answer.id } });
            if (answer.method === 'bizproc.event.send' && answer.callId !== null) {
              await markUndelivered(tx, answer.callId, `the portal refused the answer: ${outcome.error} ${outcome.description}`.trim());
            }
            log.warn({ call: answer.callId?.toString(), method: answer.method, error: outcome.error }, 'answer refused by the portal');
          } else {
            await tx.pendingAnswer.update({
              where: { id: answer.id },
              data: { attempts: { increment: 1 }, lastError: `${outcome.error} ${outcome.description}`, notBefore: backoff(answer.attempts + 1), inFlightAt: null },
            });
          }
        }
      });
    }
  }

  private async postpone(
    due: Array<{ id: bigint; attempts: number; callId: bigint | null; method: string }>,
    reason: string,
    retryable: boolean,
    answered: boolean,
  ) {
    await this.deps.prisma.$transaction(async (tx) => {
      for (const answer of due) {
        metrics.answerFailed(answer.method, !retryable || answer.attempts + 1 >= MAX_ATTEMPTS);
        if (!retryable || answer.attempts + 1 >= MAX_ATTEMPTS) {
          await tx.pendingAnswer.delete({ where: { id: answer.id } });
          if (answer.method === 'bizproc.event.send' && answer.callId !== null) {
            await markUndelivered(tx, answer.callId, `the answer could not be delivered: ${reason}`);
          }
        } else {
          await tx.pendingAnswer.update({
            where: { id: answer.id },
            // A refusal the portal answered (503, 429) means the batch was not processed.
            data: { attempts: { increment: 1 }, lastError: reason.slice(0, 1000), notBefore: backoff(answer.attempts + 1), ...(answered ? { inFlightAt: null } : {}) },
          });
        }
      }
    });
  }

  /** If answers wait for a later moment, make sure a flush job is due then. */
  private async scheduleLater(portalId: number): Promise<void> {
    const next = await this.deps.prisma.pendingAnswer.findFirst({
      where: { portalId },
      orderBy: { notBefore: 'asc' },
      select: { notBefore: true },
    });
    if (!next) return;
    const seconds = Math.max(1, Math.ceil((next.notBefore.getTime() - Date.now()) / 1000));
    await requestFlush(this.deps.boss, portalId, undefined, seconds);
  }
}

function backoff(attempt: number): Date {
  return new Date(Date.now() + Math.min(60_000, 500 * 2 ** attempt));
}

async function markAnswered(tx: Tx, callId: bigint): Promise<void> {
  // A call whose handler failed keeps status `failed`; either way the portal now has its answer.
  await tx.$executeRaw`
    UPDATE handler_calls SET answered_at = now(),
      status = CASE WHEN error IS NULL THEN 'answered'::"CallStatus" ELSE 'failed'::"CallStatus" END
    WHERE id = ${callId}`;
}

async function markUndelivered(tx: Tx, callId: bigint, reason: string): Promise<void> {
  await tx.$executeRaw`
    UPDATE handler_calls SET status = 'failed'::"CallStatus", error = COALESCE(error || ' — ', '') || ${reason}
    WHERE id = ${callId} AND answered_at IS NULL`;
}
