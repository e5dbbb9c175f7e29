/**
 * Durable acknowledgement in one round trip: one SQL statement checks the portal (member id,
 * application token hash, installed), stores the call and inserts its pg-boss job — the row
 * pg-boss's own send() would insert, so any process's pg-boss worker fetches it — and wakes the
 * workers with the NOTIFY pg-boss would send. The statement commits as a whole or not at all, so
 * the handler endpoint answers 200 only for a call stored with its job. The same event_token twice
 * is stored and run once.
 *
 * The statement runs on connections of its own (a small pg.Pool, a named prepared statement):
 * nothing else in the process (robots, refreshes, pages) can starve the acknowledgement path.
 * Calls that arrive while every one of those connections is busy go out together in the next
 * statement (group commit): one commit, one WAL flush for all of them, and each is answered once
 * that commit is done. At low load a call goes out at once, alone. A statement that fails is
 * tried again call by call, so one unstorable call never refuses its neighbours.
 * The portal check is in the statement itself, so a token changed or a portal uninstalled a
 * moment ago is seen at once by every process; there is no cache to go stale.
 */
import type { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import type { Logger } from 'pino';
import { hashApplicationToken } from '../portals/application-token.ts';
import type { HandlerCallInput } from '../robots/handler-call.ts';
import { BOSS_CHANNEL_SQL, QUEUES, jobInsertSql, queueTable } from './queue.ts';

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

/** `name` prepares the statement once per connection; null sends it unnamed, planned at each run. */
type Run = <T extends object>(name: string | null, text: string, values: unknown[]) => Promise<T[]>;


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

function acceptStatement(jobTable: string): string {
  // The job columns and values are those pg-boss's plans.insertJobs fills for a send() with
  // { group: { id: portal } }: everything else from the queue's own settings, runnable now. The
  // group lets the workers cap the calls of one portal running at once (workers.ts). Rows are inserted in key
  // order so two statements carrying the same event tokens cannot deadlock.
  return `
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
    ), job AS (${jobInsertSql(jobTable, { source: 'call', data: `jsonb_build_object('callId', call.id::text)`, queueParam: '$2', groupId: 'call.portal_id::text' })}
    ), woken AS (
      SELECT pg_notify(${BOSS_CHANNEL_SQL}, $2) FROM job LIMIT 1
    )
    SELECT input.i, input.portal_id, call.id AS call_id, (SELECT count(*) FROM woken) AS woken
    FROM input LEFT JOIN call ON call.portal_id = input.portal_id AND call.event_token = input.event_token`;
}

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
  settle: { resolve: (intake: Intake) => void; reject: (error: unknown) => void };
}

export async function createCallIntake(db: { kind: 'postgres' | 'embedded'; connectionString?: string; pglite?: PGlite }, logger: Logger): Promise<CallIntake> {
  let run: Run;
  let close: () => Promise<void>;
  if (db.kind === 'embedded') {
    const pglite = db.pglite!;
    run = async <T extends object>(_name: string | null, text: string, values: unknown[]) => (await pglite.query<T>(text, values)).rows;
    close = async () => {};
  } else {
    const pool = new pg.Pool({
      connectionString: db.connectionString,
      max: INTAKE_POOL_SIZE,
      // PostgreSQL unreachable: refuse quickly (503 NOT_STORED) instead of piling calls up.
      connectionTimeoutMillis: 2_000,
      idleTimeoutMillis: 0,
    });
    // An idle connection dropped by the server (an outage) must not crash the process.
    pool.on('error', (error) => logger.warn({ err: error }, 'acknowledgement connection lost; reconnecting on demand'));
    run = async <T extends object>(name: string | null, text: string, values: unknown[]) =>
      (await pool.query<T & pg.QueryResultRow>(name ? { name, text, values } : { text, values })).rows;
    close = () => pool.end();
  }
  const statement = acceptStatement(await queueTable((sql, queue) => run('queue-table', sql, [queue]), QUEUES.calls));
  // Open the connections and prepare the statement on each now, not on the first calls.
  await Promise.all(Array.from({ length: INTAKE_POOL_SIZE }, () => run('accept-calls', statement, ['[]', QUEUES.calls])));

  const waiting: Pending[] = [];
  let inFlight = 0;

  /** Stores a batch in one statement; every call of it is settled. */
  async function store(batch: Pending[]): Promise<void> {
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
    let rows: Row[];
    try {
      rows = await run<Row>('accept-calls', statement, [JSON.stringify(input), QUEUES.calls]);
    } catch (error) {
      if (batch.length === 1) return batch[0]!.settle.reject(error);
      // One call PostgreSQL will not take must not refuse the others: each on its own.
      await Promise.all(batch.map((pending) => store([pending])));
      return;
    }
    const resent: Row[] = [];
    for (const row of rows) {
      const { settle } = batch[row.i]!;
      if (row.portal_id === null) settle.resolve({ kind: 'unverified' });
      else if (row.call_id !== null) settle.resolve({ kind: 'stored', callId: BigInt(row.call_id), duplicate: false });
      else resent.push(row);
    }
    if (resent.length > 0) await settleResent(batch, resent);
  }

  /**
   * Calls whose event token was stored already: by an earlier statement, by one that committed
   * after this one's snapshot, or earlier in this very batch. Committed now, each is found.
   */
  async function settleResent(batch: Pending[], resent: Row[]): Promise<void> {
    let found: Row[];
    try {
      found = await run<Row>(null, STORED_BEFORE_STATEMENT, [resent.map((r) => r.i), resent.map((r) => r.portal_id), resent.map((r) => batch[r.i]!.call.eventToken)]);
    } catch (error) {
      for (const row of resent) batch[row.i]!.settle.reject(error);
      return;
    }
    const ids = new Map(found.map((row) => [row.i, row.call_id]));
    for (const row of resent) {
      const id = ids.get(row.i);
      const { settle } = batch[row.i]!;
      if (id == null) settle.reject(new Error('the call was neither stored nor found'));
      else settle.resolve({ kind: 'stored', callId: BigInt(id), duplicate: true });
    }
  }

  function pump(): void {
    while (inFlight < INTAKE_POOL_SIZE && waiting.length > 0) {
      const batch = waiting.splice(0, MAX_BATCH);
      inFlight += 1;
      void store(batch).finally(() => {
        inFlight -= 1;
        pump();
      });
    }
  }

  return {
    accept(memberId, applicationToken, call) {
      return new Promise<Intake>((resolve, reject) => {
        waiting.push({ memberId, tokenHash: hashApplicationToken(applicationToken), call, settle: { resolve, reject } });
        pump();
      });
    },
    close,
  };
}
