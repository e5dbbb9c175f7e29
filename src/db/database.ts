/**
 * The app's database behind one switch: a PostgreSQL server when DATABASE_URL is set, else an
 * embedded PostgreSQL (PGlite, compiled to WASM) in DATA_DIR, so the app runs on a laptop with
 * nothing installed. Both get the same migrations on open.
 */
import { mkdirSync } from 'node:fs';
import type { PGlite } from '@electric-sql/pglite';
import { PrismaPg } from '@prisma/adapter-pg';
import type { SqlMigrationAwareDriverAdapterFactory } from '@prisma/driver-adapter-utils';
import type { Logger } from 'pino';
import { PrismaClient } from '../generated/prisma/client.ts';
import pg from 'pg';
import { applyMigrations, pendingMigrations } from './migrations.ts';

export interface Database {
  prisma: PrismaClient;
  kind: 'postgres' | 'embedded';
  connectionString?: string;
  pglite?: PGlite;
  /** database reachable and every migration applied: null, else why not */
  notReady(): Promise<string | null>;
  close(): Promise<void>;
}

export interface DatabaseSettings {
  databaseUrl?: string;
  dataDir: string;
}

export async function openDatabase(settings: DatabaseSettings, logger: Logger, options: { migrate?: boolean } = {}): Promise<Database> {
  const migrate = options.migrate ?? true;
  let adapter: SqlMigrationAwareDriverAdapterFactory;
  let pglite: PGlite | undefined;
  if (settings.databaseUrl) {
    adapter = new PrismaPg({ connectionString: settings.databaseUrl, max: 10 });
  } else {
    mkdirSync(settings.dataDir, { recursive: true });
    // Loaded only for the embedded database: a PostgreSQL server's processes never carry it.
    const [{ PGlite }, { PrismaPGlite }] = await Promise.all([import('@electric-sql/pglite'), import('pglite-prisma-adapter')]);
    pglite = await PGlite.create(settings.dataDir);
    adapter = new PrismaPGlite(pglite);
  }
  try {
    if (migrate) {
      const applied = await migrateOnce(settings.databaseUrl, pglite, adapter);
      if (applied.length > 0) logger.info({ migrations: applied }, 'migrations applied');
    }
  } catch (error) {
    await pglite?.close();
    throw error;
  }
  const prisma = new PrismaClient({ adapter });
  return {
    prisma,
    kind: pglite ? 'embedded' : 'postgres',
    connectionString: settings.databaseUrl,
    pglite,
    async notReady() {
      try {
        const pending = await pendingMigrations((sql) => prisma.$queryRawUnsafe(sql));
        return pending.length > 0 ? `migrations not applied: ${pending.join(', ')}` : null;
      } catch (error) {
        return `database unreachable: ${(error as Error).message}`;
      }
    },
    async close() {
      await prisma.$disconnect();
      await pglite?.close();
    },
  };
}

/**
 * Applies pending migrations, one instance at a time: several instances starting together wait
 * on one PostgreSQL advisory lock (the schema engine's own lock gives up after 10 s), and an
 * instance that finds nothing pending never starts the engine at all.
 */
async function migrateOnce(databaseUrl: string | undefined, pglite: PGlite | undefined, adapter: SqlMigrationAwareDriverAdapterFactory): Promise<string[]> {
  if (pglite) {
    const pending = await pendingMigrations(async (sql) => (await pglite.query<{ migration_name: string }>(sql)).rows);
    return pending.length > 0 ? applyMigrations(adapter) : [];
  }
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query(`SELECT pg_advisory_lock(hashtext('b24-automation:migrations'))`);
    const pending = await pendingMigrations(async (sql) => (await client.query<{ migration_name: string }>(sql)).rows);
    return pending.length > 0 ? await applyMigrations(adapter) : [];
  } finally {
    await client.end();
  }
}
