/**
 * The job queue: pg-boss on the same PostgreSQL (or embedded PGlite) as everything else, so a
 * call row and its job commit in one transaction and any process can pick up any job.
 */
import type { PGlite } from '@electric-sql/pglite';
import { PgBoss, fromPglite, fromPrisma } from 'pg-boss';
import type { Logger } from 'pino';

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
      ? new PgBoss({ db: fromPglite(db.pglite!), schema: 'pgboss', useListenNotify: true, ...RECOVERY })
      : new PgBoss({ connectionString: db.connectionString!, schema: 'pgboss', max: 4, useListenNotify: true, ...RECOVERY });
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
