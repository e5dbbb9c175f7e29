/**
 * The run queue: every stored call is its own job. A call runs while it is unfinished
 * (`finished_at IS NULL`), due (`run_after` has passed) and held by no one (`lease_until` empty
 * or lapsed); a small partial index holds exactly the unfinished calls, however large
 * handler_calls grows. Any process takes any call (SKIP LOCKED). One statement per operation,
 * each a named prepared statement on the queue's own connections (db/sql.ts):
 *
 * - claim: up to N due calls, oldest first, none of a portal that already has `perPortal` calls
 *   running across all processes; takes their lease, marks them running, returns them with
 *   what running needs of their portal.
 * - renew: one heartbeat for every call this process runs; a process that dies stops renewing,
 *   and its calls are taken again by whoever looks next once their lease lapses.
 * - retry later: a transient failure lets the call go, due again after a backoff.
 * - finish: the outcome, the answer to send (pending_answers), the lease released — once: a
 *   call already finished changes nothing. Finishes that arrive together share one statement.
 *
 * The per-portal cap is read in the claiming statement's snapshot, so two processes claiming at
 * the same moment may run a call or two over it for a while; it bounds what a hanging portal
 * holds, it is not a lock.
 */
import type { Logger } from 'pino';
import { openSql, type Sql, type SqlDatabase } from '../db/sql.ts';
import { groupCommit, type GroupCommit } from './group-commit.ts';

/** NOTIFY channel of stored calls: the workers of every process LISTEN on it (workers.ts). */
export const CALLS_CHANNEL = 'b24_calls_due';

export interface ClaimedCall {
  id: bigint;
  portalId: number;
  code: string;
  eventToken: string;
  workflowId: string;
  documentId: string[];
  documentType: string[];
  properties: unknown;
  useSubscription: boolean;
  timeoutSeconds: number;
  authUserId: number | null;
  deadlineAt: Date | null;
  /** runs of this call so far, this one included */
  attempts: number;
  portal: { memberId: string; languageId: string };
}

export type CallStatus = 'running' | 'answered' | 'failed' | 'timed_out';

export interface Finish {
  callId: bigint;
  status: CallStatus;
  error: string | null;
  returnValues: Record<string, unknown> | null;
  /** bizproc.event.send parameters, when the workflow waits for the answer */
  answer: Record<string, unknown> | null;
}

/**
 * The claiming CTEs, ending in `claimed_json` (the claimed calls with their portal's fields, as
 * JSON). Parameters: at most `max` calls, `perPortal` running a portal, `scan` candidates looked
 * at (calls of portals at their cap are passed over), a lease of `lease` seconds. `finishing`
 * names the calls this same statement finishes: they no longer count as running.
 */
function claimCtes(p: { max: string; perPortal: string; scan: string; lease: string; finishing?: string }): string {
  return `
  running AS (
    SELECT portal_id, count(*) AS n FROM handler_calls
    WHERE finished_at IS NULL AND lease_until > now() ${p.finishing ? `AND id NOT IN (SELECT id FROM ${p.finishing})` : ''}
    GROUP BY portal_id
  ), candidate AS (
    SELECT id, portal_id FROM handler_calls
    WHERE finished_at IS NULL AND run_after <= now() AND (lease_until IS NULL OR lease_until <= now())
      AND portal_id NOT IN (SELECT portal_id FROM running WHERE n >= ${p.perPortal})
    ORDER BY id
    LIMIT ${p.scan}
    FOR NO KEY UPDATE SKIP LOCKED
  ), chosen AS (
    SELECT c.id FROM (SELECT id, portal_id, row_number() OVER (PARTITION BY portal_id ORDER BY id) AS rank FROM candidate) c
    LEFT JOIN running r ON r.portal_id = c.portal_id
    WHERE c.rank + COALESCE(r.n, 0) <= ${p.perPortal}
    ORDER BY c.id
    LIMIT ${p.max}
  ), claimed AS (
    UPDATE handler_calls h
    SET lease_until = now() + ${p.lease} * interval '1 second', status = 'running', attempts = h.attempts + 1,
        started_at = COALESCE(h.started_at, now() AT TIME ZONE 'UTC')
    FROM chosen WHERE h.id = chosen.id
    RETURNING h.id::text AS id, h.portal_id, h.code, h.event_token, h.workflow_id, h.document_id, h.document_type, h.properties,
              h.use_subscription, h.timeout_seconds, h.auth_user_id, h.deadline_at AT TIME ZONE 'UTC' AS deadline_at, h.attempts
  ), claimed_json AS (
    SELECT COALESCE(json_agg(c ORDER BY c.id), '[]') AS calls
    FROM (SELECT claimed.*, p.member_id, p.language_id FROM claimed JOIN portals p ON p.id = claimed.portal_id) c
  )`;
}

const CLAIM = `WITH ${claimCtes({ max: '$1', perPortal: '$2', scan: '$3', lease: '$4' })}
  SELECT calls FROM claimed_json`;

const RENEW = `UPDATE handler_calls SET lease_until = now() + $2 * interval '1 second' WHERE id = ANY($1::bigint[]) AND finished_at IS NULL`;

const RETRY_LATER = `
  UPDATE handler_calls SET error = $2, lease_until = NULL, run_after = now() + $3 * interval '1 second'
  WHERE id = $1 AND finished_at IS NULL`;

/**
 * Finishes a batch and, in the same statement, claims as many calls as the batch frees slots
 * ($2): under load a slot's next call comes with its last one's finish, no claim of its own.
 * `finished_at` and the other timestamps Prisma maps are UTC wall-clock `timestamp` columns.
 */
const FINISH_AND_CLAIM = `
  WITH input AS (
    SELECT * FROM jsonb_to_recordset($1::jsonb) AS x(i int, id bigint, status text, error text, return_values jsonb, answer jsonb)
  ), finished AS (
    UPDATE handler_calls c
    SET finished_at = now() AT TIME ZONE 'UTC', error = input.error, return_values = COALESCE(input.return_values, c.return_values),
        status = input.status::"CallStatus", lease_until = NULL
    FROM input WHERE c.id = input.id AND c.finished_at IS NULL
    RETURNING c.id, c.portal_id, input.i, input.answer
  ), answer AS (
    INSERT INTO pending_answers (portal_id, call_id, method, params)
    SELECT portal_id, id, 'bizproc.event.send', answer FROM finished WHERE answer IS NOT NULL ORDER BY id
  ), ${claimCtes({ max: '$2', perPortal: '$3', scan: '$4', lease: '$5', finishing: 'input' })}
  SELECT (SELECT COALESCE(json_agg(json_build_object('i', i, 'answered_portal', CASE WHEN answer IS NOT NULL THEN portal_id END)), '[]') FROM finished) AS finished,
         (SELECT calls FROM claimed_json) AS calls`;

const RELEASE = `UPDATE handler_calls SET lease_until = NULL WHERE id = ANY($1::bigint[]) AND finished_at IS NULL`;

const MAX_BATCH = 100;

export interface CallQueueSettings {
  /** seconds a claimed call stays this process's without a heartbeat */
  leaseSeconds: number;
  /** the queue's own connections, per process (claims, heartbeats, finishes, answers) */
  connections: number;
  /** calls of one portal running at once, across every process */
  perPortalCalls: number;
}

export class CallQueue {
  private readonly finishes: GroupCommit<Finish, boolean>;
  private readonly answerListeners = new Set<(portalIds: number[]) => void>();
  /** claimed with a finish, for the slot that finish frees: leased to this process, not yet running */
  private handoff: ClaimedCall[] = [];

  private constructor(
    private readonly sql: Sql,
    private readonly settings: CallQueueSettings,
  ) {
    // One finish statement in flight at a time: the finishes that end meanwhile all go in the
    // next one (measured with 300 workflows at once and 8 slots: one statement per call with three in flight).
    this.finishes = groupCommit({ concurrency: 1, maxBatch: MAX_BATCH, run: (batch) => this.finishBatch(batch) });
  }

  static open(db: SqlDatabase, settings: CallQueueSettings, logger: Logger): CallQueue {
    return new CallQueue(openSql(db, { connections: settings.connections, purpose: 'run queue' }, logger), settings);
  }

  /** The connections, for the answers' own statements (answers.ts). */
  get connection(): Sql {
    return this.sql;
  }

  /** Up to `max` calls to run now: those handed over by finishes first, then from the table. */
  async claim(max: number): Promise<ClaimedCall[]> {
    const taken = this.handoff.splice(0, max);
    if (taken.length === max) return taken;
    const want = max - taken.length;
    const [row] = await this.sql.run<{ calls: ClaimRow[] }>('claim-calls', CLAIM, [want, this.settings.perPortalCalls, scanFor(want), this.settings.leaseSeconds]);
    return taken.concat(row!.calls.map(toClaimed));
  }

  /** Heartbeat for the calls this process runs, and those handed to it. */
  async renew(running: bigint[]): Promise<void> {
    const ids = running.concat(this.handoff.map((call) => call.id));
    if (ids.length > 0) await this.sql.run('renew-calls', RENEW, [ids.map(String), this.settings.leaseSeconds]);
  }

  async retryLater(callId: bigint, error: string, delaySeconds: number): Promise<void> {
    await this.sql.run('retry-call', RETRY_LATER, [String(callId), error, delaySeconds]);
  }

  /**
   * Records the outcome and queues its answer; false when the call had been finished already.
   * Called from a slot that is about to be free: the statement claims its next call too.
   */
  async finish(finish: Finish): Promise<boolean> {
    return this.finishes.submit(finish);
  }

  /** Lets go of calls claimed for slots that will not run them (the workers stop). */
  async releaseHandoff(): Promise<void> {
    const ids = this.handoff.splice(0).map((call) => String(call.id));
    if (ids.length > 0) await this.sql.run('release-calls', RELEASE, [ids]);
  }

  /** `listener` hears the portals whenever answers were queued for them in this process (the answer workers wake). */
  onAnswersQueued(listener: (portalIds: number[]) => void): () => void {
    this.answerListeners.add(listener);
    return () => this.answerListeners.delete(listener);
  }

  answersQueued(portalIds: number[]): void {
    for (const listener of this.answerListeners) listener(portalIds);
  }

  close(): Promise<void> {
    return this.sql.close();
  }

  private async finishBatch(batch: Finish[]): Promise<boolean[]> {
    const input = batch.map((f, i) => ({ i, id: String(f.callId), status: f.status, error: f.error, return_values: f.returnValues, answer: f.answer }));
    // No more handed over than slots will be free (the ones waiting already count).
    const claim = Math.max(0, batch.length - this.handoff.length);
    const [row] = await this.sql.run<{ finished: Array<{ i: number; answered_portal: number | null }>; calls: ClaimRow[] }>('finish-calls', FINISH_AND_CLAIM, [
      JSON.stringify(input),
      claim,
      this.settings.perPortalCalls,
      scanFor(claim),
      this.settings.leaseSeconds,
    ]);
    this.handoff.push(...row!.calls.map(toClaimed));
    const finished = new Array<boolean>(batch.length).fill(false);
    for (const done of row!.finished) finished[done.i] = true;
    const portals = new Set(row!.finished.flatMap((done) => (done.answered_portal === null ? [] : [done.answered_portal])));
    if (portals.size > 0) this.answersQueued([...portals]);
    return finished;
  }
}

/** Candidates looked at for `want` calls: a few more, as calls of portals at their cap are passed over. */
function scanFor(want: number): number {
  return Math.max(4 * want, 32);
}

interface ClaimRow {
  id: string;
  portal_id: number;
  code: string;
  event_token: string;
  workflow_id: string;
  document_id: string[];
  document_type: string[];
  properties: unknown;
  use_subscription: boolean;
  timeout_seconds: number;
  auth_user_id: number | null;
  /** JSON: an ISO string */
  deadline_at: string | null;
  attempts: number;
  member_id: string;
  language_id: string;
}

function toClaimed(row: ClaimRow): ClaimedCall {
  return {
    id: BigInt(row.id),
    portalId: row.portal_id,
    code: row.code,
    eventToken: row.event_token,
    workflowId: row.workflow_id,
    documentId: row.document_id,
    documentType: row.document_type,
    properties: row.properties,
    useSubscription: row.use_subscription,
    timeoutSeconds: row.timeout_seconds,
    authUserId: row.auth_user_id,
    deadlineAt: row.deadline_at === null ? null : new Date(row.deadline_at),
    attempts: row.attempts,
    portal: { memberId: row.member_id, languageId: row.language_id },
  };
}
