/**
 * PostgreSQL stops for several seconds in the middle of a stream of calls and starts again.
 * What arrives meanwhile is refused with 503 NOT_STORED before it is acknowledged (the portal
 * hears "unavailable", never "accepted"); everything acknowledged before or after is answered
 * once; the same app processes carry on without a restart. Runs on a PostgreSQL of its own.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildEmulator, type Emulator } from '@b24-automation/emulator';
import { openDatabase, type Database } from '../../src/db/database.ts';
import { startPrivateCluster, type PrivateCluster } from '../support/pg-cluster.ts';
import { waitFor } from '../support/process.ts';
import pino from 'pino';
import { SOAK, settle, hashTemplate, installOn, startCluster, startWorkflow, summarize, type Cluster } from './harness.ts';

const CALLS = SOAK ? 1200 : 300;
const PER_SECOND = 20;
const OUTAGE_MS = SOAK ? 20_000 : 6000;

describe('a PostgreSQL outage in the middle of a stream of calls', () => {
  let emulator: Emulator;
  let emulatorUrl: string;
  let postgres: PrivateCluster;
  let cluster: Cluster;
  let db: Database;

  beforeAll(async () => {
    postgres = await startPrivateCluster();
    emulator = await buildEmulator({ portals: 1, rateLimit: { drainPerSec: 25, maxBurst: 200 } });
    emulatorUrl = await emulator.listen();
    cluster = await startCluster({ emulator, emulatorUrl, databaseUrl: postgres.url, processes: 2, env: { PORTAL_RATE_PER_SEC: '20', PORTAL_RATE_BURST: '150' } });
    db = await openDatabase({ databaseUrl: postgres.url, dataDir: '' }, pino({ level: 'silent' }), { migrate: false });
  }, 180_000);
  afterAll(async () => {
    await cluster?.stop();
    await db?.close().catch(() => undefined);
    await emulator?.close();
    postgres?.destroy();
  });

  it('refuses before acknowledging while it is down, answers everything acknowledged, and recovers by itself', async () => {
    const member = [...emulator.state.portals.keys()][0]!;
    await installOn(emulator, cluster.clientId, [member]);
    const templateId = await hashTemplate(emulatorUrl, member, cluster.clientId);
    const pids = cluster.instances.map((i) => i.run.child.pid);

    const started = Date.now();
    const outageAt = ((CALLS / PER_SECOND) * 1000) / 3;
    const outage = (async () => {
      await new Promise((resolve) => setTimeout(resolve, outageAt));
      postgres.stop();
      const down = Date.now();
      await new Promise((resolve) => setTimeout(resolve, OUTAGE_MS));
      postgres.start();
      console.log(`reliability outage: PostgreSQL down from ${((down - started) / 1000).toFixed(1)} s for ${((Date.now() - down) / 1000).toFixed(1)} s`);
    })();
    for (let i = 0; i < CALLS; i += 1) {
      const due = started + (i * 1000) / PER_SECOND;
      if (due > Date.now()) await new Promise((resolve) => setTimeout(resolve, due - Date.now()));
      void startWorkflow(emulatorUrl, member, templateId, 1 + (i % 5));
    }
    await outage;
    await settle(emulator, CALLS);

    const summary = await summarize('database-outage', emulator, db.prisma, [member]);
    expect(summary.sent).toBe(CALLS);
    expect(summary.lost).toBe(0);
    expect(summary.duplicated).toBe(0);
    // A batch of answers whose outcome could not be recorded during the outage is sent again: one batch at most.
    expect(summary.resentAfterUnknownOutcome).toBeLessThanOrEqual(50);
    expect(summary.appErrors5xx).toBe(0);
    expect(summary.answered).toBe(summary.owed);
    // Our own record agrees: every stored call is recorded answered (once its batch's outcome is known).
    await waitFor(async () => (await db.prisma.handlerCall.count({ where: { status: 'answered' } })) === summary.stored, 60_000, 'our record of every answer');
    // Refusals are 503 NOT_STORED only, and calls after the outage are acknowledged again.
    expect(summary.refused).toBe(summary.notStored503 + emulator.state.deliveries.filter((d) => d.status === null).length);
    const lastDeliveries = emulator.state.deliveries.slice(-20);
    expect(lastDeliveries.every((d) => d.status === 200)).toBe(true);
    // Recovered without a restart: the same processes, ready.
    expect(cluster.instances.map((i) => i.run.child.pid)).toEqual(pids);
    for (const instance of cluster.instances) expect((await fetch(`http://127.0.0.1:${instance.port}/readyz`)).status).toBe(200);
  }, 420_000);
});
