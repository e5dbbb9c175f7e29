/**
 * The Fastify instance: form bodies the way Bitrix24 sends them (PHP bracket keys, parsed with
 * qs under deliberate limits), liveness (/livez) and readiness (/readyz), and whatever route plugins the app adds.
 */
import formbody from '@fastify/formbody';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import qs from 'qs';

export interface ServerDeps {
  logger: Logger;
  /** database reachable and migrated: null, else why not */
  notReady: () => Promise<string | null>;
  routes?: (app: FastifyInstance) => Promise<void>;
  bodyLimit?: number;
}

/** Bounds on what one form body may unfold into: Bitrix24's deepest key is properties[NAME][i]. */
export const FORM_LIMITS = { depth: 5, parameterLimit: 1000, arrayLimit: 100 } as const;
const FORM_OPTIONS: qs.IParseOptions = { ...FORM_LIMITS, allowPrototypes: false };

/** Form bodies as Bitrix24 sends them; the bench's empty route registers the same parser. */
export async function registerFormBodies(app: FastifyInstance): Promise<void> {
  await app.register(formbody, { parser: (body) => qs.parse(body, FORM_OPTIONS) });
}

export async function buildServer(deps: ServerDeps): Promise<FastifyInstance> {
  const app: FastifyInstance = Fastify({
    loggerInstance: deps.logger as FastifyBaseLogger,
    bodyLimit: deps.bodyLimit ?? 1024 * 1024,
    return503OnClosing: true,
  });
  await registerFormBodies(app);

  // No answer of ours is ever to be read as another type than the one it declares.
  app.addHook('onSend', async (_request, reply) => {
    reply.header('x-content-type-options', 'nosniff');
  });

  app.setErrorHandler((error: Error & { statusCode?: number; code?: string }, request, reply) => {
    const status = error.statusCode && error.statusCode >= 400 ? error.statusCode : 500;
    if (status >= 500) request.log.error({ err: error }, 'request failed');
    return reply.code(status).send({
      error: status >= 500 ? 'INTERNAL_ERROR' : (error.code ?? 'BAD_REQUEST'),
      error_description: status >= 500 ? 'the request could not be completed; it was not stored' : error.message,
    });
  });

  // Liveness: the process answers (no database: a database outage must not get it restarted).
  // /healthz is the older name of the same check.
  const alive = async () => ({ status: 'ok' });
  app.get('/livez', alive);
  app.get('/healthz', alive);
  app.get('/readyz', async (_request, reply) => {
    const reason = await deps.notReady();
    return reason ? reply.code(503).send({ status: 'not ready', reason }) : { status: 'ready' };
  });

  if (deps.routes) await deps.routes(app);
  return app;
}

/**
 * Stops taking requests and waits for those in flight, then returns. Fastify closes the
 * connections that are idle when close begins, but one whose request was still running becomes
 * idle afterwards and stays open for the keep-alive timeout (72 s): the queue server keeps its
 * connections alive, so a SIGTERM during a burst waited that long (measured: 8 s with an 8 s
 * timeout, 0.25 s with the sweep below). Connections that go idle while closing are closed too.
 */
export async function closeDraining(app: FastifyInstance): Promise<void> {
  const sweep = setInterval(() => app.server.closeIdleConnections(), 50);
  try {
    await app.close();
  } finally {
    clearInterval(sweep);
  }
}
