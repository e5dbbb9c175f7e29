/**
 * The portal's REST answers an application page's own calls across origins: the page lives on the
 * app's host and the SDK's frame client (B24Frame, @bitrix24/b24jssdk core/http) POSTs JSON to
 * https://<portal>/rest/<method>.json from there, so the browser asks first (OPTIONS) and then
 * reads the answer only when it is allowed. Any origin may, as the frame's auth is in the body,
 * never in a cookie.
 *
 * Registered once on the root app (not encapsulated, so its hook sees the REST routes).
 */
import type { FastifyPluginAsync } from 'fastify';
import fp from 'fastify-plugin';

const restCorsPlugin: FastifyPluginAsync = async (app) => {
  app.addHook('onRequest', async (request, reply) => {
    if (!request.url.startsWith('/rest/')) return;
    reply.header('access-control-allow-origin', '*');
    if (request.method !== 'OPTIONS') return;
    return reply
      .code(204)
      .header('access-control-allow-methods', 'GET, POST, OPTIONS')
      .header('access-control-allow-headers', request.headers['access-control-request-headers'] ?? 'content-type')
      .header('access-control-max-age', '3600')
      .send();
  });
};

/** Not encapsulated (fastify-plugin): its hook applies to the routes of every plugin. */
export const restCors = fp(restCorsPlugin, { name: 'restCors' });
