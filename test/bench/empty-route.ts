/**
 * The empty route as a process of its own, for the acknowledgement measured against the app as
 * `npm start` runs it: the server as the app builds it (buildServer: the same body parser, hooks
 * and logger level), with one route that answers at once. Prints one line once it listens.
 */
import { createLogger } from '../../src/logger.ts';
import { buildServer } from '../../src/server.ts';

const logger = createLogger(process.env.LOG_LEVEL ?? 'warn');
const server = await buildServer({
  logger,
  notReady: async () => null,
  routes: async (app) => {
    app.post('/empty', async () => ({ result: 'ok' }));
  },
});
await server.listen({ port: Number(process.env.PORT), host: '127.0.0.1' });
console.log('listening');
