import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/db/database.ts';
import { createEmptyDatabase } from '../support/db.ts';

const silent = pino({ level: 'silent' });

async function schemaSnapshot(query: (sql: string) => Promise<unknown[]>) {
  const columns = await query(
    `SELECT table_name, column_name, data_type FROM information_schema.columns WHERE table_schema = 'public' ORDER BY 1, 2`,
  );
  const migrations = await query(`SELECT migration_name, checksum, finished_at IS NOT NULL AS done FROM _prisma_migrations ORDER BY 1`);
  return { columns, migrations };
}

describe('database modes', () => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });

  it('PostgreSQL: migrations apply, and applying them again changes nothing', async () => {
    const empty = await createEmptyDatabase();
    cleanups.push(empty.drop);
    const first = await openDatabase({ databaseUrl: empty.url, dataDir: '' }, silent);
    const before = await schemaSnapshot((sql) => first.prisma.$queryRawUnsafe(sql));
    expect(await first.notReady()).toBeNull();
    await first.close();

    const second = await openDatabase({ databaseUrl: empty.url, dataDir: '' }, silent);
    expect(await schemaSnapshot((sql) => second.prisma.$queryRawUnsafe(sql))).toEqual(before);
    expect((before.migrations as unknown[]).length).toBeGreaterThan(0);
    await second.close();
  });

  it('PostgreSQL: not ready while a migration is missing', async () => {
    const empty = await createEmptyDatabase();
    cleanups.push(empty.drop);
    const db = await openDatabase({ databaseUrl: empty.url, dataDir: '' }, silent, { migrate: false });
    expect(await db.notReady()).toMatch(/^migrations not applied: \d+_init/);
    await db.close();
  });

  it('embedded: a data directory holds the database across restarts', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'b24-embedded-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const first = await openDatabase({ dataDir: dir }, silent);
    expect(first.kind).toBe('embedded');
    await first.prisma.portal.create({ data: { memberId: 'm1', domain: 'a.example', clientEndpoint: 'x', serverEndpoint: 'y' } });
    const before = await schemaSnapshot((sql) => first.prisma.$queryRawUnsafe(sql));
    await first.close();

    const second = await openDatabase({ dataDir: dir }, silent);
    expect(await second.notReady()).toBeNull();
    expect(await second.prisma.portal.count()).toBe(1);
    expect(await schemaSnapshot((sql) => second.prisma.$queryRawUnsafe(sql))).toEqual(before);
    await second.close();
  });
});
