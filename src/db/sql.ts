/**
 * Plain SQL on connections of a part's own, beside Prisma: the hot paths (the acknowledgement,
 * the run queue, the answers) send one statement per operation through `pg` directly, as named
 * prepared statements (parsed and planned once per connection), without Prisma's query compiler
 * between them and PostgreSQL, and a pool of their own that nothing else in the process can
 * starve. On the embedded database (PGlite, one connection) the statements go to it as they are.
 */
import type { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import type { Logger } from 'pino';

export interface SqlDatabase {
  kind: 'postgres' | 'embedded';
  connectionString?: string;
  pglite?: PGlite;
}

export interface Sql {
  /** `name` prepares the statement once per connection; null sends it unnamed, planned at each run. */
  run<T extends object>(name: string | null, text: string, values: unknown[]): Promise<T[]>;
  close(): Promise<void>;
}

export function openSql(db: SqlDatabase, options: { connections: number; purpose: string }, logger: Logger): Sql {
  if (db.kind === 'embedded') {
    const pglite = db.pglite!;
    return {
      run: async <T extends object>(_name: string | null, text: string, values: unknown[]) => (await pglite.query<T>(text, values)).rows,
      close: async () => {},
    };
  }
  const pool = new pg.Pool({
    connectionString: db.connectionString,
    max: options.connections,
    // PostgreSQL unreachable: fail quickly (the acknowledgement answers 503 NOT_STORED) instead of piling work up.
    connectionTimeoutMillis: 2_000,
    idleTimeoutMillis: 0,
    application_name: `b24-automation ${options.purpose}`,
  });
  // An idle connection dropped by the server (an outage) must not crash the process.
  pool.on('error', (error) => logger.warn({ err: error, purpose: options.purpose }, 'database connection lost; reconnecting on demand'));
  return {
    run: async <T extends object>(name: string | null, text: string, values: unknown[]) =>
      (await pool.query<T & pg.QueryResultRow>(name ? { name, text, values } : { text, values })).rows,
    close: () => pool.end(),
  };
}
