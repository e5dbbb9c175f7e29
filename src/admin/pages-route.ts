/**
 * The app's pages in the Bitrix24 frame: /app (the main page; Bitrix24 opens it with a POST)
 * and /placement/:code (a robot's settings page), plus their scripts under /public/.
 */
import { readFileSync } from 'node:fs';
import type { FastifyPluginAsync } from 'fastify';

const page = (file: string) => readFileSync(new URL(`../../public/${file}`, import.meta.url), 'utf8');
const SCRIPTS = new Set(['app.js']);

export const pagesRoute: FastifyPluginAsync<{ bx24Url: string }> = async (app, { bx24Url }) => {
  const main = page('app.html').replace('{{BX24_URL}}', bx24Url.replace(/[<>"']/g, ''));
  const serveMain = async (_request: unknown, reply: import('fastify').FastifyReply) => reply.type('text/html').send(main);
  app.get('/app', serveMain);
  app.post('/app', serveMain);
  // A robot's settings page opens the main page's frame context; its own editor comes with #7.
  app.get('/placement/:code', serveMain);
  app.post('/placement/:code', serveMain);
  app.get<{ Params: { file: string } }>('/public/:file', async (request, reply) => {
    if (!SCRIPTS.has(request.params.file)) return reply.code(404).send({ error: 'NOT_FOUND', error_description: 'no such file' });
    return reply.type('text/javascript').send(page(request.params.file));
  });
};
