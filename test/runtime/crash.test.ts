import { randomBytes } from 'node:crypto';
import { emulatorControl } from '@b24-automation/emulator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { internalTypeOf } from '@b24-automation/emulator';
import { buildEmulator, type Emulator } from '@b24-automation/emulator';
import { freshDatabase, type FreshDatabase } from '../support/db.ts';
import { freePort, spawnApp, waitFor, type Spawned } from '../support/process.ts';

const CALLS = 200;

describe('a worker killed in the middle of 200 queued calls', () => {
  let emulator: Emulator;
  let database: FreshDatabase;
  let emulatorUrl: string;
  const running: Spawned[] = [];

  beforeAll(async () => {
    emulator = await buildEmulator({ portals: 1, rateLimit: { drainPerSec: 50, maxBurst: 500 } });
    emulatorUrl = await emulator.listen();
    database = await freshDatabase();
  });
  afterAll(async () => {
    for (const run of running) run.child.kill('SIGKILL');
    await emulator?.close();
    await database?.drop();
  });

  it('answers every acknowledged call exactly once after a restart', async () => {
    const port = await freePort();
    const appUrl = `http://127.0.0.1:${port}`;
    const clientId = 'local.crash.test';
    const env = {
      PORT: String(port),
      HOST: '127.0.0.1',
      APP_BASE_URL: appUrl,
      DATABASE_URL: database.url,
      B24_CLIENT_ID: clientId,
      B24_CLIENT_SECRET: 'crash-secret',
      B24_OAUTH_URL: `${emulatorUrl}/oauth/token/`,
      TOKEN_ENCRYPTION_KEY: randomBytes(32).toString('hex'),
      PORTAL_RATE_PER_SEC: '50',
      PORTAL_RATE_BURST: '400',
      WORKER_CONCURRENCY: '2',
      LOG_LEVEL: process.env.CRASH_LOG_LEVEL ?? 'warn',
    };
    const start = async () => {
      const run = spawnApp(env);
      running.push(run);
      await waitFor(async () => (await fetch(`${appUrl}/readyz`)).ok, 60_000, 'app ready');
      return run;
    };
    const control = emulatorControl(emulatorUrl);
    const first = await start();
    const member = [...emulator.state.portals.keys()][0]!;
    await control('POST', '/_emulator/applications', { clientId, clientSecret: 'crash-secret', appUrl, installUrl: `${appUrl}/install`, eventUrl: `${appUrl}/events` });
    await control('POST', `/_emulator/portals/${member}/apps/${clientId}/install`, { mode: 'headless' });
    const { id: templateId } = await control('POST', `/_emulator/portals/${member}/templates`, {
      steps: [{ Type: internalTypeOf(clientId, 'hash_value'), Name: 'Hash', Properties: { value: 'x' }, Children: [] }],
    });
    // Answers leave slowly, so the kill lands with calls stored, running and answered.
    await control('POST', '/_emulator/faults', { method: 'batch', delayMs: 400 });

    const workflows: string[] = [];
    for (let i = 0; i < CALLS; i += 1) {
      workflows.push((await control('POST', `/_emulator/portals/${member}/workflows`, { templateId, documentId: ['crm', 'CCrmDocumentDeal', 'DEAL_1'] })).id);
    }
    const prisma = database.db.prisma;
    const t0 = Date.now();
    const mark = (what: string) => console.log(`crash test: ${what} at ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    await waitFor(async () => (await prisma.handlerCall.count()) === CALLS, 60_000, 'all calls acknowledged');
    await waitFor(async () => (await prisma.handlerCall.count({ where: { answeredAt: { not: null } } })) >= 10, 60_000, 'some answered').catch((error) => {
      console.log(first.stdout().split('\n').slice(-30).join('\n'), first.stderr().slice(-3000));
      throw error;
    });
    mark('killing the worker');
    first.child.kill('SIGKILL');
    await first.exited;
    const answeredBeforeRestart = await prisma.handlerCall.count({ where: { answeredAt: { not: null } } });
    expect(answeredBeforeRestart).toBeLessThan(CALLS);

    await control('DELETE', '/_emulator/faults');
    await start();
    mark('restarted');
    await waitFor(
      async () => workflows.every((id) => emulator.state.portals.get(member)!.workflows.instances.get(id)?.status === 'completed'),
      120_000,
      'every workflow completed',
    );
    mark('every workflow completed');
    const answers = await control('GET', '/_emulator/answers');
    const tokens = emulator.state.deliveries.map((d) => d.eventToken!);
    expect(new Set(tokens).size).toBe(CALLS);
    const counts = tokens.map((t) => answers[t]?.eventSend ?? 0);
    expect(counts.filter((c) => c !== 1)).toEqual([]);
    // The portal moves on when it takes an answer; our record of it follows when the batch returns.
    const answered = await waitFor(async () => (await prisma.handlerCall.count({ where: { status: 'answered' } })) === CALLS, 30_000, 'every call recorded answered').catch(
      async () => prisma.$queryRaw`SELECT status::text, count(*)::int AS n FROM handler_calls GROUP BY 1`,
    );
    expect(answered).toBe(true);
    console.log(`crash test: ${CALLS} calls, ${answeredBeforeRestart} answered before the kill, all ${CALLS} answered exactly once after restart`);
  }, 240_000);
});
