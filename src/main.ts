/**
 * `npm start`: configuration → database (migrations applied) → the app → the HTTP server.
 * SIGTERM/SIGINT stop taking requests, let those in flight finish, stop the workers, close the
 * database.
 */
import { createApp } from './app.ts';
import { ConfigError, loadConfig, type Config } from './config.ts';
import { openDatabase } from './db/database.ts';
import { createLogger } from './logger.ts';
import { buildServer, closeDraining } from './server.ts';

let config: Config;
try {
  config = loadConfig();
} catch (error) {
  if (error instanceof ConfigError) {
    process.stderr.write(`configuration error: ${error.message}\n`);
    process.exit(1);
  }
  throw error;
}

const logger = createLogger(config.logLevel);
if (config.developmentDefaults.length > 0) {
  logger.warn(`DEVELOPMENT VALUES IN USE for ${config.developmentDefaults.join(', ')}: never run like this in production`);
}

// Each part registers how it stops as soon as it exists; a signal at any moment stops what has
// started, last started first.
const stops: Array<() => Promise<void>> = [];
let stopping = false;
const stop = async (signal: string) => {
  if (stopping) return;
  stopping = true;
  logger.info({ signal }, 'shutting down');
  for (const stopPart of stops.reverse()) await stopPart();
  logger.info('stopped');
  process.exit(0);
};
process.on('SIGTERM', () => void stop('SIGTERM'));
process.on('SIGINT', () => void stop('SIGINT'));

const db = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir }, logger);
stops.push(() => db.close());
let app: Awaited<ReturnType<typeof createApp>>;
try {
  app = await createApp(config, db, logger);
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  process.stderr.write(`configuration error: ${error.message}\n`);
  await db.close();
  process.exit(1);
}
stops.push(() => app.stop());
const server = await buildServer({ logger, notReady: db.notReady, routes: app.routes });
stops.push(() => closeDraining(server));
await server.listen({ port: config.port, host: config.host });
logger.info({ url: config.appBaseUrl, database: db.kind }, `listening on ${config.host}:${config.port}, public URL ${config.appBaseUrl}`);
