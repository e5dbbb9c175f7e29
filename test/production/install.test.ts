/**
 * The production install, as the image's runtime stage has it: the paths the Dockerfile's runtime
 * stage copies, laid out in an empty folder, `npm ci --omit=dev …` exactly as the stage runs it,
 * then `node dist/src/main.js` from there (no node_modules above it to fall back on) against a
 * fresh PostgreSQL database. Installed on an emulator portal, it answers robot calls end to end;
 * stopped with SIGTERM in the middle of a burst, every call it acknowledged is answered (by the
 * next start). A runtime import of a devDependency fails here.
 */
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildEmulator, emulatorControl, internalTypeOf, type Control, type Emulator, type WorkflowRuntime } from '@b24-automation/emulator';
import { createEmptyDatabase } from '../support/db.ts';
import { inheritedEnv, reservePort, ROOT, waitFor } from '../support/process.ts';
import { applicationFor } from '../support/stack.ts';
import { readRuntimeStage, layOut } from './runtime-stage.ts';
import { scrape } from './scrape.ts';

/** Never needed to run: build tools, test tools, the emulator's certificate maker. */
const DEV_ONLY = ['tsx', 'esbuild', 'selfsigned', 'typescript', 'vite', 'vitest', 'prisma', 'playwright-core', 'vue', 'autocannon'];

interface Running {
  exited: Promise<number | null>;
  output: () => string;
  kill: (signal: NodeJS.Signals) => void;
}

describe('the production install (the Dockerfile runtime stage, npm ci --omit=dev)', () => {
  const folder = mkdtempSync(join(tmpdir(), 'b24-production-'));
  const clientId = `local.${randomBytes(5).toString('hex')}.production`;
  const clientSecret = randomBytes(16).toString('hex');
  const tokenKey = randomBytes(32).toString('hex');
  const metricsToken = randomBytes(24).toString('hex');
  let emulator: Emulator;
  let emulatorUrl: string;
  let control: Control;
  let database: Awaited<ReturnType<typeof createEmptyDatabase>>;
  let port: number;
  let appUrl: string;
  let member: string;
  let templateId: number;
  const running: Running[] = [];

  /** `node dist/src/main.js` in the folder, as the image's CMD runs it. */
  const start = (env: Record<string, string> = {}): Running => {
    const child = spawn(process.execPath, ['dist/src/main.js'], {
      cwd: folder,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        ...inheritedEnv(),
        NODE_ENV: 'production',
        PORT: String(port),
        HOST: '127.0.0.1',
        APP_BASE_URL: appUrl,
        DATABASE_URL: database.url,
        B24_CLIENT_ID: clientId,
        B24_CLIENT_SECRET: clientSecret,
        B24_OAUTH_URL: `${emulatorUrl}/oauth/token/`,
        TOKEN_ENCRYPTION_KEY: tokenKey,
        LOG_LEVEL: 'info',
        ...env,
      },
    });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    // 'close', not 'exit': by then its output has been read to the end.
    const run = { exited: once(child, 'close').then(([code]) => code as number | null), output: () => output, kill: (s: NodeJS.Signals) => child.kill(s) };
    running.push(run);
    return run;
  };
  // Ready, or the reason it is not: a process that exits (a missing module, a bad setting) fails at once.
  const ready = (run: Running) =>
    Promise.race([
      waitFor(async () => (await fetch(`${appUrl}/readyz`)).ok, 90_000, 'the production install ready'),
      run.exited.then((code) => {
        throw new Error(`exited with ${code} before it was ready`);
      }),
    ]).catch((error: Error) => {
      throw new Error(`${error.message}\n${run.output().slice(-3000)}`);
    });
  const stop = async (run: Running) => {
    run.kill('SIGTERM');
    const code = await Promise.race([run.exited, new Promise<'hung'>((resolve) => setTimeout(() => resolve('hung'), 60_000))]);
    if (code === 'hung') run.kill('SIGKILL');
    return code;
  };
  const startWorkflow = async () =>
    (await control<{ id: string }>('POST', `/_emulator/portals/${member}/workflows`, { templateId, documentId: ['crm', 'CCrmDocumentDeal', 'DEAL_1'] })).id;
  const acknowledged = () => emulator.state.deliveries.filter((d) => d.status === 200 && d.memberId === member);
  const answered = (eventToken: string) => ((emulator.state.workflows as WorkflowRuntime).answers.get(eventToken)?.eventSend ?? 0) >= 1;

  beforeAll(async () => {
    // `npm test` builds everything first; a single run of this file builds what is missing.
    if (!existsSync(join(ROOT, 'public/dist/app.js'))) execFileSync(process.execPath, ['scripts/build-pages.mjs'], { cwd: ROOT, stdio: 'inherit' });
    const stage = readRuntimeStage(join(ROOT, 'Dockerfile'));
    layOut(stage, ROOT, folder);
    const [npm, ...args] = stage.install;
    try {
      execFileSync(npm!, [...args, '--prefer-offline'], { cwd: folder, stdio: 'pipe', encoding: 'utf8' });
    } catch (error) {
      throw new Error(`${stage.install.join(' ')} failed:\n${(error as { stderr?: string }).stderr ?? error}`);
    }

    emulator = await buildEmulator({ portals: 1, rateLimit: { drainPerSec: 50, maxBurst: 500 } });
    emulatorUrl = await emulator.listen();
    control = emulatorControl(emulatorUrl);
    member = [...emulator.state.portals.keys()][0]!;
    database = await createEmptyDatabase();
    const reserved = await reservePort();
    port = reserved.port;
    appUrl = `http://127.0.0.1:${port}`;
    await reserved.release();
    await control('POST', '/_emulator/applications', applicationFor(appUrl, clientId, clientSecret));
  }, 600_000);

  afterAll(async () => {
    for (const run of running) run.kill('SIGKILL');
    await emulator?.close();
    await database?.drop();
    rmSync(folder, { recursive: true, force: true });
  });

  it('carries the production dependencies only', () => {
    const installed = new Set(readdirSync(join(folder, 'node_modules')));
    expect(DEV_ONLY.filter((name) => installed.has(name))).toEqual([]);
    expect(installed.has('fastify') && installed.has('prom-client') && installed.has('pg-boss')).toBe(true);
    expect(existsSync(join(folder, 'src'))).toBe(false);
  });

  it('starts on a fresh database, installs on a portal, answers a robot call, and stops on SIGTERM with nothing acknowledged lost', async () => {
    const first = start({ METRICS_TOKEN: metricsToken });
    await ready(first);
    expect(await (await fetch(`${appUrl}/livez`)).json()).toEqual({ status: 'ok' });
    expect((await fetch(`${appUrl}/metrics`)).status).toBe(401);

    const { applicationToken } = await control('POST', `/_emulator/portals/${member}/apps/${clientId}/install`, { mode: 'headless' });
    expect(applicationToken).toBeTruthy();
    const portal = emulator.state.portals.get(member)!;
    await waitFor(async () => (portal.apps.get(clientId)?.robots.size ?? 0) > 0, 60_000, 'robots registered');
    const { id } = await control<{ id: number }>('POST', `/_emulator/portals/${member}/templates`, {
      steps: [{ Type: internalTypeOf(clientId, 'hash_value'), Name: 'Hash', Properties: { value: 'abc', algorithm: 'md5' }, Children: [] }],
      ownerClientId: clientId,
    });
    templateId = id;
    const workflow = await control('GET', `/_emulator/portals/${member}/workflows/${await startWorkflow()}?wait=30000`);
    expect(workflow.status).toBe('completed');
    expect(workflow.returnValues.Hash).toEqual({ hash: '900150983cd24fb0d6963f7d28e17f72' });
    const metrics = await waitFor(async () => {
      const samples = await scrape(`${appUrl}/metrics`, metricsToken);
      return samples('b24_answers_sent_total', { method: 'bizproc.event.send' }) === 1 && samples;
    });
    expect(metrics('b24_handler_calls_acknowledged_total', { duplicate: 'false' })).toBe(1);
    expect(metrics('b24_lifecycle_events_total', { event: 'install' })).toBe(1);

    // A burst, and SIGTERM once some of it is acknowledged: the rest is refused (503) or never
    // reaches a listener; what was acknowledged must all be answered.
    const burst = Array.from({ length: 40 }, () => startWorkflow());
    await waitFor(async () => acknowledged().length >= 6, 60_000, 'part of the burst acknowledged');
    const stopping = Date.now();
    expect(await stop(first), first.output().slice(-3000)).toBe(0);
    const stoppedInMs = Date.now() - stopping;
    expect(first.output()).toContain('"msg":"stopped"');
    await Promise.allSettled(burst);

    const metricsPort = await reservePort();
    await metricsPort.release();
    const second = start({ METRICS_PORT: String(metricsPort.port) });
    await ready(second);
    const calls = acknowledged();
    console.log(`SIGTERM after ${calls.length} of ${emulator.state.deliveries.length} calls sent were acknowledged; stopped in ${stoppedInMs} ms`);
    await waitFor(async () => calls.every((d) => answered(d.eventToken!)), 120_000, 'every acknowledged call answered').catch((error: Error) => {
      const missing = calls.filter((d) => !answered(d.eventToken!)).length;
      throw new Error(`${error.message}: ${missing} of ${calls.length} unanswered\n${first.output().slice(-2000)}\n${second.output().slice(-2000)}`);
    });
    expect(calls.length).toBeGreaterThanOrEqual(7);
    // Our side agrees: every call stored was answered, nothing waits.
    const queue = await waitFor(async () => {
      const samples = await scrape(`http://127.0.0.1:${metricsPort.port}/metrics`);
      return samples('b24_queue_depth', { queue: 'answers' }) === 0 && samples('b24_queue_depth', { queue: 'calls' }) === 0 && samples;
    }, 30_000, 'an empty queue');
    expect(queue('process_resident_memory_bytes')).toBeGreaterThan(0);
    const db = new pg.Client({ connectionString: database.url });
    await db.connect();
    const { rows } = await db.query<{ stored: number; unanswered: number }>(`SELECT count(*)::int AS stored, count(*) FILTER (WHERE answered_at IS NULL)::int AS unanswered FROM handler_calls`);
    await db.end();
    expect(rows[0]).toEqual({ stored: calls.length, unanswered: 0 });
    expect(await stop(second)).toBe(0);
  }, 300_000);
});
