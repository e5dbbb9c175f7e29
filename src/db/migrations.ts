/**
 * Applies prisma/migrations/*\/migration.sql in order and records them in _prisma_migrations,
 * exactly as `prisma migrate deploy` does (the same engine, through WASM), so an operator can
 * use either. Applying twice changes nothing.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { SqlMigrationAwareDriverAdapterFactory } from '@prisma/driver-adapter-utils';
// The schema engine (WASM) is loaded only when there is something to apply: its memory stays with
// the process for good.
import type { MigrationList } from './schema-engine.ts';
import { projectFile } from '../project-files.ts';

export const MIGRATIONS_DIR = fileURLToPath(projectFile('prisma/migrations/'));

export function readMigrations(dir = MIGRATIONS_DIR): MigrationList {
  const names = existsSync(dir)
    ? readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name).sort()
    : [];
  const lockPath = join(dir, 'migration_lock.toml');
  return {
    baseDir: dir,
    lockfile: { path: 'migration_lock.toml', content: existsSync(lockPath) ? readFileSync(lockPath, 'utf8') : null },
    shadowDbInitScript: '',
    migrationDirectories: names.map((name) => ({
      path: name,
      migrationFile: { path: 'migration.sql', content: { tag: 'ok', value: readFileSync(join(dir, name, 'migration.sql'), 'utf8') } },
    })),
  };
}

export async function applyMigrations(adapter: SqlMigrationAwareDriverAdapterFactory): Promise<string[]> {
  const { NO_FILTER, openSchemaEngine } = await import('./schema-engine.ts');
  const engine = await openSchemaEngine(adapter);
  try {
    const { appliedMigrationNames } = await engine.applyMigrations({ migrationsList: readMigrations(), filters: NO_FILTER });
    return appliedMigrationNames;
  } finally {
    engine.free();
  }
}

/** Names of migrations in the folder that the database has not finished applying. */
export async function pendingMigrations(query: (sql: string) => Promise<Array<{ migration_name: string }>>): Promise<string[]> {
  const wanted = readMigrations().migrationDirectories.map((m) => m.path);
  let applied: string[] = [];
  try {
    applied = (await query(`SELECT migration_name FROM _prisma_migrations WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL`)).map(
      (r) => r.migration_name,
    );
  } catch {
    return wanted; // no _prisma_migrations table yet
  }
  return wanted.filter((name) => !applied.includes(name));
}
