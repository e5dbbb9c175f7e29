/**
 * Load: three app processes, 200 portals with the real rate limit (2 requests/s, burst 50),
 * thousands of calls, and every portal's access token expired once in the middle. Our traffic
 * must never make a portal answer 503 QUERY_LIMIT_EXCEEDED, and each portal's token is refreshed
 * exactly once for that expiry, whichever process needs it first.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildEmulator, type Emulator } from '@b24-automation/emulator';
import { freshDatabase, type FreshDatabase } from '../support/db.ts';
import { SOAK, eachInDriverSlot, settle, hashTemplate, installOn, startCluster, startWorkflow, summarize, type Cluster } from './harness.ts';

const PORTALS = 200;

/**
 * The queue server's view of our acknowledgement: how long each handler POST took, timed around
 * the emulator's own fetch (passed through untouched).
 */
function timeHandlerCalls(): { times: number[]; slow: number[]; restore: () => void } {
  const times: number[] = [];
  /** when (ms since the first call) each acknowledgement slower than a second was sent */
  const slow: number[] = [];
  const origin = performance.now();
  const realFetch = globalThis.fetch;
  globalThis.fetch = (async (input: Parameters<typeof fetch>[0], init?: Parameters<typeof fetch>[1]) => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    if (!url.includes('/handlers/')) return realFetch(input, init);
    const started = performance.now();
    const response = await realFetch(input, init);
    times.push(performance.now() - started);
    if (performance.now() - started > 1000) slow.push(started - origin);
    return response;
  }) as typeof fetch;
  return { times, slow, restore: () => void (globalThis.fetch = realFetch) };
}
const CALLS = SOAK ? 10_000 : 3000;
const PER_SECOND = SOAK ? 100 : 120;

describe('three processes, 200 portals, thousands of calls', () => {
  let emulator: Emulator;
  let emulatorUrl: string;
  let database: FreshDatabase;
  let cluster: Cluster;

  beforeAll(async () => {
    // The real limits: 2 requests a second, bursts of 50, per portal.
    emulator = await buildEmulator({ portals: PORTALS, rateLimit: { drainPerSec: 2, maxBurst: 50 } });
    emulatorUrl = await emulator.listen();
    database = await freshDatabase();
    cluster = await startCluster({ emulator, emulatorUrl, databaseUrl: database.url, processes: 3, env: { WORKER_CONCURRENCY: '4' } });
  }, 180_000);
  afterAll(async () => {
    await cluster?.stop();
    await emulator?.close();
    await database?.drop();
  });

  it('stays inside every portal’s rate limit and refreshes each token once per expiry', async () => {
    const members = [...emulator.state.portals.keys()];
    const installStarted = Date.now();
    await installOn(emulator, cluster.clientId, members, 10);
    const templates = new Map<string, number>();
    for (const member of members) templates.set(member, await hashTemplate(emulatorUrl, member, cluster.clientId));
    console.log(`reliability load: ${PORTALS} portals installed in ${((Date.now() - installStarted) / 1000).toFixed(1)} s`);
    // An install proves itself by exchanging its refresh token at the OAuth server, once per
    // portal; counted apart from the refreshes the expiry below causes.
    const installExchanges = members.map((m) => emulator.state.grants.refreshes.get(m) ?? 0);
    expect({ min: Math.min(...installExchanges), max: Math.max(...installExchanges) }).toEqual({ min: 1, max: 1 });
    emulator.state.grants.refreshes.clear();

    const acknowledgements = timeHandlerCalls();
    // The queue server (the emulator) runs in this process beside the driver: its own event loop's
    // delays are part of every time it takes, so they are reported beside them.
    const loopDelay = monitorEventLoopDelay({ resolution: 10 });
    loopDelay.enable();
    const started = Date.now();
    let expired = false;
    let expiredAt = 0;
    for (let i = 0; i < CALLS; i += 1) {
      const due = started + (i * 1000) / PER_SECOND;
      if (due > Date.now()) await new Promise((resolve) => setTimeout(resolve, due - Date.now()));
      if (!expired && i >= CALLS / 2) {
        // Every portal's access token dies at once, mid-stream.
        await eachInDriverSlot(members.length, (i) => fetch(`${emulatorUrl}/_emulator/portals/${members[i]}/expire-tokens`, { method: 'POST' }));
        expired = true;
        expiredAt = Date.now();
      }
      const member = members[i % PORTALS]!;
      void startWorkflow(emulatorUrl, member, templates.get(member)!, 1 + (i % 5));
    }
    await settle(emulator, CALLS);
    loopDelay.disable();
    acknowledgements.restore();
    const ackMs = [...acknowledgements.times].sort((a, b) => a - b);
    const at = (p: number) => Math.round(ackMs[Math.min(ackMs.length - 1, Math.floor(p * ackMs.length))] ?? 0);
    console.log(`reliability load: acknowledgement as the queue server saw it: p50 ${at(0.5)} ms, p99 ${at(0.99)} ms, max ${at(1)} ms (${ackMs.length} calls); over 1 s: ${acknowledgements.slow.length}${acknowledgements.slow.length > 0 ? `, sent between ${(Math.min(...acknowledgements.slow) / 1000).toFixed(1)} s and ${(Math.max(...acknowledgements.slow) / 1000).toFixed(1)} s` : ''}; the tokens expired at ${((expiredAt - started) / 1000).toFixed(1)} s; this process's event loop (the queue server's) delayed p99 ${Math.round(loopDelay.percentile(99) / 1e6)} ms, max ${Math.round(loopDelay.max / 1e6)} ms`);
    console.log(`reliability load: ${CALLS} calls over ${PORTALS} portals answered in ${((Date.now() - started) / 1000).toFixed(1)} s`);

    const summary = await summarize('load', emulator, database.db.prisma, members);
    expect(summary.sent).toBe(CALLS);
    expect(summary.acknowledged).toBe(CALLS);
    expect(summary.lost).toBe(0);
    expect(summary.duplicated).toBe(0);
    expect(summary.answered).toBe(summary.owed);
    expect(summary.appErrors5xx).toBe(0);
    expect(summary.rateLimited503).toBe(0);
    expect(summary.fiveXx).toBe(0);
    expect(summary.refreshes).toEqual({ min: 1, max: 1 });
  }, 540_000);
});
