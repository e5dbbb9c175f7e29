import { mkdtempSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createEmptyDatabase } from '../support/db.ts';
import { freePort, postDeclaringLength, spawnApp, waitFor } from '../support/process.ts';

describe('npm start', () => {
  const dir = mkdtempSync(join(tmpdir(), 'b24-start-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('comes up on the embedded database, is healthy and ready, and stops cleanly on SIGTERM', async () => {
    const port = await freePort();
    const run = spawnApp({ PORT: String(port), HOST: '127.0.0.1', DATA_DIR: dir, LOG_LEVEL: 'info' });
    const base = `http://127.0.0.1:${port}`;
    const ready = await waitFor(async () => (await fetch(`${base}/readyz`)).status === 200, 90_000, '/readyz');
    expect(ready).toBe(true);
    expect(await (await fetch(`${base}/healthz`)).json()).toEqual({ status: 'ok' });

    run.child.kill('SIGTERM');
    expect(await run.exited).toBe(0);
    expect(run.stdout()).toContain('"msg":"stopped"');
    expect(run.stdout()).toContain('DEVELOPMENT VALUES IN USE');
  });

  it('against PostgreSQL: a form body that cannot be parsed gets a 4xx, never a 5xx', async () => {
    const empty = await createEmptyDatabase();
    const port = await freePort();
    const run = spawnApp({ PORT: String(port), HOST: '127.0.0.1', DATABASE_URL: empty.url, LOG_LEVEL: 'warn' });
    const base = `http://127.0.0.1:${port}`;
    try {
      await waitFor(async () => (await fetch(`${base}/readyz`)).status === 200, 90_000, '/readyz');
      const bad = await fetch(`${base}/handlers/hash_value`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"not json',
      });
      expect(bad.status).toBe(400);
      expect(await postDeclaringLength(`${base}/events`, 'application/x-www-form-urlencoded', 2 * 1024 * 1024)).toBe(413);
    } finally {
      run.child.kill('SIGTERM');
      expect(await run.exited).toBe(0);
      await empty.drop();
    }
  });

  it('on SIGTERM answers a request still arriving on a kept-alive connection, then stops without waiting out the keep-alive', async () => {
    const empty = await createEmptyDatabase();
    const port = await freePort();
    const run = spawnApp({ PORT: String(port), HOST: '127.0.0.1', DATABASE_URL: empty.url, LOG_LEVEL: 'info' });
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      await waitFor(async () => (await fetch(`http://127.0.0.1:${port}/readyz`)).status === 200, 90_000, '/readyz');
      // Half a form body is sent, so the request is in flight (its connection not idle) when the signal comes.
      const body = 'event=ONAPPINSTALL&data=';
      const req = request({ host: '127.0.0.1', port, path: '/events', method: 'POST', agent, headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-length': body.length * 2 } });
      const answered = new Promise<number>((resolve, reject) => {
        req.on('response', (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        });
        req.on('error', reject);
      });
      req.write(body);
      await waitFor(async () => run.stdout().includes('"url":"/events"'), 10_000, 'the app to have the request');
      run.child.kill('SIGTERM');
      await waitFor(async () => run.stdout().includes('"msg":"shutting down"'), 10_000, 'shutting down');
      req.end(body);
      expect(await answered).toBeGreaterThanOrEqual(200);
      // Fastify keeps an idle connection 72 s: the process must not wait that out.
      expect(await Promise.race([run.exited, new Promise((resolve) => setTimeout(() => resolve('still running 30 s after SIGTERM'), 30_000))])).toBe(0);
    } finally {
      agent.destroy();
      if (run.child.exitCode === null) run.child.kill('SIGKILL');
      await empty.drop();
    }
  });
});
