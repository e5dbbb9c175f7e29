/**
 * GET /metrics in Prometheus' text format: the counters of metrics.ts, the queue's depth
 * (queue-depth.ts) and Node's process metrics. Never public: either on a port of its own
 * (METRICS_PORT, for a network only Prometheus reaches) or behind a bearer token
 * (METRICS_TOKEN), or both. Off unless one is configured (config.ts).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import Fastify, { type FastifyInstance, type FastifyPluginAsync } from 'fastify';
import { collectDefaultMetrics, Registry } from 'prom-client';
import type { PrismaClient } from '../generated/prisma/client.ts';
import { registry } from './metrics.ts';
import { queueDepthRegistry } from './queue-depth.ts';

export interface MetricsSettings {
  /** a listener of its own on this port; null: /metrics on the app's port */
  port: number | null;
  host: string;
  /** the bearer token a scrape must send; null: none (only with a port of its own) */
  token: string | null;
}

let processRegistry: Registry | null = null;
/** Node's default metrics (CPU, memory, event loop, GC), collected once per process. */
function processMetrics(): Registry {
  if (!processRegistry) {
    processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry });
  }
  return processRegistry;
}

const digest = (value: string) => createHash('sha256').update(value).digest();

export const metricsRoute: FastifyPluginAsync<{ prisma: PrismaClient; token: string | null }> = async (app, { prisma, token }) => {
  const all = Registry.merge([registry, processMetrics(), queueDepthRegistry(prisma)]);
  const expected = token === null ? null : digest(`Bearer ${token}`);
  app.get('/metrics', { logLevel: 'warn' }, async (request, reply) => {
    if (expected && !timingSafeEqual(digest(request.headers.authorization ?? ''), expected)) {
      return reply.code(401).header('www-authenticate', 'Bearer').send({ error: 'UNAUTHORIZED', error_description: 'send Authorization: Bearer <METRICS_TOKEN>' });
    }
    return reply.type(all.contentType).send(await all.metrics());
  });
};

/** The metrics on a listener of their own; resolves once it listens. */
export async function startMetricsServer(settings: MetricsSettings & { port: number }, prisma: PrismaClient): Promise<FastifyInstance> {
  const server = Fastify({ logger: false });
  await server.register(metricsRoute, { prisma, token: settings.token });
  await server.listen({ port: settings.port, host: settings.host });
  return server;
}
