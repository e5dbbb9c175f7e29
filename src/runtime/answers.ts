/**
 * Answers to the portal (bizproc.event.send, bizproc.activity.log) wait in pending_answers and
 * go out through `batch`, up to 50 a request, so a busy portal's completions are not throttled
 * to its 2 requests a second. One process at a time sends a portal's answers: it holds the
 * portal's answer lease (`portals.answer_lease_until`, renewed while a batch is out), so answers
 * of one call keep their order. pending_answers is itself the queue: a process looks for portals
 * with answers due (claimPortals) when answers were queued in it and every half second, so
 * answers queued by another process, or due after a backoff, are found too.
 *
 * One statement for each step: claim the portals, claim a portal's due answers (marking them in
 * flight, and releasing the lease when none is left), record a batch's outcomes.
 */
import type { Logger } from 'pino';
import type { Sql } from '../db/sql.ts';
import { PortalCallError, type PortalClients } from '../portals/portal-client.ts';
import type { RateBudget } from '../portals/rate-budget.ts';
import { PortalUnavailableError } from '../portals/shared-refresh.ts';
import type { CallQueue } from './call-queue.ts';
import { metrics } from '../metrics/metrics.ts';

export type AnswerMethod = 'bizproc.event.send' | 'bizproc.activity.log';

const MAX_ATTEMPTS = 12;
/**
 * Batches one portal's flush has out at once. Two: the next batch is claimed and sent while the
 * portal works on the one before (300 answers at once: six round trips one after another
 * otherwise); the portal's budget still paces them (rate-budget.ts).
 */
const BATCHES_IN_FLIGHT = 2;
/** whenRoom took this long: it waited for the portal's budget (rate-budget.ts waits 10 ms at least) */
const WAITED_MS = 10;

const ENQUEUE = `INSERT INTO pending_answers (portal_id, call_id, method, params) VALUES ($1, $2, $3, $4::jsonb)`;

/** Queues one answer (event.send answers are queued by the call's finish, call-queue.ts). */
export async function enqueueAnswer(
  queue: CallQueue,
  answer: { portalId: number; callId: bigint | null; method: AnswerMethod; params: Record<string, unknown> },
): Promise<void> {
  await queue.connection.run('enqueue-answer', ENQUEUE, [answer.portalId, answer.callId === null ? null : String(answer.callId), answer.method, JSON.stringify(answer.params)]);
  queue.answersQueued([answer.portalId]);
}

/** pending_answers' timestamps are UTC wall-clock `timestamp` columns, as Prisma keeps DateTime. */
const UTC_NOW = `(now() AT TIME ZONE 'UTC')`;

const CLAIM_PORTALS = `
  WITH due AS (
    SELECT DISTINCT portal_id FROM pending_answers WHERE not_before <= ${UTC_NOW}
  ), free AS (
    SELECT p.id FROM portals p JOIN due ON due.portal_id = p.id
    WHERE p.answer_lease_until IS NULL OR p.answer_lease_until <= now()
    LIMIT $1
    -- NO KEY UPDATE: the KEY SHARE locks that inserts of the portal's calls and answers take
    -- (their foreign keys) do not make a busy portal look taken
    FOR NO KEY UPDATE OF p SKIP LOCKED
  )
  UPDATE portals p SET answer_lease_until = now() + $2 * interval '1 second' FROM free WHERE p.id = free.id
  RETURNING p.id`;

/**
 * Marked in flight before the batch leaves: a row still marked at the next flush was out when
 * the process died or the database went away, and the portal may have taken it. Sending it
 * again is safe (the portal takes a repeated answer as a no-op); `resent` says why it is.
 * With nothing due and $5, the lease is let go in the same statement.
 */
const CLAIM_DUE = `
  WITH due AS (
    SELECT id, in_flight_at FROM pending_answers
    WHERE portal_id = $1 AND not_before <= ${UTC_NOW} AND id <> ALL($3::bigint[])
      -- a call's answers keep their order: none goes out beside an earlier one of its call still out
      AND NOT EXISTS (SELECT 1 FROM pending_answers o WHERE o.id = ANY($3::bigint[]) AND o.call_id = pending_answers.call_id)
    ORDER BY id LIMIT $2
  ), marked AS (
    UPDATE pending_answers a SET in_flight_at = ${UTC_NOW} FROM due WHERE a.id = due.id
    RETURNING a.id, a.call_id, a.method, a.params, a.attempts, due.in_flight_at IS NOT NULL AS resent,
      (SELECT extract(epoch FROM c.received_at)::float8 * 1000 FROM handler_calls c WHERE c.id = a.call_id) AS received_ms
  ), lease AS (
    UPDATE portals SET answer_lease_until = CASE WHEN EXISTS (SELECT 1 FROM due) OR NOT $5 THEN now() + $4 * interval '1 second' END
    WHERE id = $1
  )
  SELECT * FROM marked ORDER BY id`;

/** Extends a lease still held: a renewal that lands after the flush let the lease go does not take it again. */
const RENEW_LEASE = `UPDATE portals SET answer_lease_until = now() + $2 * interval '1 second' WHERE id = $1 AND answer_lease_until IS NOT NULL`;

/**
 * A batch's outcomes, every answer of it in one statement: delivered or refused for good
 * (deleted; its call marked answered, or failed with the reason), or due again later.
 */
const RECORD = `
  WITH input AS (
    SELECT * FROM jsonb_to_recordset($1::jsonb) AS x(id bigint, action text, mark text, reason text, delay_ms int, clear_in_flight boolean)
  ), removed AS (
    DELETE FROM pending_answers a USING input WHERE a.id = input.id AND input.action = 'delete'
    RETURNING a.call_id, input.mark, input.reason
  ), marked AS (
    UPDATE handler_calls c SET
      answered_at = CASE WHEN r.mark = 'answered' THEN ${UTC_NOW} ELSE c.answered_at END,
      -- a call whose handler failed keeps status failed; either way the portal now has its answer
      status = (CASE WHEN r.mark = 'answered' AND c.error IS NULL THEN 'answered' ELSE 'failed' END)::"CallStatus",
      error = CASE WHEN r.mark = 'answered' THEN c.error ELSE COALESCE(c.error || ' — ', '') || r.reason END
    FROM removed r
    WHERE c.id = r.call_id AND (r.mark = 'answered' OR (r.mark = 'undelivered' AND c.answered_at IS NULL))
  ), retried AS (
    UPDATE pending_answers a SET attempts = a.attempts + 1, last_error = input.reason,
      not_before = ${UTC_NOW} + input.delay_ms * interval '1 millisecond',
      in_flight_at = CASE WHEN input.clear_in_flight THEN NULL ELSE a.in_flight_at END
    FROM input WHERE a.id = input.id AND input.action = 'retry'
  )
  SELECT count(*) FROM removed`;

interface DueAnswer {
  id: bigint;
  callId: bigint | null;
  method: AnswerMethod;
  params: Record<string, unknown>;
  attempts: number;
  resent: boolean;
  /** when its call was stored (ms since the epoch), for the call → answer lag */
  receivedMs: number | null;
}

/** What becomes of one answer after a send: gone (with what that means for its call), or later. */
type Decision =
  | { id: bigint; action: 'delete'; mark: 'answered' | 'undelivered' | null; reason?: string }
  | { id: bigint; action: 'retry'; reason: string; delayMs: number; clearInFlight: boolean };

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
    private readonly deps: { sql: Sql; clients: PortalClients; logger: Logger; batchSize: number; budget?: RateBudget; leaseSeconds: number },
  ) {}

  /** Takes the answer lease of up to `max` portals with answers due; their ids. */
  async claimPortals(max: number): Promise<number[]> {
    const rows = await this.deps.sql.run<{ id: number }>('claim-answer-portals', CLAIM_PORTALS, [max, this.deps.leaseSeconds]);
    return rows.map((row) => row.id);
  }

  /**
   * Sends every due answer of a portal whose lease this process holds, up to batchSize (≤ 50)
   * a batch and BATCHES_IN_FLIGHT batches out at once, until none is left or the portal pushes
   * back; the lease is let go at the end. A batch is claimed while the one before it is out, so
   * a burst's answers are not paced by one round trip after another.
   */
  async flush(portalId: number): Promise<void> {
    const log = this.deps.logger.child({ portalId });
    const renew = setInterval(() => {
      this.deps.sql.run('renew-answer-lease', RENEW_LEASE, [portalId, this.deps.leaseSeconds]).catch(() => undefined);
    }, (this.deps.leaseSeconds * 1000) / 2);
    /** batches out, each with the ids of its answers; settles true when the portal took it */
    const out = new Map<Promise<boolean>, bigint[]>();
    let pushedBack = false;
    const sendOut = (due: DueAnswer[]) => {
      const sent: Promise<boolean> = this.send(portalId, due, log).finally(() => out.delete(sent));
      out.set(sent, due.map((a) => a.id));
      void sent.then(
        (ok) => (pushedBack ||= !ok),
        (error: unknown) => {
          // the outcomes were not recorded: the answers stay in flight and go out again at the next flush
          log.warn({ err: error, answers: due.length }, 'answer outcomes not recorded; sent again at the next flush');
          pushedBack = true;
        },
      );
    };
    try {
      for (;;) {
        if (pushedBack) {
          await Promise.allSettled(out.keys());
          await this.release(portalId);
          return;
        }
        const outIds = [...out.values()].flat();
        // With nothing out, a claim that finds nothing due lets the lease go in the same
        // statement. Decided before the claim: a batch that comes back while it runs leaves
        // nothing out after it, but that claim kept the lease, and the flush must go on to let it go.
        const lastLook = out.size === 0;
        let due = await this.claimDue(portalId, this.deps.batchSize, outIds, lastLook);
        if (due.length === 0) {
          if (lastLook) return;
          if (out.size > 0) await Promise.race(out.keys()).catch(() => undefined);
          continue;
        }
        if (due.length < this.deps.batchSize && this.deps.budget) {
          // A partial batch waits for the portal's budget to have room, and fills up meanwhile: a
          // busy portal's requests then each carry a full batch instead of a few answers. With
          // room at once (no wait: the budget sleeps 10 ms at least), nothing new came meanwhile.
          const asked = performance.now();
          await this.deps.budget.whenRoom(portalId);
          if (performance.now() - asked >= WAITED_MS) {
            due = due.concat(await this.claimDue(portalId, this.deps.batchSize - due.length, outIds.concat(due.map((a) => a.id)), false));
          }
        }
        const resent = due.filter((a) => a.resent).length;
        if (resent > 0) log.info({ answers: resent }, 'sending again answers whose earlier send has an unknown outcome');
        sendOut(due);
        if (out.size >= BATCHES_IN_FLIGHT) await Promise.race(out.keys()).catch(() => undefined);
      }
    } finally {
      clearInterval(renew);
    }
  }

  /** One batch out and its outcomes recorded; false when the portal pushed back (the rest waits for its backoff). */
  private async send(portalId: number, due: DueAnswer[], log: Logger): Promise<boolean> {
    let outcomes;
    try {
      const client = await this.deps.clients.forPortal(portalId);
      log.debug({ portal: client.portal.memberId, answers: due.length }, 'sending answers');
      outcomes = await client.batch(due.map((a) => [a.method, a.params]));
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      const retryable = error instanceof PortalUnavailableError || (error instanceof PortalCallError && error.transient) || !(error instanceof PortalCallError);
      // A refusal the portal answered (503, 429) means the batch was not processed.
      const answered = error instanceof PortalCallError && error.status >= 400;
      await this.record(
        due.map((answer): Decision =>
          !retryable || answer.attempts + 1 >= MAX_ATTEMPTS
            ? { id: answer.id, action: 'delete', mark: this.marksCall(answer) ? 'undelivered' : null, reason: `the answer could not be delivered: ${reason}` }
            : { id: answer.id, action: 'retry', reason: reason.slice(0, 1000), delayMs: backoffMs(answer.attempts + 1), clearInFlight: answered },
        ),
      );
      for (const answer of due) metrics.answerFailed(answer.method, !retryable || answer.attempts + 1 >= MAX_ATTEMPTS);
      log.warn({ reason, answers: due.length }, 'answers postponed');
      return false;
    }
    const decisions = due.map((answer, index): Decision => {
      const outcome = outcomes[index]!;
      if (outcome.ok) return { id: answer.id, action: 'delete', mark: this.marksCall(answer) ? 'answered' : null };
      const refusal = new PortalCallError(answer.method, outcome.error, outcome.description, 400);
      if (answer.resent && answer.method === 'bizproc.event.send' && outcome.error === WORKFLOW_GONE) {
        // Sent before with an unknown outcome, and the workflow has ended since: nothing waits
        // for this answer any more, and the first send most likely is what ended it.
        metrics.answerSent(answer.method, answer.receivedMs);
        log.info({ call: answer.callId?.toString() }, 'answer re-sent after an unknown outcome found its workflow ended: counted as delivered');
        return { id: answer.id, action: 'delete', mark: this.marksCall(answer) ? 'answered' : null };
      }
      metrics.answerFailed(answer.method, isFinalRefusal(refusal) || answer.attempts + 1 >= MAX_ATTEMPTS);
      if (isFinalRefusal(refusal) || answer.attempts + 1 >= MAX_ATTEMPTS) {
        log.warn({ call: answer.callId?.toString(), method: answer.method, error: outcome.error }, 'answer refused by the portal');
        return { id: answer.id, action: 'delete', mark: this.marksCall(answer) ? 'undelivered' : null, reason: `the portal refused the answer: ${outcome.error} ${outcome.description}`.trim() };
      }
      return { id: answer.id, action: 'retry', reason: `${outcome.error} ${outcome.description}`, delayMs: backoffMs(answer.attempts + 1), clearInFlight: true };
    });
    metrics.batchAnswered(due, outcomes);
    await this.record(decisions);
    return true;
  }

  private marksCall(answer: DueAnswer): boolean {
    return answer.method === 'bizproc.event.send' && answer.callId !== null;
  }

  private async claimDue(portalId: number, limit: number, exclude: bigint[], releaseIfNone: boolean): Promise<DueAnswer[]> {
    const rows = await this.deps.sql.run<{ id: string; call_id: string | null; method: AnswerMethod; params: Record<string, unknown>; attempts: number; resent: boolean; received_ms: number | null }>(
      'claim-due-answers',
      CLAIM_DUE,
      [portalId, limit, exclude.map(String), this.deps.leaseSeconds, releaseIfNone],
    );
    return rows.map((row) => ({
      id: BigInt(row.id),
      callId: row.call_id === null ? null : BigInt(row.call_id),
      method: row.method,
      params: row.params,
      attempts: row.attempts,
      resent: row.resent,
      receivedMs: row.received_ms,
    }));
  }

  private async release(portalId: number): Promise<void> {
    await this.deps.sql.run('release-answer-lease', `UPDATE portals SET answer_lease_until = NULL WHERE id = $1`, [portalId]);
  }

  private async record(decisions: Decision[]): Promise<void> {
    const input = decisions.map((d) =>
      d.action === 'delete'
        ? { id: String(d.id), action: d.action, mark: d.mark, reason: d.reason ?? null }
        : { id: String(d.id), action: d.action, reason: d.reason, delay_ms: d.delayMs, clear_in_flight: d.clearInFlight },
    );
    await this.deps.sql.run('record-answers', RECORD, [JSON.stringify(input)]);
  }
}

function backoffMs(attempt: number): number {
  return Math.min(60_000, 500 * 2 ** attempt);
}
