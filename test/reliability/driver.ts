/**
 * How the benches and load tests start their work: through one bounded pool, never one request
 * (one TLS connection) per call. Fired all at once, 2,000 workflow starts opened 2,000 connections
 * to the emulator at the same moment, and on a busy machine undici's 10 s connect timeout fired
 * for some of them: workflows the driver meant to start but never did. A few dozen requests in
 * flight keep the emulator as busy as it can be, over connections that are reused.
 */
import { emulatorControl } from '@b24-automation/emulator';

/** Requests the driver has in flight at once, at most. */
export const DRIVER_IN_FLIGHT = 32;

export type Bounded = <T>(work: () => Promise<T>) => Promise<T>;

/** Runs each piece of work given to it with at most `limit` of them running at once, in the order given. */
export function boundedPool(limit: number): Bounded {
  let running = 0;
  const waiting: Array<() => void> = [];
  return async <T>(work: () => Promise<T>): Promise<T> => {
    if (running >= limit) await new Promise<void>((resolve) => waiting.push(resolve));
    else running += 1;
    try {
      return await work();
    } finally {
      const next = waiting.shift();
      if (next) next(); // the slot passes straight to the next piece of work
      else running -= 1;
    }
  };
}

/** The one pool every driver in this process shares. */
export const inDriverSlot: Bounded = boundedPool(DRIVER_IN_FLIGHT);

/** `count` pieces of work through the driver's pool; their results in order. */
export function eachInDriverSlot<T>(count: number, work: (index: number) => Promise<T>): Promise<T[]> {
  return Promise.all(Array.from({ length: count }, (_, i) => inDriverSlot(() => work(i))));
}

/**
 * Starts a workflow on a portal of the emulator (its control API); the workflow's id. It takes a
 * slot of the pool itself: never call it from inside one (a full pool would wait on itself).
 */
export async function startWorkflow(emulatorUrl: string, member: string, templateId: number, deal = 1): Promise<string> {
  const [id] = await startWorkflows(emulatorUrl, member, templateId, 1, deal);
  return id!;
}

/** Workflows one control request starts at most (the emulator's `count`). */
const STARTED_A_REQUEST = 500;

/**
 * Starts `count` workflows at once on one document: as few control requests as the emulator
 * takes (`count` a request), each through the pool. Their ids, in start order.
 */
export async function startWorkflows(emulatorUrl: string, member: string, templateId: number, count: number, deal = 1): Promise<string[]> {
  const control = emulatorControl(emulatorUrl);
  const sizes = Array.from({ length: Math.ceil(count / STARTED_A_REQUEST) }, (_, i) => Math.min(STARTED_A_REQUEST, count - i * STARTED_A_REQUEST));
  const chunks = await Promise.all(
    sizes.map((size) => inDriverSlot(() => control<{ ids: string[] }>('POST', `/_emulator/portals/${member}/workflows`, { templateId, documentId: ['crm', 'CCrmDocumentDeal', `DEAL_${deal}`], count: size }))),
  );
  return chunks.flatMap((chunk) => chunk.ids);
}
