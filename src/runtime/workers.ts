/**
 * The workers of one process: robot calls and answer flushes, taken from the shared queue
 * (call-queue.ts, answers.ts).
 *
 * Robot calls run in `callConcurrency` slots, each on its own: whenever slots are free, one
 * claim takes that many calls, and a slot is refilled the moment its call ends, so a slow call
 * never holds up the others (a batch run side by side would wait for its slowest call). No portal
 * has more than `perPortalCalls` calls running at once across all processes, so a portal whose
 * REST hangs cannot take every slot. One heartbeat renews the lease of every call the process
 * runs. Idle slots look for work when a call is stored — in this process (the intake says so) or
 * another (its NOTIFY) — and every POLL_MS in case a notification was missed or a retry fell due.
 *
 * Answers go out in `answerConcurrency` portal flushes at once, looked for whenever a call of
 * this process queued an answer, whenever a flush ends, and every ANSWER_POLL_MS.
 */
import type { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import type { Logger } from 'pino';
import { servingHandlerCall } from '../portals/rest-journal.ts';
import type { AnswerSender } from './answers.ts';
import { CALLS_CHANNEL, type CallQueue, type ClaimedCall } from './call-queue.ts';
import type { Executor } from './executor.ts';

export interface WorkerSettings {
  /** robot calls run at once in this process */
  callConcurrency: number;
  /** portals whose answers are flushed at once in this process */
  answerConcurrency: number;
  /** seconds a call's lease lasts without a heartbeat (call-queue.ts) */
  leaseSeconds: number;
}

type Db = { kind: 'postgres' | 'embedded'; connectionString?: string; pglite?: PGlite };

const POLL_MS = 1000;
const ANSWER_POLL_MS = 500;
/**
 * Stored calls arrive one HTTP request at a time: slots woken by them wait this long, so that a
 * burst's calls are claimed (and then finished) a few to a statement rather than each alone.
 * 300 workflows at once: 257 claims for 300 calls without it.
 */
const GATHER_MS = 2;

export interface Workers {
  /** calls were stored: free slots look now */
  callsStored(): void;
  stop(): Promise<void>;
}

export async function startWorkers(db: Db, queue: CallQueue, executor: Executor, answers: AnswerSender, settings: WorkerSettings, logger: Logger): Promise<Workers> {
  const running = new Set<bigint>();
  const calls = new WorkLoop<ClaimedCall>({
    what: 'robot calls',
    concurrency: settings.callConcurrency,
    pollMs: POLL_MS,
    logger,
    claim: (free) => queue.claim(free),
    run: async (call) => {
      running.add(call.id);
      try {
        // The REST journal names the call each of its requests served.
        await servingHandlerCall(call.id, () => executor.execute(call));
      } catch (error) {
        // Not finished, not retried: its lease lapses and it runs again (here or elsewhere).
        logger.warn({ err: error, call: call.id.toString() }, 'robot call outcome not recorded; it will run again');
      } finally {
        running.delete(call.id);
      }
    },
  });
  // Proof of life for every call running here: a process that dies stops it, and its calls run elsewhere.
  const heartbeat = setInterval(() => {
    queue.renew([...running]).catch((error) => logger.warn({ err: error }, 'call leases not renewed'));
  }, (settings.leaseSeconds * 1000) / 2);
  /** portals whose answers this process is sending: a flush under way takes new answers itself */
  const flushing = new Set<number>();
  const flushes = new WorkLoop<number>({
    what: 'answers',
    concurrency: settings.answerConcurrency,
    pollMs: ANSWER_POLL_MS,
    logger,
    claim: (free) => answers.claimPortals(free),
    run: async (portalId) => {
      flushing.add(portalId);
      try {
        await answers.flush(portalId);
      } catch (error) {
        logger.warn({ err: error, portalId }, 'answers not sent; sent again once their portal’s lease lapses');
      } finally {
        flushing.delete(portalId);
      }
    },
  });
  let gathering: NodeJS.Timeout | null = null;
  const callsStored = () => {
    gathering ??= setTimeout(() => {
      gathering = null;
      calls.wake();
    }, GATHER_MS);
  };
  const stopListening = await listen(db, logger, callsStored);
  // A flush that ends looks again (WorkLoop), so answers its last look missed are not left behind.
  const stopHearing = queue.onAnswersQueued((portalIds) => {
    if (portalIds.some((id) => !flushing.has(id))) flushes.wake();
  });
  calls.start();
  flushes.start();
  return {
    callsStored,
    async stop() {
      if (gathering) clearTimeout(gathering);
      stopHearing();
      await stopListening();
      await calls.stop();
      clearInterval(heartbeat);
      await queue.releaseHandoff().catch(() => undefined);
      await flushes.stop();
    },
  };
}

/**
 * Claims work whenever there is room and something may be waiting, runs each item on its own,
 * and looks again the moment an item ends: `wake()` from outside, or every `pollMs`.
 */
class WorkLoop<T> {
  private running = 0;
  private stopped = false;
  private loop: Promise<void> | null = null;
  private nudge: (() => void) | null = null;
  /** a wake that came while the loop was claiming: look again before waiting */
  private woken = false;
  private readonly inFlight = new Set<Promise<unknown>>();

  constructor(
    private readonly options: {
      what: string;
      concurrency: number;
      pollMs: number;
      logger: Logger;
      claim: (free: number) => Promise<T[]>;
      run: (item: T) => Promise<void>;
    },
  ) {}

  start(): void {
    this.loop = this.run();
  }

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
      const free = this.options.concurrency - this.running;
      let claimed: T[] = [];
      if (free > 0) {
        try {
          claimed = await this.options.claim(free);
        } catch (error) {
          this.options.logger.warn({ err: error }, `${this.options.what} could not be claimed; trying again`);
        }
        for (const item of claimed) this.launch(item);
      }
      // A full claim may have left more, and a wake meanwhile (work queued, a slot freed) means
      // look again; otherwise wait for the next wake.
      if ((claimed.length > 0 && claimed.length === free) || this.woken) continue;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, this.options.pollMs);
        this.nudge = () => {
          clearTimeout(timer);
          this.nudge = null;
          resolve();
        };
      });
    }
  }

  private launch(item: T): void {
    this.running += 1;
    const done: Promise<void> = this.options.run(item).finally(() => {
      this.running -= 1;
      this.inFlight.delete(done);
      this.wake();
    });
    this.inFlight.add(done);
  }
}

/** LISTENs on the channel of stored calls; calls `onCalls` at each notification. */
async function listen(db: Db, logger: Logger, onCalls: () => void): Promise<() => Promise<void>> {
  if (db.kind === 'embedded') {
    return db.pglite!.listen(CALLS_CHANNEL, onCalls);
  }
  let client: pg.Client | null = null;
  let stopped = false;
  const connect = async (): Promise<void> => {
    if (stopped) return;
    const next = new pg.Client({ connectionString: db.connectionString });
    next.on('notification', () => onCalls());
    next.on('error', (error) => {
      logger.warn({ err: error }, 'call notifications lost; polling until they are back');
      next.end().catch(() => undefined);
      if (client === next) client = null;
      setTimeout(() => void connect().catch(() => undefined), POLL_MS);
    });
    try {
      await next.connect();
      await next.query(`LISTEN ${CALLS_CHANNEL}`);
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
