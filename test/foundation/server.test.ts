import { mkdtempSync, rmSync } from 'node:fs';
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
});
