/**
 * Durable acknowledgement in one round trip: one SQL statement checks the portal (member id,
 * application token hash, installed), stores the call — the row is its own job in the run queue
 * (call-queue.ts): unfinished, due now, held by no one — and wakes the workers of every process
 * with a NOTIFY. The statement commits as a whole or not at all, so the handler endpoint answers
 * 200 only for a stored call. The same event_token twice is stored and run once.
 *
 * The statement runs on connections of its own (db/sql.ts, a named prepared statement): nothing
 * else in the process (robots, refreshes, pages) can starve the acknowledgement path. Calls that
 * arrive while every one of those connections is busy go out together in the next statement
 * (group-commit.ts): one commit, one WAL flush for all of them.
 * The portal check is in the statement itself, so a token changed or a portal uninstalled a
 * moment ago is seen at once by every process; there is no cache to go stale.
 */
import type { Logger } from 'pino';
import { openSql, type SqlDatabase } from '../db/sql.ts';
import { hashApplicationToken } from '../portals/application-token.ts';
import type { HandlerCallInput } from '../robots/handler-call.ts';
import { CALLS_CHANNEL } from './call-queue.ts';
import { groupCommit } from './group-commit.ts';

export type Intake =
  | { kind: 'stored'; callId: bigint; duplicate: boolean }
  /** no installed portal with that member id and application token: nothing was stored */
  | { kind: 'unverified' };

export interface CallIntake {
  accept(memberId: string, applicationToken: string, call: HandlerCallInput): Promise<Intake>;
  close(): Promise<void>;
}

interface Row {
  i: number;
  portal_id: number | null;
  call_id: string | bigint | null;
}

/**
 * Connections the acknowledgement path keeps for itself, per process: statements in flight at
 * once. A statement costs PostgreSQL about the same for 1 call as for 50, so fewer, fuller
 * statements acknowledge more (2026-11-25, 2 cores, `BENCH_ONLY=ack npm run bench`: 1 → 8,650-8,850
 * calls/s, 2 → 8,100, 4 → 6,850-7,050). Two, not one, so that a statement that waits (a lock, a
 * slow disk) does not stop every acknowledgement behind it.
 */
export const INTAKE_POOL_SIZE = 2;
/** Calls in one statement at most. */
const MAX_BATCH = 200;

/**
 * Rows are inserted in key order so two statements carrying the same event tokens cannot
 * deadlock. The NOTIFY's payload is unused: a notification means "calls are due".
 */
const ACCEPT_CALLS = `
    WITH input AS (
      SELECT x.*, p.id AS portal_id
      FROM jsonb_to_recordset($1::jsonb) AS x(i int, member_id text, token_hash text, code text, event_token text, workflow_id text,
             document_id text[], document_type text[], properties jsonb, use_subscription boolean, timeout_seconds int,
             auth_user_id int, deadline_at timestamptz)
      LEFT JOIN portals p ON p.member_id = x.member_id AND p.application_token_hash = x.token_hash AND p.state = 'installed'
    ), call AS (
      INSERT INTO handler_calls (portal_id, code, event_token, workflow_id, document_id, document_type, properties,
                                 use_subscription, timeout_seconds, auth_user_id, deadline_at)
      SELECT portal_id, code, event_token, workflow_id, document_id, document_type, properties,
             use_subscription, timeout_seconds, auth_user_id, deadline_at
      FROM input WHERE portal_id IS NOT NULL ORDER BY portal_id, event_token
      ON CONFLICT (portal_id, event_token) DO NOTHING
      RETURNING id, portal_id, event_token
    ), woken AS (
      SELECT pg_notify('${CALLS_CHANNEL}', '') FROM call LIMIT 1
    )
    SELECT input.i, input.portal_id, call.id AS call_id, (SELECT count(*) FROM woken) AS woken
    FROM input LEFT JOIN call ON call.portal_id = input.portal_id AND call.event_token = input.event_token`;

/**
 * The calls a statement did not insert because their event token was already stored: their ids.
 * Sent unnamed, so it is planned with the table's statistics of the moment. Prepared, PostgreSQL
 * kept the generic plan it made while handler_calls was empty, in which every index that starts
 * with portal_id looked as good as the (portal_id, event_token) one: it walked all of a portal's
 * calls for each lookup (17,800 rows filtered a call, measured with auto_explain, 2.5 ms each).
 * Looked up here, apart, only a resent call pays for it.
 */
const STORED_BEFORE_STATEMENT = `
  SELECT x.i, c.id AS call_id
  FROM unnest($1::int[], $2::int[], $3::text[]) AS x(i, portal_id, event_token)
  JOIN handler_calls c ON c.portal_id = x.portal_id AND c.event_token = x.event_token`;

interface Pending {
  memberId: string;
  tokenHash: string;
  call: HandlerCallInput;
}

/** `stored` hears of every statement that stored calls, so this process's own workers need not wait for the NOTIFY. */
export async function createCallIntake(db: SqlDatabase, logger: Logger, stored: () => void = () => {}): Promise<CallIntake> {
  const sql = openSql(db, { connections: INTAKE_POOL_SIZE, purpose: 'acknowledgement' }, logger);
  // Open the connections and prepare the statement on each now, not on the first calls.
  await Promise.all(Array.from({ length: INTAKE_POOL_SIZE }, () => sql.run('accept-calls', ACCEPT_CALLS, ['[]'])));

  /** Stores a batch in one statement. */
  async function store(batch: Pending[]): Promise<Intake[]> {
    const input = batch.map(({ memberId, tokenHash, call }, i) => ({
      i,
      member_id: memberId,
      token_hash: tokenHash,
      code: call.code,
      event_token: call.eventToken,
      workflow_id: call.workflowId,
      document_id: call.documentId,
      document_type: call.documentType ?? [],
      properties: call.properties,
      use_subscription: call.useSubscription,
      timeout_seconds: call.timeoutSeconds,
      auth_user_id: call.authUserId,
      // The workflow stops waiting timeout_duration seconds after the portal queued the call.
      deadline_at: call.timeoutSeconds > 0 ? new Date(((call.queuedAt ?? Date.now() / 1000) + call.timeoutSeconds) * 1000).toISOString() : null,
    }));
    const rows = await sql.run<Row>('accept-calls', ACCEPT_CALLS, [JSON.stringify(input)]);
    const results: Intake[] = new Array(batch.length);
    const resent: Row[] = [];
    for (const row of rows) {
      if (row.portal_id === null) results[row.i] = { kind: 'unverified' };
      else if (row.call_id !== null) results[row.i] = { kind: 'stored', callId: BigInt(row.call_id), duplicate: false };
      else resent.push(row);
    }
    if (rows.some((row) => row.call_id !== null)) stored();
    if (resent.length > 0) {
      // Stored already: by an earlier statement, by one that committed after this one's
      // snapshot, or earlier in this very batch. Committed now, each is found.
      const found = await sql.run<Row>(null, STORED_BEFORE_STATEMENT, [resent.map((r) => r.i), resent.map((r) => r.portal_id), resent.map((r) => batch[r.i]!.call.eventToken)]);
      const ids = new Map(found.map((row) => [row.i, row.call_id]));
      for (const row of resent) {
        const id = ids.get(row.i);
        if (id == null) throw new Error('the call was neither stored nor found');
        results[row.i] = { kind: 'stored', callId: BigInt(id), duplicate: true };
      }
    }
    return results;
  }

  const statements = groupCommit({ concurrency: INTAKE_POOL_SIZE, maxBatch: MAX_BATCH, run: store });
  return {
    accept: (memberId, applicationToken, call) => statements.submit({ memberId, tokenHash: hashApplicationToken(applicationToken), call }),
    close: () => sql.close(),
  };
}
