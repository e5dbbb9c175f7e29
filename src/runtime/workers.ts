/**
 * The workers of one process: robot calls and answer flushes, taken from the shared queue.
 *
 * Calls are fetched in batches and run side by side, each settled on its own (a transient
 * failure retries that call only). pg-boss keeps fetching without a pause while batches come
 * back full, and a new job wakes it through NOTIFY; a single-job fetch would instead wait a
 * poll interval after every call.
 */
import type { PgBoss } from 'pg-boss';
import { servingHandlerCall } from '../portals/rest-journal.ts';
import type { AnswerSender } from './answers.ts';
import type { Executor } from './executor.ts';
import { QUEUES } from './queue.ts';

export interface WorkerSettings {
  /** robot calls run at once in this process (at least 2: the batch size) */
  callConcurrency: number;
  /** portals whose answers are flushed at once in this process */
  answerConcurrency: number;
}

export async function startWorkers(boss: PgBoss, executor: Executor, answers: AnswerSender, settings: WorkerSettings): Promise<() => Promise<void>> {
  const callOptions = {
    batchSize: Math.max(2, settings.callConcurrency),
    includeMetadata: true,
    perJobResults: true,
    burstWhenBatchFull: true,
    pollingIntervalSeconds: 0.5,
    notifyPollingIntervalSeconds: 2,
  } as const;
  await boss.work<{ callId: string }, void, typeof callOptions>(QUEUES.calls, callOptions, async (jobs) =>
    Promise.all(
      jobs.map(async (job) => {
        try {
          const callId = BigInt(job.data.callId);
          await servingHandlerCall(callId, () => executor.execute({ callId, retryCount: job.retryCount, retryLimit: job.retryLimit }));
          return { id: job.id, status: 'completed' as const };
        } catch (error) {
          return { id: job.id, status: 'failed' as const, output: { message: (error as Error).message } };
        }
      }),
    ),
  );
  await boss.work<{ portalId: number }>(
    QUEUES.answers,
    { localConcurrency: settings.answerConcurrency, pollingIntervalSeconds: 0.5, notifyPollingIntervalSeconds: 0.5 },
    async ([job]) => {
      if (job) await answers.flush(job.data.portalId);
    },
  );
  return async () => {
    await boss.offWork(QUEUES.calls);
    await boss.offWork(QUEUES.answers);
  };
}
