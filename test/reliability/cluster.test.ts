/**
 * Three app processes on one database behind a balancer; under a steady stream of robot calls,
 * one process at a time is killed with SIGKILL at random moments and started again. Every call
 * the app acknowledged must be answered exactly once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildEmulator, type Emulator } from '@b24-automation/emulator';
import type { WorkflowRuntime } from '@b24-automation/emulator';
import { freshDatabase, type FreshDatabase } from '../support/db.ts';
import { waitFor } from '../support/process.ts';
import { SOAK, settle, hashTemplate, installOn, startCluster, startWorkflow, summarize, type Cluster } from './harness.ts';

const CALLS = SOAK ? 3000 : 300;
const KILLS = SOAK ? 12 : 3;
const PER_SECOND = 40;

function seededRandom(seed: number) {
  let state = seed >>> 0;
  return () => ((state = (state * 1664525 + 1013904223) >>> 0) / 2 ** 32);
}

describe('three app processes, killed with -9 one at a time under a stream of calls', () => {
  let emulator: Emulator;
  let emulatorUrl: string;
  let database: FreshDatabase;
  let cluster: Cluster;

  beforeAll(async () => {
    emulator = await buildEmulator({ portals: 1, rateLimit: { drainPerSec: 25, maxBurst: 200 } });
    emulatorUrl = await emulator.listen();
    database = await freshDatabase();
    cluster = await startCluster({
      emulator,
      emulatorUrl,
      databaseUrl: database.url,
      processes: 3,
      env: { PORTAL_RATE_PER_SEC: '20', PORTAL_RATE_BURST: '150', WORKER_CONCURRENCY: '2' },
    });
  }, 180_000);
  afterAll(async () => {
    await cluster?.stop();
    await emulator?.close();
    await database?.drop();
  });

  it('answers every acknowledged call exactly once', async () => {
    const seed = Number(process.env.RELIABILITY_SEED ?? Date.now() % 1_000_000);
    const random = seededRandom(seed);
    const member = [...emulator.state.portals.keys()][0]!;
    await installOn(emulator, cluster.clientId, [member]);
    const templateId = await hashTemplate(emulatorUrl, member, cluster.clientId);

    const started = Date.now();
    const streamMs = (CALLS / PER_SECOND) * 1000;
    const killAt = Array.from({ length: KILLS }, () => 500 + random() * (streamMs - 1000)).sort((a, b) => a - b);
    const stream = (async () => {
      for (let i = 0; i < CALLS; i += 1) {
        const due = started + (i * 1000) / PER_SECOND;
        if (due > Date.now()) await new Promise((resolve) => setTimeout(resolve, due - Date.now()));
        await startWorkflow(emulatorUrl, member, templateId, 1 + (i % 5));
      }
    })();
    const kills: string[] = [];
    for (const at of killAt) {
      const wait = started + at - Date.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      const index = Math.floor(random() * 3);
      kills.push(`#${index} at ${((Date.now() - started) / 1000).toFixed(1)} s`);
      await cluster.killAndRestart(index, 200 + random() * 1000);
    }
    await stream;
    console.log(`reliability crash: seed ${seed}, ${CALLS} workflows at ${PER_SECOND}/s, kill -9 of ${kills.join(', ')}`);

    await settle(emulator, CALLS);
    const prisma = database.db.prisma;
    // Our own record follows the portal's: every stored call recorded answered (bounded; the
    // assertions below say what is missing if it never comes).
    await waitFor(async () => (await prisma.handlerCall.count({ where: { status: { not: 'answered' } } })) === 0, 60_000, 'every stored call recorded answered').catch(() => undefined);
    const summary = await summarize('crash', emulator, prisma, [member]);
    expect(summary.sent).toBe(CALLS);
    expect(summary.acknowledged).toBeGreaterThan(CALLS * 0.8);
    expect(summary.lost).toBe(0);
    expect(summary.duplicated).toBe(0);
    // A batch of answers cut off by a kill is sent again: at most one batch (50) per kill.
    expect(summary.resentAfterUnknownOutcome).toBeLessThanOrEqual(KILLS * 50);
    expect(summary.fiveXx).toBe(0);
    expect(summary.answered).toBe(summary.owed);
    // Every acknowledged call, and every call stored even if its 200 was cut off by a kill: the
    // portal took exactly one event.send for it, and our record says answered.
    const { answers } = emulator.state.workflows as WorkflowRuntime;
    const rows = await prisma.handlerCall.findMany({ select: { eventToken: true, status: true } });
    const acknowledged = emulator.state.deliveries.filter((d) => d.status === 200).map((d) => d.eventToken!);
    const stored = new Set(rows.map((r) => r.eventToken));
    expect(acknowledged.filter((t) => !stored.has(t))).toEqual([]);
    expect(rows.filter((r) => (answers.get(r.eventToken)?.eventSend ?? 0) !== 1 || r.status !== 'answered')).toEqual([]);
  }, 420_000);
});
