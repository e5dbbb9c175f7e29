/**
 * The job queue: pg-boss on the same PostgreSQL (or embedded PGlite) as everything else, so a
 * call row and its job commit in one transaction and any process can pick up any job.
 */
import { createHash } from 'node:crypto';
import type { PGlite } from '@electric-sql/pglite';
import { PgBoss, fromPglite, fromPrisma } from 'pg-boss';
import type { Logger } from 'pino';

/** The schema pg-boss keeps its tables in. */
const BOSS_SCHEMA = 'pgboss';

export const QUEUES = {
  /** one job per robot call: run the handler */
  calls: 'robot-calls',
  /** one job per portal with answers waiting: send them in batches */
  answers: 'portal-answers',
} as const;

export interface QueueSettings {
  /** how often a transient failure is retried before the call is answered with an error */
  callRetryLimit: number;
  /** a worker that stops heart-beating this long is presumed dead; its job runs again */
  heartbeatSeconds: number;
}

/** How soon a job of a process that died (no heartbeat) is noticed and run elsewhere. */
const RECOVERY = { superviseIntervalSeconds: 5, monitorIntervalSeconds: 5 };

export const DEFAULT_QUEUE_SETTINGS: QueueSettings = { callRetryLimit: 6, heartbeatSeconds: 10 };

export async function startQueue(
  db: { kind: 'postgres' | 'embedded'; connectionString?: string; pglite?: PGlite },
  logger: Logger,
  settings: QueueSettings = DEFAULT_QUEUE_SETTINGS,
): Promise<PgBoss> {
  const boss =
    db.kind === 'embedded'
      ? new PgBoss({ db: fromPglite(db.pglite!), schema: BOSS_SCHEMA, useListenNotify: true, ...RECOVERY })
      : new PgBoss({ connectionString: db.connectionString!, schema: BOSS_SCHEMA, max: 4, useListenNotify: true, ...RECOVERY });
  boss.on('error', (error: Error) => logger.error({ err: error }, 'job queue error'));
  await boss.start();
  await boss.createQueue(QUEUES.calls, {
    retryLimit: settings.callRetryLimit,
    retryDelay: 1,
    retryBackoff: true,
    retryDelayMax: 60,
    expireInSeconds: 15 * 60,
    heartbeatSeconds: settings.heartbeatSeconds,
    notify: true,
  });
  await boss.createQueue(QUEUES.answers, {
    policy: 'stately',
    retryLimit: 1000,
    retryDelay: 1,
    retryBackoff: true,
    retryDelayMax: 60,
    expireInSeconds: 5 * 60,
    heartbeatSeconds: settings.heartbeatSeconds,
    notify: true,
  });
  return boss;
}

/** A pg-boss `db` that runs inside a Prisma interactive transaction. */
export { fromPrisma };

/** pg-boss's NOTIFY channel for its schema (plans.notifyChannelSql): our workers LISTEN on it. */
export const BOSS_CHANNEL = `pgboss_${createHash('sha224').update(BOSS_SCHEMA).digest('hex').slice(0, 24)}`;
/** The same channel as an SQL literal, for statements that NOTIFY it. */
export const BOSS_CHANNEL_SQL = `'${BOSS_CHANNEL}'`;

/**
 * SQL that inserts one job per row of `source` — the row pg-boss's own send() would insert
 * (plans.insertJobs), everything else from the queue's settings, runnable now — inside a caller's
 * statement, so the job commits with whatever that statement stores. `queueParam` is the
 * parameter holding the queue's name. With a singleton key, ON CONFLICT DO NOTHING, as pg-boss: a
 * singleton (stately) queue already holding a job for the key keeps that one.
 */
export function jobInsertSql(jobTable: string, job: { source: string; data: string; queueParam: string; groupId?: string; singletonKey?: string }): string {
  return `
      INSERT INTO ${BOSS_SCHEMA}.${jobTable} (id, name, data, priority, start_after, created_on, expire_seconds, deletion_seconds,
                                 keep_until, retry_limit, retry_delay, retry_backoff, retry_delay_max, policy, dead_letter,
                                 heartbeat_seconds, blocked, blocking, pending_dependencies, group_id, singleton_key)
      SELECT gen_random_uuid(), q.name, ${job.data}, 0, ${BOSS_SCHEMA}.job_now(), ${BOSS_SCHEMA}.job_now(),
             q.expire_seconds, q.deletion_seconds, ${BOSS_SCHEMA}.job_now() + q.retention_seconds * interval '1s',
             q.retry_limit, q.retry_delay, q.retry_backoff, q.retry_delay_max, q.policy, q.dead_letter,
             q.heartbeat_seconds, false, false, 0, ${job.groupId ?? 'NULL'}, ${job.singletonKey ?? 'NULL'}
      FROM ${job.source} JOIN ${BOSS_SCHEMA}.queue q ON q.name = ${job.queueParam}
      ${job.singletonKey ? 'ON CONFLICT DO NOTHING' : ''}
      RETURNING id`;
}

/** The table pg-boss keeps a queue's jobs in (its own partition, unless the queue is unpartitioned). */
export async function queueTable(query: (sql: string, queue: string) => Promise<Array<{ table_name: string }>>, queue: string): Promise<string> {
  const [row] = await query(`SELECT table_name FROM ${BOSS_SCHEMA}.queue WHERE name = $1`, queue);
  const table = row?.table_name;
  if (!table || !/^[a-z_][a-z0-9_]*$/.test(table)) throw new Error(`pg-boss queue "${queue}" has no usable job table (${table ?? 'none'})`);
  return table;
}
