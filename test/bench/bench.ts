/**
 * `npm run bench`: figures, not pass/fail. Against a local PostgreSQL and the emulator:
 *  1. durable acknowledgement at the handler endpoint (throughput, p50/p99), beside an empty
 *     Fastify route with the same body parsing, measured in the same run;
 *  2. time from the queue server's call to bizproc.event.send, at low and at high load;
 *  3. completions per second for one rate-limited portal (2 requests/s), with and without
 *     answer batching.
 * The last line is one JSON object with every figure, so runs can be compared.
 */
import Fastify, { type FastifyBaseLogger } from 'fastify';
import { createLogger } from '../../src/logger.ts';
import { registerFormBodies } from '../../src/server.ts';
import { startStack, type Stack } from '../support/stack.ts';
import { freePort, waitFor } from '../support/process.ts';
import { autocannon } from './autocannon.ts';

const ACK_CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);
const ACK_SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const HIGH_LOAD = Number(process.env.BENCH_HIGH_LOAD ?? 300);
const RATE_LIMITED_CALLS = Number(process.env.BENCH_RATE_LIMITED_CALLS ?? 100);

function percentile(sorted: number[], p: number): number {
  return sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

const round = (n: number) => Math.round(n * 10) / 10;

/** The body the queue server sends; autocannon replaces each [<id>] per request (a fresh event token). */
function callBody(member: string, applicationToken: string): string {
  return new URLSearchParams({
    workflow_id: 'bench-[<id>]',
    code: 'hash_value',
    'document_id[0]': 'crm',
    'document_id[1]': 'CCrmDocumentDeal',
    'document_id[2]': 'DEAL_1',
    'document_type[0]': 'crm',
    'document_type[1]': 'CCrmDocumentDeal',
    'document_type[2]': 'DEAL',
    event_token: 'bench-[<id>]',
    'properties[value]': 'benchmark',
    'properties[algorithm]': 'sha256',
    use_subscription: 'Y',
    timeout_duration: '0',
    ts: String(Math.floor(Date.now() / 1000)),
    'auth[member_id]': member,
    'auth[application_token]': applicationToken,
    'auth[domain]': 'bench.example',
  })
    .toString()
    .replaceAll('%5B%3Cid%3E%5D', '[<id>]');
}

/** CPU time of this process (the app's) per acknowledged call, in ms. */
function cpuMsPer(before: NodeJS.CpuUsage, calls: number): number {
  const used = process.cpuUsage(before);
  return calls === 0 ? 0 : round((used.user + used.system) / 1000 / calls);
}

async function acknowledgement() {
  const stack = await startStack({ emulator: { portals: 1 }, workerConcurrency: 0, logLevel: 'warn', rateLimit: { drainPerSec: 50, capacity: 400 } });
  try {
    const member = stack.memberId(0);
    const { applicationToken } = await stack.install(member, 'headless');
    const body = callBody(member, applicationToken);

    // The empty route lives in this process (the app's), beside the app's server, with the same parser.
    const empty = Fastify({ loggerInstance: createLogger('warn') as FastifyBaseLogger });
    await registerFormBodies(empty);
    empty.post('/empty', async () => ({ result: 'ok' }));
    const port = await freePort();
    await empty.listen({ port, host: '127.0.0.1' });
    const emptyUrl = `http://127.0.0.1:${port}/empty`;
    const handlerUrl = `${stack.appUrl}/handlers/hash_value`;
    const run = (url: string, durationSeconds = ACK_SECONDS) => autocannon({ url, body, connections: ACK_CONNECTIONS, durationSeconds });
    // Warm both up (JIT, connections, prepared statements) before measuring.
    await run(emptyUrl, 2);
    await run(handlerUrl, 2);
    const emptyFigures = await run(emptyUrl);
    const prisma = stack.database.db.prisma;
    const lastBefore = (await prisma.handlerCall.aggregate({ _max: { id: true } }))._max.id ?? 0n;
    const commits = async () => {
      await new Promise((resolve) => setTimeout(resolve, 1500)); // statistics reach pg_stat_database within a second
      const [row] = await prisma.$queryRawUnsafe<Array<{ n: bigint }>>('SELECT xact_commit AS n FROM pg_stat_database WHERE datname = current_database()');
      return Number(row!.n);
    };
    const commitsBefore = await commits();
    const cpu = process.cpuUsage();
    const handlerFigures = await run(handlerUrl);
    const cpuMsPerCall = cpuMsPer(cpu, handlerFigures.ok2xx);
    const commitsPerCall = round(((await commits()) - commitsBefore) / Math.max(1, handlerFigures.ok2xx) * 100) / 100;
    await empty.close();
    // A 2xx is a stored call with its job: count both among the calls of the measured run.
    const [counts] = await prisma.$queryRawUnsafe<Array<{ stored: bigint; with_job: bigint }>>(
      `SELECT count(*) AS stored,
              count(*) FILTER (WHERE EXISTS (SELECT 1 FROM pgboss.job j WHERE j.name = 'robot-calls' AND j.data->>'callId' = c.id::text)) AS with_job
       FROM handler_calls c WHERE c.id > $1`,
      lastBefore,
    );
    const stored = Number(counts!.stored);
    const storedWithJob = Number(counts!.with_job);
    return { handler: { ...handlerFigures, cpuMsPerCall, commitsPerCall }, empty: emptyFigures, stored, storedWithJob, ratio: round((handlerFigures.perSecond / emptyFigures.perSecond) * 100) / 100 };
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

/** BENCH_ONLY=ack,latency,rate picks sections (default: all). */
const only = new Set((process.env.BENCH_ONLY ?? 'ack,latency,rate').split(','));
const figures: Record<string, unknown> = {};
if (only.has('ack')) {
  const ack = await acknowledgement();
  console.log(`durable acknowledgement: ${ack.handler.perSecond} calls/s, p50 ${ack.handler.p50ms} ms, p99 ${ack.handler.p99ms} ms (autocannon, ${ACK_CONNECTIONS} connections, ${ACK_SECONDS} s; ${ack.handler.ok2xx} 2xx, ${ack.stored} stored, ${ack.storedWithJob} with their job, ${ack.handler.non2xx} non-2xx, ${ack.handler.errors} errors; ${ack.handler.cpuMsPerCall} ms app CPU and ${ack.handler.commitsPerCall} PostgreSQL commits a call)`);
  console.log(`empty Fastify route:     ${ack.empty.perSecond} req/s, p50 ${ack.empty.p50ms} ms, p99 ${ack.empty.p99ms} ms (same body parser, same process, same run)`);
  console.log(`acknowledgement / empty route: ${ack.ratio}`);
  Object.assign(figures, { acknowledgement: { ...ack.handler, stored: ack.stored, storedWithJob: ack.storedWithJob }, emptyRoute: ack.empty, ratio: ack.ratio });
}
if (only.has('latency')) {
  const latency = await eventSendLatency();
  console.log(`call → event.send, low load:  p50 ${latency.low.p50ms} ms, p99 ${latency.low.p99ms} ms (${latency.low.calls} calls one at a time)`);
  console.log(`call → event.send, high load: p50 ${latency.high.p50ms} ms, p99 ${latency.high.p99ms} ms (${latency.high.calls} at once, ${latency.high.completionsPerSecond} completions/s)`);
  figures.callToEventSend = latency;
}
if (only.has('rate')) {
  const batched = await rateLimitedPortal(50);
  console.log(`rate-limited portal (2 req/s), batched answers:   ${batched.completionsPerSecond} completions/s (${batched.calls} in ${batched.seconds} s, ${batched.portal503s} portal 503s)`);
  const unbatched = await rateLimitedPortal(1);
  console.log(`rate-limited portal (2 req/s), one answer a call: ${unbatched.completionsPerSecond} completions/s (${unbatched.calls} in ${unbatched.seconds} s, ${unbatched.portal503s} portal 503s)`);
  figures.rateLimited = { batched, unbatched };
}
console.log(JSON.stringify({ ...figures, at: new Date().toISOString() }));
process.exit(0);
