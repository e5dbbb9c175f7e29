/**
 * The workers of one process: robot calls and answer flushes, taken from the shared queue.
 *
 * Robot calls run in `callConcurrency` slots, each on its own: whenever slots are free, one fetch
 * takes that many jobs, and a slot is refilled the moment its call ends, so a slow call never
 * holds up the others (a fetched batch run side by side would wait for its slowest call). A
 * portal's calls carry the portal as their pg-boss group (intake.ts) and no portal has more than
 * `perPortalCalls` running at once across all processes, so a portal whose REST hangs cannot take
 * every slot. Idle slots look for work when pg-boss's NOTIFY says a job was queued (the intake
 * sends it), and every POLL_MS in case a notification was missed.
 */
import type { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import type { JobWithMetadata, PgBoss } from 'pg-boss';
import type { Logger } from 'pino';
import { servingHandlerCall } from '../portals/rest-journal.ts';
import type { AnswerSender } from './answers.ts';
import type { Executor } from './executor.ts';
import { BOSS_CHANNEL, QUEUES } from './queue.ts';

export interface WorkerSettings {
  /** robot calls run at once in this process */
  callConcurrency: number;
  /** robot calls of one portal run at once, across every process */
  perPortalCalls: number;
  /** portals whose answers are flushed at once in this process */
  answerConcurrency: number;
  /** seconds between heartbeats the calls queue expects (queue.ts) */
  heartbeatSeconds: number;
}

type Db = { kind: 'postgres' | 'embedded'; connectionString?: string; pglite?: PGlite };

const POLL_MS = 1000;


export async function startWorkers(
  boss: PgBoss,
  db: Db,
  executor: Executor,
  answers: AnswerSender,
  settings: WorkerSettings,
  logger: Logger,
): Promise<() => Promise<void>> {
  const calls = new CallSlots(boss, executor, settings, logger);
  const stopListening = await listen(db, logger, (queue) => {
    if (queue === QUEUES.calls) calls.wake();
  });
  calls.start();
  await boss.work<{ portalId: number }>(
    QUEUES.answers,
    { localConcurrency: settings.answerConcurrency, pollingIntervalSeconds: 0.5, notifyPollingIntervalSeconds: 0.5 },
    async ([job]) => {
      if (job) await answers.flush(job.data.portalId);
    },
  );
  return async () => {
    await stopListening();
    await calls.stop();
    await boss.offWork(QUEUES.answers);
  };
}

class CallSlots {
  private running = 0;
  private stopped = false;
  private loop: Promise<void> | null = null;
  private nudge: (() => void) | null = null;
  /** a wake that came while the loop was fetching: look again before waiting */
  private woken = false;
  private readonly inFlight = new Set<Promise<unknown>>();

  constructor(
    private readonly boss: PgBoss,
    private readonly executor: Executor,
    private readonly settings: WorkerSettings,
    private readonly logger: Logger,
  ) {}

  start(): void {
    this.loop = this.run();
  }

  /** Free slots look for work now. */
  wake(): void {
    this.woken = true;
    this.nudge?.();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.wake();
    await this.loop;
    await Promise.allSettled([...this.inFlight]);
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      this.woken = false;
      const free = this.settings.callConcurrency - this.running;
      let fetched: Array<JobWithMetadata<{ callId: string }>> = [];
      if (free > 0) {
        try {
          fetched = await this.boss.fetch<{ callId: string }>(QUEUES.calls, {
            batchSize: free,
            includeMetadata: true,
            groupConcurrency: this.settings.perPortalCalls,
          });
        } catch (error) {
          this.logger.warn({ err: error }, 'robot calls could not be fetched; trying again');
        }
        for (const job of fetched) this.runOne(job);
      }
      // A full fetch may have left more, and a wake meanwhile (a job queued, a slot freed) means
      // look again; otherwise wait for the next wake.
      if ((fetched.length > 0 && fetched.length === free) || this.woken) continue;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, POLL_MS);
        this.nudge = () => {
          clearTimeout(timer);
          this.nudge = null;
          resolve();
        };
      });
    }
  }

  private runOne(job: JobWithMetadata<{ callId: string }>): void {
    this.running += 1;
    const attempt = { id: job.id, retryCount: job.retryCount };
    // Proof of life for the queue's heartbeat: a process that dies stops it, and the job runs elsewhere.
    const heartbeat = setInterval(() => {
      this.boss.touch(QUEUES.calls, [attempt]).catch(() => undefined);
    }, (this.settings.heartbeatSeconds * 1000) / 2);
    const callId = BigInt(job.data.callId);
    // The REST journal names the call each of its requests served.
    const done: Promise<unknown> = servingHandlerCall(callId, () => this.executor.execute({ callId, retryCount: job.retryCount, retryLimit: job.retryLimit }))
      .then(
        () => this.boss.complete(QUEUES.calls, [attempt]),
        // A throw is a transient failure: pg-boss retries this one job with backoff.
        (error: Error) => this.boss.fail(QUEUES.calls, [attempt], { message: error.message }),
      )
      .catch((error) => this.logger.warn({ err: error, job: job.id }, 'robot call outcome not recorded in the queue; it will run again'))
      .finally(() => {
        clearInterval(heartbeat);
        this.running -= 1;
        this.inFlight.delete(done);
        this.wake();
      });
    this.inFlight.add(done);
  }
}

/** LISTENs on pg-boss's channel; calls `onQueue` with the queue named by each notification. */
async function listen(db: Db, logger: Logger, onQueue: (queue: string) => void): Promise<() => Promise<void>> {
  if (db.kind === 'embedded') {
    return db.pglite!.listen(BOSS_CHANNEL, onQueue);
  }
  let client: pg.Client | null = null;
  let stopped = false;
  const connect = async (): Promise<void> => {
    if (stopped) return;
    const next = new pg.Client({ connectionString: db.connectionString });
    next.on('notification', (message) => onQueue(message.payload ?? ''));
    next.on('error', (error) => {
      logger.warn({ err: error }, 'job notifications lost; polling until they are back');
      next.end().catch(() => undefined);
      if (client === next) client = null;
      setTimeout(() => void connect().catch(() => undefined), POLL_MS);
    });
    try {
      await next.connect();
      await next.query(`LISTEN ${BOSS_CHANNEL}`);
      client = next;
    } catch {
      next.end().catch(() => undefined);
      setTimeout(() => void connect().catch(() => undefined), POLL_MS);
    }
  };
  await connect();
  return async () => {
    stopped = true;
    await client?.end().catch(() => undefined);
  };
}

