/**
 * The run queue and the answers on the embedded database (PGlite, no DATABASE_URL: what
 * `npm start` uses out of the box): calls are stored, claimed, run, finished and answered
 * through the same statements as on a PostgreSQL server, a robot's progress lines included.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/db/database.ts';
import { waitFor } from '../support/process.ts';
import { startStack, type Stack } from '../support/stack.ts';

describe('the run queue on the embedded database', () => {
  let stack: Stack;
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'b24-embedded-queue-'));
    const db = await openDatabase({ dataDir: dir }, pino({ level: 'silent' }));
    expect(db.kind).toBe('embedded');
    stack = await startStack({
      database: { url: '', db, drop: () => db.close() },
      emulator: { rateLimit: { drainPerSec: 20, maxBurst: 200 } },
      rateLimit: { drainPerSec: 20, capacity: 150 },
      logLevel: 'warn',
    });
    await stack.install(stack.memberId(0), 'headless');
  }, 300_000); // PGlite and the schema engine are WASM: the first migration takes a minute or two on a busy machine
  afterAll(async () => {
    await stack?.stop();
    await stack?.database.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('runs workflows of several steps, started together, and records every answer', async () => {
    const member = stack.memberId(0);
    const templateId = await stack.templateWith(member, [
      { code: 'hash_value', name: 'Hash', properties: { value: 'abc', algorithm: 'md5' } },
      { code: 'find_user', name: 'Find', properties: { user: 'user_1' } },
    ]);
    const workflows = await Promise.all(Array.from({ length: 10 }, () => stack.runWorkflow(member, templateId)));
    expect(workflows.map((w) => w.status)).toEqual(workflows.map(() => 'completed'));
    expect(workflows.every((w) => (w.returnValues.Hash as { hash: string }).hash === '900150983cd24fb0d6963f7d28e17f72')).toBe(true);
    const prisma = stack.database.db.prisma;
    await waitFor(async () => (await prisma.handlerCall.count({ where: { answeredAt: { not: null } } })) === 20, 30_000, 'every call recorded answered');
    expect(await prisma.handlerCall.count({ where: { status: 'answered', finishedAt: { not: null }, leaseUntil: null } })).toBe(20);
    expect(await prisma.pendingAnswer.count()).toBe(0);
  });
});
