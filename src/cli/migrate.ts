/** `npm run migrate`: apply pending migrations to the configured database, then exit. */
import { ConfigError, loadConfig } from '../config.ts';
import { openDatabase } from '../db/database.ts';
import { createLogger } from '../logger.ts';

try {
  const config = loadConfig();
  const logger = createLogger(config.logLevel);
  const db = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir }, logger);
  const reason = await db.notReady();
  await db.close();
  if (reason) throw new Error(reason);
  logger.info({ database: db.kind }, 'database is up to date');
} catch (error) {
  process.stderr.write(`${error instanceof ConfigError ? 'configuration error' : 'migration failed'}: ${(error as Error).message}\n`);
  process.exit(1);
}
