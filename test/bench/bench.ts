/**
 * `npm run bench`: figures, not pass/fail. Against a local PostgreSQL and the emulator:
 *  1. durable acknowledgement at the handler endpoint (throughput, p50/p99), beside an empty
 *     Fastify route with the same body parsing, measured in the same run — in this process, and
 *     with the app and the empty route each a process of its own;
 *  2. time from the queue server's call to bizproc.event.send, at low and at high load, with the
 *     app as its own process: completions a second, the PostgreSQL commits and the CPU (the
 *     app's, the emulator's, the machine's) a completed call costs, and where its time went; and
 *     the run queue alone, draining a backlog of stored calls;
 *  3. completions per second for one rate-limited portal (2 requests/s), with and without
 *     answer batching;
 *  4. fairness beside a hanging portal, and one process's memory.
 * Workflows are started through the drivers' bounded pool (test/reliability/driver.ts): a burst
 * is a few control requests that each start many (`count`), never one connection per workflow. The last line is one JSON object with every figure, so runs can be compared.
 */
import Fastify, { type FastifyBaseLogger } from 'fastify';
import { createLogger } from '../../src/logger.ts';
import { registerFormBodies } from '../../src/server.ts';
import { startStack, type Stack } from '../support/stack.ts';
import { freePort, waitFor } from '../support/process.ts';
import { autocannon } from './autocannon.ts';
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { buildEmulator, runTrustingEmulatorCa, type Emulator } from '@b24-automation/emulator';
import { freshDatabase, type FreshDatabase } from '../support/db.ts';
import { hashTemplate, installOn, startCluster, type Cluster } from '../reliability/harness.ts';
import { eachInDriverSlot, startWorkflows } from '../reliability/driver.ts';
import { spawnTs } from '../support/process.ts';
import type { PrismaClient } from '../../src/generated/prisma/client.ts';

// the emulator is HTTPS: this process must start trusting its CA (NODE_EXTRA_CA_CERTS)
await runTrustingEmulatorCa();

const ACK_CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);
const ACK_SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const HIGH_LOAD = Number(process.env.BENCH_HIGH_LOAD ?? 300);
const HIGHER_LOAD = Number(process.env.BENCH_HIGHER_LOAD ?? 3000);
/** a burst run before the measured ones, unmeasured: a fresh process's JIT and connections are not the queue's pace */
const WARM_UP_CALLS = 600;
/** calls stored before a queue-only process starts and drains them (queueDrain) */
const DRAIN_CALLS = Number(process.env.BENCH_DRAIN_CALLS ?? 3000);
const RATE_LIMITED_CALLS = Number(process.env.BENCH_RATE_LIMITED_CALLS ?? 2000);
const UNBATCHED_CALLS = Number(process.env.BENCH_UNBATCHED_CALLS ?? 100);
/**
 * Robot calls one app process runs at once (WORKER_CONCURRENCY); a portal gets half of them at
 * most, so one portal's burst runs 64 at a time here, each slot held from its claim to its
 * finish's commit. Slots wait (on REST, on PostgreSQL), they do not compute: on this 2-core
 * machine 300 at once went 601 → 728–796 → 777 completions/s with 64 → 128 → 256 slots.
 */
const WORKER_SLOTS = Number(process.env.BENCH_WORKERS ?? 128);
const FAIR_PORTALS = 50;
/** calls a healthy portal starts in each fairness run: 1,000 in all, so a p99 of 20–40 ms is not five samples' noise */
const FAIR_CALLS_PER_PORTAL = Number(process.env.BENCH_FAIR_CALLS ?? 20);
const RSS_CALLS = Number(process.env.BENCH_RSS_CALLS ?? 100_000);

function percentile(sorted: number[], p: number): number {
  return sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

const round = (n: number) => Math.round(n * 10) / 10;
/** a ratio to three decimals */
const ratio = (a: number, b: number) => Math.round((a / b) * 1000) / 1000;

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

/** PostgreSQL's count of committed transactions in the app's database (pg_stat_database). */
async function commitCount(prisma: PrismaClient): Promise<number> {
  await new Promise((resolve) => setTimeout(resolve, 1500)); // statistics reach pg_stat_database within a second
  const [row] = await prisma.$queryRawUnsafe<Array<{ n: bigint }>>('SELECT xact_commit AS n FROM pg_stat_database WHERE datname = current_database()');
  return Number(row!.n);
}

/**
 * Where a call's time went, p50/p99 in ms, from its own record: waiting in the queue (stored →
 * claimed), running (claimed → finished), its answer's way out (finished → the batch carrying
 * it came back).
 */
async function stages(prisma: PrismaClient, workflowIds: string[]) {
  const [row] = await prisma.$queryRawUnsafe<Array<Record<string, number>>>(
    `WITH s AS (
       SELECT extract(epoch FROM started_at - received_at) * 1000 AS queued, extract(epoch FROM finished_at - started_at) * 1000 AS running,
              extract(epoch FROM answered_at - finished_at) * 1000 AS answering
       FROM handler_calls WHERE workflow_id = ANY($1::text[])
     )
     SELECT ${['queued', 'running', 'answering']
       .map((stage) => `round(percentile_cont(0.5) WITHIN GROUP (ORDER BY ${stage}))::float8 AS ${stage}_p50, round(percentile_cont(0.99) WITHIN GROUP (ORDER BY ${stage}))::float8 AS ${stage}_p99`)
       .join(', ')} FROM s`,
    workflowIds,
  );
  return row;
}

/**
 * A burst's window, in ms from the first call the queue server sent: its last call sent, the
 * last stored by the app, the last claimed, the last finished, the last answer's batch back, and
 * the last workflow that took its answer.
 */
async function timeline(prisma: PrismaClient, workflowIds: string[], firstSentMs: number, lastSentMs: number, lastAnswerMs: number) {
  const [row] = await prisma.$queryRawUnsafe<Array<Record<string, number>>>(
    `SELECT ${['received_at', 'started_at', 'finished_at', 'answered_at'].map((column) => `extract(epoch FROM max(${column}))::float8 * 1000 AS ${column}`).join(', ')}
     FROM handler_calls WHERE workflow_id = ANY($1::text[])`,
    workflowIds,
  );
  const since = (ms: number) => Math.round(ms - firstSentMs);
  return {
    lastSent: since(lastSentMs),
    lastStored: since(row!.received_at!),
    lastClaimed: since(row!.started_at!),
    lastFinished: since(row!.finished_at!),
    lastAnswered: since(row!.answered_at!),
    lastTaken: since(lastAnswerMs),
  };
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
    const commitsBefore = await commitCount(prisma);
    const cpu = process.cpuUsage();
    const handlerFigures = await run(handlerUrl);
    const cpuMsPerCall = cpuMsPer(cpu, handlerFigures.ok2xx);
    const commitsPerCall = ratio((await commitCount(prisma)) - commitsBefore, Math.max(1, handlerFigures.ok2xx));
    await empty.close();
    // A 2xx is a stored call, its own job in the run queue (due, held by no one: no workers run
    // here): count both among the calls of the measured run.
    const [counts] = await prisma.$queryRawUnsafe<Array<{ stored: bigint; with_job: bigint }>>(
      `SELECT count(*) AS stored,
              count(*) FILTER (WHERE finished_at IS NULL AND lease_until IS NULL AND run_after <= now()) AS with_job
       FROM handler_calls c WHERE c.id > $1`,
      lastBefore,
    );
    const stored = Number(counts!.stored);
    const storedWithJob = Number(counts!.with_job);
    return { handler: { ...handlerFigures, cpuMsPerCall, commitsPerCall }, empty: emptyFigures, stored, storedWithJob, ratio: ratio(handlerFigures.perSecond, emptyFigures.perSecond) };
  } finally {
    await stack.stop();
  }
}

/**
 * From each call the queue server sent (a connection to the app took it) to the moment its
 * workflow took the answer.
 */
function callToAnswer(stack: Pick<Stack, 'emulator'>, member: string, workflowIds: string[]): number[] {
  const portal = stack.emulator.state.portals.get(member)!;
  const sent = sentAtOf(stack.emulator, workflowIds);
  return workflowIds.map((id) => new Date(portal.workflows.instances.get(id)!.modified).getTime() - sent.get(id)!);
}

/** workflow id → when the queue server sent its call (unix ms) */
function sentAtOf(emulator: Stack['emulator'], workflowIds: string[]): Map<string, number> {
  const wanted = new Set(workflowIds);
  const sent = new Map<string, number>();
  for (const delivery of emulator.state.deliveries) {
    if (delivery.workflowId && wanted.has(delivery.workflowId) && delivery.sentAt) sent.set(delivery.workflowId, new Date(delivery.sentAt).getTime());
  }
  return sent;
}

interface BurstTarget {
  emulator: Stack['emulator'];
  emulatorUrl: string;
  member: string;
  templateId: number;
  prisma: PrismaClient;
  /** CPU the app has used so far, in ms */
  cpuMs: () => number;
}

/** Clock ticks a second in which /proc counts CPU time (USER_HZ, 100 on Linux). */
const USER_HZ = 100;

/** CPU time every process on the machine has used so far (busy jiffies of /proc/stat), in ms. */
function machineCpuMs(): number {
  const [, ...fields] = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/);
  const [user, nice, system, , , irq, softirq, steal] = fields.map(Number) as number[];
  return ((user! + nice! + system! + irq! + softirq! + steal!) / USER_HZ) * 1000;
}

/** CPU time of this process so far, in ms. */
const processCpuMs = () => {
  const used = process.cpuUsage();
  return (used.user + used.system) / 1000;
};

/**
 * `calls` workflows started together (through the driver's pool): call → event.send, and
 * completions per second from the first call the app received to the last answer its workflow
 * took — the app's own pace, whatever the driver's.
 */
async function burstOf(on: BurstTarget, calls: number) {
  const portal = on.emulator.state.portals.get(on.member)!;
  const commitsBefore = await commitCount(on.prisma);
  const cpuBefore = on.cpuMs();
  const machineBefore = machineCpuMs();
  const benchBefore = processCpuMs();
  const ids = await startWorkflows(on.emulatorUrl, on.member, on.templateId, calls);
  await waitFor(async () => ids.every((id) => portal.workflows.instances.get(id)?.status === 'completed'), 300_000, `${calls} workflows started together`);
  const cpuMsPerCall = round((on.cpuMs() - cpuBefore) / calls);
  const machineCpuMsPerCall = round((machineCpuMs() - machineBefore) / calls);
  const benchCpuMsPerCall = round((processCpuMs() - benchBefore) / calls);
  const commits = (await commitCount(on.prisma)) - commitsBefore;
  const ms = callToAnswer(on, on.member, ids).sort((a, b) => a - b);
  const firstCall = Math.min(...sentAtOf(on.emulator, ids).values());
  const lastAnswer = Math.max(...ids.map((id) => new Date(portal.workflows.instances.get(id)!.modified).getTime()));
  return {
    calls,
    completionsPerSecond: Math.round(calls / (Math.max(1, lastAnswer - firstCall) / 1000)),
    p50ms: percentile(ms, 50),
    p99ms: percentile(ms, 99),
    // everything the database committed meanwhile, divided by the calls
    commitsPerCall: ratio(commits, calls),
    // the app's CPU (in the bench's own process, the emulator's too: queue server, REST, the driver's requests)
    cpuMsPerCall,
    // every process's: the app's, the emulator's, the driver's, PostgreSQL's (2 cores: 2,000 ms a second at most)
    machineCpuMsPerCall,
    // this process's: the emulator's and the driver's (and, in-process, the app's too)
    benchCpuMsPerCall,
    stagesMs: await stages(on.prisma, ids),
    timelineMs: await timeline(on.prisma, ids, firstCall, Math.max(...sentAtOf(on.emulator, ids).values()), lastAnswer),
  };
}

async function rateLimitedPortal(answerBatchSize: number, calls: number) {
  const stack = await startStack({
    emulator: { portals: 1, rateLimit: { drainPerSec: 2, maxBurst: 50 } },
    workerConcurrency: WORKER_SLOTS,
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
    const ids = await eachInDriverSlot(calls, async () =>
      (await stack.control<{ id: string }>('POST', `/_emulator/portals/${member}/workflows`, { templateId, documentId: ['crm', 'CCrmDocumentDeal', 'DEAL_1'] })).id,
    );
    await waitFor(async () => ids.every((id) => portal.workflows.instances.get(id)?.status === 'completed'), 300_000, 'rate-limited completions');
    const seconds = (performance.now() - t0) / 1000;
    const stats = (await stack.control<Record<string, { byStatus: Record<string, number> }>>('GET', '/_emulator/stats'))[member];
    return { calls, seconds: round(seconds), completionsPerSecond: round(calls / seconds), portal503s: stats?.byStatus['503'] ?? 0 };
  } finally {
    await stack.stop();
  }
}

/**
 * Fairness: 50 healthy portals' call → event.send, alone and beside one portal whose REST hangs
 * (the emulator delays its every request) and whose calls need its REST.
 */
async function fairness() {
  const stack = await startStack({
    emulator: { portals: FAIR_PORTALS + 1, rateLimit: { drainPerSec: 100, maxBurst: 1000 } },
    workerConcurrency: WORKER_SLOTS,
    logLevel: 'warn',
    rateLimit: { drainPerSec: 100, capacity: 500 },
  });
  try {
    const members = Array.from({ length: FAIR_PORTALS + 1 }, (_, i) => stack.memberId(i));
    const [hanging, ...healthy] = members as [string, ...string[]];
    for (const member of members) await stack.install(member, 'headless');
    const templates = new Map<string, number>();
    for (const member of healthy) templates.set(member, await stack.templateWith(member, [{ code: 'hash_value', name: 'Hash', properties: { value: 'x' } }]));
    const hangingTemplate = await stack.templateWith(hanging, [{ code: 'find_user', name: 'Find', properties: { user: 'user_1' } }]);
    const start = async (member: string, templateId: number) =>
      (await stack.control<{ id: string }>('POST', `/_emulator/portals/${member}/workflows`, { templateId, documentId: ['crm', 'CCrmDocumentDeal', 'DEAL_1'] })).id;

    /** The healthy portals' calls, 25 a second, round robin; p50/p99 of call → event.send. */
    const healthyRun = async () => {
      const started: Array<[string, string]> = [];
      for (let i = 0; i < FAIR_PORTALS * FAIR_CALLS_PER_PORTAL; i += 1) {
        const member = healthy[i % FAIR_PORTALS]!;
        started.push([member, await start(member, templates.get(member)!)]);
        await new Promise((resolve) => setTimeout(resolve, 40));
      }
      const done = () => started.every(([m, id]) => stack.emulator.state.portals.get(m)!.workflows.instances.get(id)?.status === 'completed');
      await waitFor(async () => done(), 180_000, 'the healthy portals’ workflows');
      const ms = started.flatMap(([m, id]) => callToAnswer(stack, m, [id])).sort((a, b) => a - b);
      return { calls: ms.length, p50ms: percentile(ms, 50), p99ms: percentile(ms, 99) };
    };
    const alone = await healthyRun();
    await stack.control('POST', '/_emulator/faults', { method: '*', memberId: hanging, delayMs: 600_000 });
    const hangingCalls = await eachInDriverSlot(20, () => start(hanging, hangingTemplate));
    const besideHanging = await healthyRun();
    await stack.control('DELETE', '/_emulator/faults');
    return { alone, besideHanging, hangingCalls: hangingCalls.length, p99Ratio: ratio(besideHanging.p99ms, Math.max(1, alone.p99ms)) };
  } finally {
    await stack.stop();
  }
}

/** CPU time a process of this machine has used so far (utime + stime from /proc), in ms. */
function processCpuMsOf(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return ((Number(fields[11]) + Number(fields[12])) / USER_HZ) * 1000;
}

interface AppRig {
  emulator: Emulator;
  emulatorUrl: string;
  database: FreshDatabase;
  cluster: Cluster;
  /** the one portal, the app installed on it */
  member: string;
}

/**
 * One portal on the emulator (in this process), a fresh database, and the app as its own process
 * (`npm start`'s build, `env` on top) installed on the portal; all of it gone once `use` ends.
 */
async function withAppProcess<T>(options: { env: Record<string, string>; rateLimit?: { drainPerSec: number; maxBurst: number } }, use: (rig: AppRig) => Promise<T>): Promise<T> {
  const emulator = await buildEmulator({ portals: 1, rateLimit: options.rateLimit });
  const emulatorUrl = await emulator.listen();
  const database = await freshDatabase();
  const cluster = await startCluster({ emulator, emulatorUrl, databaseUrl: database.url, processes: 1, env: options.env });
  try {
    const member = [...emulator.state.portals.keys()][0]!;
    await installOn(emulator, cluster.clientId, [member]);
    return await use({ emulator, emulatorUrl, database, cluster, member });
  } finally {
    await cluster.stop();
    await emulator.close();
    await database.drop();
  }
}

/** The portal's budget where robots' answers are the traffic: not what the section measures. */
const ROOMY_PORTAL = { drainPerSec: 50, maxBurst: 500 };
const ROOMY_BUDGET = { PORTAL_RATE_PER_SEC: '50', PORTAL_RATE_BURST: '400' };

/**
 * The acknowledgement with the app as its own process (`npm start`'s build, no workers), beside
 * the empty route as a process of its own (empty-route.ts), both driven the same way.
 */
async function acknowledgementByProcess() {
  return withAppProcess({ env: { WORKER_CONCURRENCY: '0' } }, async ({ emulator, cluster, member }) => {
    const emptyPort = await freePort();
    const empty = spawnTs('test/bench/empty-route.ts', { PORT: String(emptyPort), LOG_LEVEL: 'warn' });
    try {
      const applicationToken = emulator.state.portals.get(member)!.apps.get(cluster.clientId)!.applicationToken;
      const body = callBody(member, applicationToken);
      await waitFor(async () => empty.stdout().includes('listening'), 30_000, 'the empty route listening');
      const handlerUrl = `http://127.0.0.1:${cluster.instances[0]!.port}/handlers/hash_value`;
      const emptyUrl = `http://127.0.0.1:${emptyPort}/empty`;
      const run = (url: string, durationSeconds = ACK_SECONDS) => autocannon({ url, body, connections: ACK_CONNECTIONS, durationSeconds });
      await run(emptyUrl, 2);
      await run(handlerUrl, 2);
      const emptyFigures = await run(emptyUrl);
      const handlerFigures = await run(handlerUrl);
      return { handler: handlerFigures, empty: emptyFigures, ratio: ratio(handlerFigures.perSecond, emptyFigures.perSecond) };
    } finally {
      empty.child.kill('SIGTERM');
      await empty.exited;
    }
  });
}

/**
 * Call → event.send with the app as its own process (`npm start`'s build, WORKER_SLOTS slots), as
 * it runs in production: the emulator and the driver stay in this process, so the app's CPU is
 * its own (from /proc). Twenty calls one at a time, an unmeasured warm-up burst, then the bursts.
 */
async function eventSendLatency() {
  return withAppProcess({ env: { WORKER_CONCURRENCY: String(WORKER_SLOTS), ...ROOMY_BUDGET }, rateLimit: ROOMY_PORTAL }, async ({ emulator, emulatorUrl, database, cluster, member }) => {
    const templateId = await hashTemplate(emulatorUrl, member, cluster.clientId);
    const portal = emulator.state.portals.get(member)!;
    const low: string[] = [];
    for (let i = 0; i < 20; i += 1) {
      const [id] = await startWorkflows(emulatorUrl, member, templateId, 1);
      low.push(id!);
      await waitFor(async () => portal.workflows.instances.get(id!)?.status === 'completed', 30_000, 'a low-load workflow');
    }
    const lowMs = callToAnswer({ emulator }, member, low).sort((a, b) => a - b);
    const pid = cluster.instances[0]!.run.child.pid!;
    const on: BurstTarget = { emulator, emulatorUrl, member, templateId, prisma: database.db.prisma, cpuMs: () => processCpuMsOf(pid) };
    await burstOf(on, WARM_UP_CALLS); // JIT, connections, prepared statements: not measured
    const high = await burstOf(on, HIGH_LOAD);
    const high3000 = await burstOf(on, HIGHER_LOAD);
    return { low: { calls: low.length, p50ms: percentile(lowMs, 50), p99ms: percentile(lowMs, 99) }, high, high3000 };
  });
}

/**
 * The run queue alone: DRAIN_CALLS calls stored by a process that only acknowledges
 * (WORKER_CONCURRENCY=0), then a process that only runs the queue (WORKER_SLOTS slots, outside the
 * balancer) starts and drains them — claims, runs, finishes, answers in batches. Completions a
 * second from its first claim to the last answer a workflow took: the queue's own pace, without
 * the emulator's delivery sharing the two cores (a backlog after an outage, or a deploy).
 */
async function queueDrain() {
  return withAppProcess({ env: { WORKER_CONCURRENCY: '0', ...ROOMY_BUDGET }, rateLimit: ROOMY_PORTAL }, async ({ emulator, emulatorUrl, database, cluster, member }) => {
    const templateId = await hashTemplate(emulatorUrl, member, cluster.clientId);
    const portal = emulator.state.portals.get(member)!;
    const ids = await startWorkflows(emulatorUrl, member, templateId, DRAIN_CALLS);
    const wanted = new Set(ids);
    const acknowledged = () => emulator.state.deliveries.filter((d) => wanted.has(d.workflowId ?? '') && d.status === 200).length;
    await waitFor(async () => acknowledged() === DRAIN_CALLS, 120_000, `${DRAIN_CALLS} calls stored`);
    const prisma = database.db.prisma;
    const commitsBefore = await commitCount(prisma);
    const machineBefore = machineCpuMs();
    const worker = await cluster.startExtra({ WORKER_CONCURRENCY: String(WORKER_SLOTS) });
    await waitFor(async () => ids.every((id) => portal.workflows.instances.get(id)?.status === 'completed'), 300_000, 'the backlog drained');
    const machineCpuMsPerCall = round((machineCpuMs() - machineBefore) / DRAIN_CALLS);
    const workerCpuMs = processCpuMsOf(worker.run.child.pid!);
    const commits = (await commitCount(prisma)) - commitsBefore;
    const [first] = await prisma.$queryRawUnsafe<Array<{ ms: number }>>(
      `SELECT extract(epoch FROM min(started_at))::float8 * 1000 AS ms FROM handler_calls WHERE workflow_id = ANY($1::text[])`,
      ids,
    );
    const lastAnswer = Math.max(...ids.map((id) => new Date(portal.workflows.instances.get(id)!.modified).getTime()));
    return {
      calls: DRAIN_CALLS,
      completionsPerSecond: Math.round(DRAIN_CALLS / (Math.max(1, lastAnswer - first!.ms) / 1000)),
      seconds: round((lastAnswer - first!.ms) / 1000),
      commitsPerCall: ratio(commits, DRAIN_CALLS),
      // the queue process's whole life (its start included) and every process's on the machine
      cpuMsPerCall: round(workerCpuMs / DRAIN_CALLS),
      machineCpuMsPerCall,
    };
  });
}

/** Resident memory of one app process (its own process, as `npm start` runs it: dist/src/main.js) after acknowledging RSS_CALLS calls. */
async function memory() {
  return withAppProcess({ env: { WORKER_CONCURRENCY: '0' } }, async ({ emulator, cluster, member }) => {
    const applicationToken = emulator.state.portals.get(member)!.apps.get(cluster.clientId)!.applicationToken;
    const instance = cluster.instances[0]!;
    const rssMb = () => Math.round(Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${instance.run.child.pid}/status`, 'utf8'))![1]) / 1024);
    const before = rssMb();
    const load = await autocannon({ url: `http://127.0.0.1:${instance.port}/handlers/hash_value`, body: callBody(member, applicationToken), connections: ACK_CONNECTIONS, durationSeconds: 600, amount: RSS_CALLS });
    return { calls: load.ok2xx, non2xx: load.non2xx, rssBeforeMb: before, rssAfterMb: rssMb() };
  });
}

/** BENCH_ONLY=ack,process,latency,rate,fair,rss picks sections (default: all). */
const only = new Set((process.env.BENCH_ONLY ?? 'ack,process,latency,rate,fair,rss').split(','));
const figures: Record<string, unknown> = {};
if (only.has('ack')) {
  const ack = await acknowledgement();
  console.log(`durable acknowledgement: ${ack.handler.perSecond} calls/s, p50 ${ack.handler.p50ms} ms, p99 ${ack.handler.p99ms} ms (autocannon, ${ACK_CONNECTIONS} connections, ${ACK_SECONDS} s; ${ack.handler.ok2xx} 2xx, ${ack.stored} stored, ${ack.storedWithJob} with their job, ${ack.handler.non2xx} non-2xx, ${ack.handler.errors} errors; ${ack.handler.cpuMsPerCall} ms app CPU and ${ack.handler.commitsPerCall} PostgreSQL commits a call)`);
  console.log(`empty Fastify route:     ${ack.empty.perSecond} req/s, p50 ${ack.empty.p50ms} ms, p99 ${ack.empty.p99ms} ms (same body parser, same process, same run)`);
  console.log(`acknowledgement / empty route: ${ack.ratio}`);
  Object.assign(figures, { acknowledgement: { ...ack.handler, stored: ack.stored, storedWithJob: ack.storedWithJob }, emptyRoute: ack.empty, ratio: ack.ratio });
}
if (only.has('process')) {
  const ack = await acknowledgementByProcess();
  console.log(`durable acknowledgement, app as its own process: ${ack.handler.perSecond} calls/s, p50 ${ack.handler.p50ms} ms, p99 ${ack.handler.p99ms} ms (${ack.handler.ok2xx} 2xx, ${ack.handler.non2xx} non-2xx, ${ack.handler.errors} errors); empty route as its own process: ${ack.empty.perSecond} req/s, p50 ${ack.empty.p50ms} ms, p99 ${ack.empty.p99ms} ms; ratio ${ack.ratio}`);
  figures.acknowledgementByProcess = ack;
}
if (only.has('latency')) {
  const latency = await eventSendLatency();
  console.log(`call → event.send, app as its own process, low load: p50 ${latency.low.p50ms} ms, p99 ${latency.low.p99ms} ms (${latency.low.calls} calls one at a time)`);
  for (const burst of [latency.high, latency.high3000]) {
    console.log(`call → event.send, app as its own process, ${burst.calls} started together: p50 ${burst.p50ms} ms, p99 ${burst.p99ms} ms, ${burst.completionsPerSecond} completions/s, ${burst.commitsPerCall} PostgreSQL commits a call; CPU a call: the app ${burst.cpuMsPerCall} ms, the emulator and driver ${burst.benchCpuMsPerCall} ms, the machine ${burst.machineCpuMsPerCall} ms`);
  }
  const drain = await queueDrain();
  console.log(`the run queue alone: ${drain.calls} stored calls drained by a process that only runs the queue at ${drain.completionsPerSecond} completions/s (${drain.seconds} s), ${drain.commitsPerCall} PostgreSQL commits a call; CPU a call: that process ${drain.cpuMsPerCall} ms (its start included), the machine ${drain.machineCpuMsPerCall} ms`);
  figures.callToEventSend = { ...latency, queueDrain: drain };
}
if (only.has('rate')) {
  const batched = await rateLimitedPortal(50, RATE_LIMITED_CALLS);
  console.log(`rate-limited portal (2 req/s), batched answers:   ${batched.completionsPerSecond} completions/s (${batched.calls} in ${batched.seconds} s, ${batched.portal503s} portal 503s)`);
  const unbatched = await rateLimitedPortal(1, UNBATCHED_CALLS);
  console.log(`rate-limited portal (2 req/s), one answer a call: ${unbatched.completionsPerSecond} completions/s (${unbatched.calls} in ${unbatched.seconds} s, ${unbatched.portal503s} portal 503s)`);
  figures.rateLimited = { batched, unbatched };
}
if (only.has('fair')) {
  const fair = await fairness();
  console.log(`fairness: ${FAIR_PORTALS} healthy portals' call → event.send p50 ${fair.alone.p50ms} ms, p99 ${fair.alone.p99ms} ms alone; p50 ${fair.besideHanging.p50ms} ms, p99 ${fair.besideHanging.p99ms} ms beside a portal whose REST hangs (${fair.hangingCalls} of its calls hanging); p99 ratio ${fair.p99Ratio}`);
  figures.fairness = fair;
}
if (only.has('rss')) {
  const rss = await memory();
  console.log(`memory: one app process ${rss.rssBeforeMb} MB RSS before, ${rss.rssAfterMb} MB after acknowledging ${rss.calls} calls (${rss.non2xx} non-2xx)`);
  figures.memory = rss;
}
console.log(JSON.stringify({ ...figures, workerSlots: WORKER_SLOTS, load: loadavg().map((n) => Math.round(n * 100) / 100), at: new Date().toISOString() }));
process.exit(0);
