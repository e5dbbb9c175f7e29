/**
 * `npm run bench`: figures, not pass/fail. Against a local PostgreSQL and the emulator:
 *  1. durable acknowledgement at the handler endpoint (throughput, p50/p99), beside an empty
 *     Fastify route with the same body parsing, measured in the same run;
 *  2. time from the queue server's call to bizproc.event.send, at low and at high load;
 *  3. completions per second for one rate-limited portal (2 requests/s), with and without
 *     answer batching.
 * The last line is one JSON object with every figure, so runs can be compared.
 */
import { randomBytes } from 'node:crypto';
import { buildServer } from '../../src/server.ts';
import { createLogger } from '../../src/logger.ts';
import { startStack, type Stack } from '../support/stack.ts';
import { freePort, waitFor } from '../support/process.ts';
import { runTrustingEmulatorCa } from '../../src/emulator/tls.ts';

// the emulator is HTTPS: this process must start trusting its CA (NODE_EXTRA_CA_CERTS)
await runTrustingEmulatorCa();

const ACK_CALLS = Number(process.env.BENCH_ACK_CALLS ?? 3000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 32);
const HIGH_LOAD = Number(process.env.BENCH_HIGH_LOAD ?? 300);
const RATE_LIMITED_CALLS = Number(process.env.BENCH_RATE_LIMITED_CALLS ?? 100);

interface LoadFigures {
  requests: number;
  perSecond: number;
  p50ms: number;
  p99ms: number;
  errors: number;
}

function percentile(sorted: number[], p: number): number {
  return sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

const round = (n: number) => Math.round(n * 10) / 10;

async function load(url: string, bodies: () => string, total: number, concurrency: number): Promise<LoadFigures> {
  const latencies: number[] = [];
  let errors = 0;
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) {
        next += 1;
        const t0 = performance.now();
        const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: bodies() });
        await response.arrayBuffer();
        latencies.push(performance.now() - t0);
        if (response.status !== 200) errors += 1;
      }
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return { requests: total, perSecond: Math.round(total / elapsed), p50ms: round(percentile(latencies, 50)), p99ms: round(percentile(latencies, 99)), errors };
}

async function acknowledgement() {
  const stack = await startStack({ emulator: { portals: 1 }, workerConcurrency: 0, logLevel: 'warn', rateLimit: { drainPerSec: 50, capacity: 400 } });
  try {
    const member = stack.memberId(0);
    const { applicationToken } = await stack.install(member, 'headless');
    const callBody = () =>
      new URLSearchParams({
        workflow_id: randomBytes(8).toString('hex'),
        code: 'hash_value',
        'document_id[0]': 'crm',
        'document_id[1]': 'CCrmDocumentDeal',
        'document_id[2]': 'DEAL_1',
        'document_type[0]': 'crm',
        'document_type[1]': 'CCrmDocumentDeal',
        'document_type[2]': 'DEAL',
        event_token: randomBytes(24).toString('hex'),
        'properties[value]': 'benchmark',
        'properties[algorithm]': 'sha256',
        use_subscription: 'Y',
        timeout_duration: '0',
        ts: String(Math.floor(Date.now() / 1000)),
        'auth[member_id]': member,
        'auth[application_token]': applicationToken,
        'auth[domain]': 'bench.example',
      }).toString();

    const empty = await buildServer({
      logger: createLogger('warn'),
      notReady: async () => null,
      routes: async (app) => {
        app.post('/empty', async () => ({ result: 'ok' }));
      },
    });
    const port = await freePort();
    await empty.listen({ port, host: '127.0.0.1' });
    // Warm both up before measuring.
    await load(`http://127.0.0.1:${port}/empty`, callBody, 200, 8);
    await load(`${stack.appUrl}/handlers/hash_value`, callBody, 200, 8);
    const emptyFigures = await load(`http://127.0.0.1:${port}/empty`, callBody, ACK_CALLS, CONCURRENCY);
    const handlerFigures = await load(`${stack.appUrl}/handlers/hash_value`, callBody, ACK_CALLS, CONCURRENCY);
    await empty.close();
    const stored = await stack.database.db.prisma.handlerCall.count();
    return { handler: handlerFigures, empty: emptyFigures, stored };
  } finally {
    await stack.stop();
  }
}

/** From each queue-server delivery to the moment its workflow took the answer. */
function callToAnswer(stack: Stack, member: string, workflowIds: string[]): number[] {
  const portal = stack.emulator.state.portals.get(member)!;
  return workflowIds.map((id) => {
    const delivery = stack.emulator.state.deliveries.find((d) => d.workflowId === id)!;
    const instance = portal.workflows.instances.get(id)!;
    return new Date(instance.modified).getTime() - new Date(delivery.sentAt).getTime();
  });
}

async function eventSendLatency() {
  const stack = await startStack({
    emulator: { portals: 1, rateLimit: { drainPerSec: 50, maxBurst: 500 } },
    workerConcurrency: 8,
    logLevel: 'warn',
    rateLimit: { drainPerSec: 50, capacity: 400 },
  });
  try {
    const member = stack.memberId(0);
    await stack.install(member, 'headless');
    const templateId = await stack.templateWith(member, [{ code: 'hash_value', name: 'Hash', properties: { value: 'x' } }]);
    const start = async () => (await stack.control<{ id: string }>('POST', `/_emulator/portals/${member}/workflows`, { templateId, documentId: ['crm', 'CCrmDocumentDeal', 'DEAL_1'] })).id;
    const finished = (ids: string[]) => ids.every((id) => stack.emulator.state.portals.get(member)!.workflows.instances.get(id)?.status === 'completed');

    const low: string[] = [];
    for (let i = 0; i < 20; i += 1) {
      const id = await start();
      low.push(id);
      await waitFor(async () => finished([id]), 30_000, 'a low-load workflow');
    }
    const high = await Promise.all(Array.from({ length: HIGH_LOAD }, start));
    const t0 = performance.now();
    await waitFor(async () => finished(high), 120_000, 'the high-load workflows');
    const highSeconds = (performance.now() - t0) / 1000;
    const lowMs = callToAnswer(stack, member, low).sort((a, b) => a - b);
    const highMs = callToAnswer(stack, member, high).sort((a, b) => a - b);
    return {
      low: { calls: low.length, p50ms: percentile(lowMs, 50), p99ms: percentile(lowMs, 99) },
      high: { calls: high.length, p50ms: percentile(highMs, 50), p99ms: percentile(highMs, 99), completionsPerSecond: Math.round(high.length / highSeconds) },
    };
  } finally {
    await stack.stop();
  }
}

async function rateLimitedPortal(answerBatchSize: number) {
  const stack = await startStack({
    emulator: { portals: 1, rateLimit: { drainPerSec: 2, maxBurst: 50 } },
    workerConcurrency: 8,
    answerBatchSize,
    logLevel: 'warn',
    rateLimit: { drainPerSec: 2, capacity: 40 },
  });
  try {
    const member = stack.memberId(0);
    await stack.install(member, 'headless');
    const templateId = await stack.templateWith(member, [{ code: 'hash_value', name: 'Hash', properties: { value: 'x' } }]);
    // Let the bucket drain after the install and registration before measuring.
    await new Promise((resolve) => setTimeout(resolve, 20_000));
    const portal = stack.emulator.state.portals.get(member)!;
    const t0 = performance.now();
    const ids = await Promise.all(
      Array.from({ length: RATE_LIMITED_CALLS }, async () =>
        (await stack.control<{ id: string }>('POST', `/_emulator/portals/${member}/workflows`, { templateId, documentId: ['crm', 'CCrmDocumentDeal', 'DEAL_1'] })).id,
      ),
    );
    await waitFor(async () => ids.every((id) => portal.workflows.instances.get(id)?.status === 'completed'), 300_000, 'rate-limited completions');
    const seconds = (performance.now() - t0) / 1000;
    const stats = (await stack.control<Record<string, { byStatus: Record<string, number> }>>('GET', '/_emulator/stats'))[member];
    return { calls: RATE_LIMITED_CALLS, seconds: round(seconds), completionsPerSecond: round(RATE_LIMITED_CALLS / seconds), portal503s: stats?.byStatus['503'] ?? 0 };
  } finally {
    await stack.stop();
  }
}

const ack = await acknowledgement();
console.log(`durable acknowledgement: ${ack.handler.perSecond} calls/s, p50 ${ack.handler.p50ms} ms, p99 ${ack.handler.p99ms} ms (${ack.handler.requests} calls, ${CONCURRENCY} at once, ${ack.stored} stored, ${ack.handler.errors} errors)`);
console.log(`empty Fastify route:     ${ack.empty.perSecond} req/s,   p50 ${ack.empty.p50ms} ms, p99 ${ack.empty.p99ms} ms (same bodies, same run)`);
const latency = await eventSendLatency();
console.log(`call → event.send, low load:  p50 ${latency.low.p50ms} ms, p99 ${latency.low.p99ms} ms (${latency.low.calls} calls one at a time)`);
console.log(`call → event.send, high load: p50 ${latency.high.p50ms} ms, p99 ${latency.high.p99ms} ms (${latency.high.calls} at once, ${latency.high.completionsPerSecond} completions/s)`);
const batched = await rateLimitedPortal(50);
console.log(`rate-limited portal (2 req/s), batched answers:   ${batched.completionsPerSecond} completions/s (${batched.calls} in ${batched.seconds} s, ${batched.portal503s} portal 503s)`);
const unbatched = await rateLimitedPortal(1);
console.log(`rate-limited portal (2 req/s), one answer a call: ${unbatched.completionsPerSecond} completions/s (${unbatched.calls} in ${unbatched.seconds} s, ${unbatched.portal503s} portal 503s)`);
console.log(JSON.stringify({ acknowledgement: ack.handler, emptyRoute: ack.empty, callToEventSend: latency, rateLimited: { batched, unbatched }, at: new Date().toISOString() }));
process.exit(0);
