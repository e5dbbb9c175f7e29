/**
 * pg-boss on the same PostgreSQL (or embedded PGlite) as everything else, for what is neither
 * hot nor per call: schedules (journal-prune.ts). Robot calls and answers have a queue of their
 * own, in plain SQL (call-queue.ts, answers.ts): measured on 2 cores (`npm run bench`, 300
 * workflows at once), pg-boss's job per call cost about six commits a call — insert, fetch,
 * complete, and the same again for the answer's flush job — and kept completions at 270–430/s.
 */
import type { PGlite } from '@electric-sql/pglite';
import { PgBoss, fromPglite } from 'pg-boss';
import type { Logger } from 'pino';

/** The schema pg-boss keeps its tables in. */
const BOSS_SCHEMA = 'pgboss';

export interface QueueSettings {
  /** how often a transient failure is retried before the call is answered with an error */
  callRetryLimit: number;
  /** a worker that stops heart-beating this long is presumed dead; its work runs again */
  heartbeatSeconds: number;
}

export const DEFAULT_QUEUE_SETTINGS: QueueSettings = { callRetryLimit: 6, heartbeatSeconds: 10 };

export async function startQueue(db: { kind: 'postgres' | 'embedded'; connectionString?: string; pglite?: PGlite }, logger: Logger): Promise<PgBoss> {
  const boss =
    db.kind === 'embedded'
      ? new PgBoss({ db: fromPglite(db.pglite!), schema: BOSS_SCHEMA })
      : new PgBoss({ connectionString: db.connectionString!, schema: BOSS_SCHEMA, max: 2 });
  boss.on('error', (error: Error) => logger.error({ err: error }, 'job queue error'));
  await boss.start();
  return boss;
}

