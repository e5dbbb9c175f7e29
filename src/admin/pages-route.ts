/**
 * The app's pages in the Bitrix24 frame: /app (the main page; Bitrix24 opens it with a POST)
 * and /placement/:code (a robot's settings page, its PLACEMENT_HANDLER), plus their built
 * scripts and styles under /public/ (`npm run build` writes public/dist from public/src).
 */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { text } from '../lifecycle/fields.ts';
import { originOf, pagePolicy } from '../page-policy.ts';
import type { PortalStore } from '../portals/portal-store.ts';
import { projectFile } from '../project-files.ts';
import type { Catalog } from '../robots/catalog.ts';

const PUBLIC = projectFile('public/');
// Bitrix24's UI kit (@bitrix24/b24ui-nuxt 2.13.0) injects one <style id="bitrix24-ui-colors"> through
// unhead (its colors plugin: empty theme variables, written twice while mounting). Only those exact
// texts are allowed, by hash; nothing else inline. test/pages fails on any CSP violation, so a kit
// update that changes them is noticed.
const KIT_STYLE_HASHES = ["'sha256-7ZIzQltM1iU0jPqNUKNjeveSPHJnVZPsIFZx2wkyrFQ='", "'sha256-skqujXORqzxt1aE0NNXxujEanPTX6raoqSscTV/Ww/Y='"];
const DIST = new URL('dist/', PUBLIC);

export const pagesRoute: FastifyPluginAsync<{ catalog: Catalog; store: PortalStore }> = async (app, { catalog, store }) => {
  const page = (file: string) => readFileSync(new URL(file, PUBLIC), 'utf8');
  const pages = { main: page('app.html'), settings: page('settings.html') };
  const built = existsSync(new URL('app.js', DIST));
  // Framed only by the portal that opens the page: Bitrix24 POSTs its member_id, and the origin
  // is the one we stored from the OAuth server. A page opened any other way may not be framed.
  const ancestorsOf = async (request: FastifyRequest): Promise<string[]> => {
    const memberId = text(request.body, 'member_id', 64);
    const portal = memberId ? await store.findByMemberId(memberId) : null;
    return portal && portal.state !== 'uninstalled' ? [originOf(portal.clientEndpoint)] : [];
  };
  const send = (html: string) => async (request: FastifyRequest, reply: FastifyReply) => {
    if (!built) return reply.code(503).type('text/plain').send('The pages are not built: run `npm run build`.');
    const policy = pagePolicy({ frameAncestors: await ancestorsOf(request) }).replace("style-src 'self'", `style-src 'self' ${KIT_STYLE_HASHES.join(' ')}`);
    return reply.type('text/html; charset=utf-8').header('content-security-policy', policy).header('cache-control', 'no-store').send(html);
  };

  app.get('/app', send(pages.main));
  app.post('/app', send(pages.main));
  const settings = send(pages.settings);
  const placement = async (request: FastifyRequest<{ Params: { code: string } }>, reply: FastifyReply) => {
    const definition = catalog.get(request.params.code);
    if (!definition || definition.config.USE_PLACEMENT !== 'Y') {
      return reply.code(404).send({ error: 'NOT_FOUND', error_description: 'no robot of this app has a settings page by that code' });
    }
    return settings(request, reply);
  };
  app.get<{ Params: { code: string } }>('/placement/:code', placement);
  app.post<{ Params: { code: string } }>('/placement/:code', placement);

  if (built) {
    await app.register(fastifyStatic, { root: fileURLToPath(DIST), prefix: '/public/', index: false, wildcard: false, decorateReply: false });
  }
};
