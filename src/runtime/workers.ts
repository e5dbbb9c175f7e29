/** The workers of one process: robot calls and answer flushes, taken from the shared queue. */
import type { PgBoss } from 'pg-boss';
import type { AnswerSender } from './answers.ts';
import type { Executor } from './executor.ts';
import { QUEUES } from './queue.ts';

export interface WorkerSettings {
  /** robot calls run at once in this process */
  callConcurrency: number;
  /** portals whose answers are flushed at once in this process */
  answerConcurrency: number;
}

export async function startWorkers(boss: PgBoss, executor: Executor, answers: AnswerSender, settings: WorkerSettings): Promise<() => Promise<void>> {
  const callOptions = { localConcurrency: settings.callConcurrency, includeMetadata: true, pollingIntervalSeconds: 0.5 } as const;
  await boss.work<{ callId: string }, void, typeof callOptions>(QUEUES.calls, callOptions, async ([job]) => {
    if (!job) return;
    await executor.execute({ callId: BigInt(job.data.callId), retryCount: job.retryCount, retryLimit: job.retryLimit });
  });
  await boss.work<{ portalId: number }>(
    QUEUES.answers,
    { localConcurrency: settings.answerConcurrency, pollingIntervalSeconds: 0.5 },
    async ([job]) => {
      if (job) await answers.flush(job.data.portalId);
    },
  );
  return async () => {
    await boss.offWork(QUEUES.calls);
    await boss.offWork(QUEUES.answers);
  };
}
