/**
 * GET|POST /install: the page Bitrix24 opens in a frame when an admin installs the app.
 * POST: AUTH_ID, AUTH_EXPIRES, REFRESH_ID, SERVER_ENDPOINT, member_id, status, PLACEMENT,
 * PLACEMENT_OPTIONS, APPLICATION_TOKEN; query: DOMAIN, PROTOCOL, LANG, APP_SID.
 * Only REFRESH_ID, member_id and DOMAIN matter: the install is proven through the OAuth server
 * (install-proof.ts), which names the portal's endpoints; the request's own are not used. A
 * refused install shows a generic message — the reason is in the log, never on the page.
 */
import { readFileSync } from 'node:fs';
import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import { frameOrigin, newNonce, originOf, pagePolicy } from '../page-policy.ts';
import { isHost, isMemberId, text } from './fields.ts';
import { InstallRefused, type Installer } from './installer.ts';
import { pageText } from './install-texts.ts';
import { projectFile } from '../project-files.ts';

const template = readFileSync(projectFile('public/install.html'), 'utf8');

export interface InstallRouteOptions {
  installer: Installer;
}

type Outcome = 'ok' | 'refused' | 'failed' | 'open';

export const installRoute: FastifyPluginAsync<InstallRouteOptions> = async (app, { installer }) => {
  const send = (reply: FastifyReply, status: number, lang: string, outcome: Outcome, frameAncestors: string[]) => {
    const texts = pageText(lang);
    const nonce = newNonce();
    const values: Record<string, string> = {
      LANG: texts.lang,
      TITLE: outcome === 'ok' ? texts.installed : outcome === 'open' ? texts.openFromPortal : texts.failed,
      STATE: outcome === 'ok' ? 'ok' : 'error',
      MESSAGE: { ok: texts.installedHint, refused: texts.refused, failed: texts.retry, open: texts.openHint }[outcome],
      FINISH: outcome === 'ok' ? 'true' : 'false',
      NONCE: nonce,
    };
    return reply
      .code(status)
      .type('text/html; charset=utf-8')
      .header('content-security-policy', pagePolicy({ frameAncestors, nonce }))
      .header('cache-control', 'no-store')
      .send(template.replace(/\{\{(\w+)\}\}/g, (_m, key: string) => escapeHtml(values[key] ?? '')));
  };

  const handle = async (query: unknown, body: unknown, reply: FastifyReply) => {
    const lang = text(query, 'LANG', 8) ?? 'en';
    const domain = text(query, 'DOMAIN', 255);
    // Before the portal is proven, the page may be framed by the host the frame names: it shows
    // nothing of anyone's but a generic outcome.
    const claimedOrigin = frameOrigin(domain, text(query, 'PROTOCOL', 1));
    const accessToken = text(body, 'AUTH_ID', 1024);
    if (!accessToken) return send(reply, 200, lang, 'open', claimedOrigin);
    const memberId = text(body, 'member_id', 64);
    if (!isHost(domain) || !isMemberId(memberId)) {
      app.log.warn({ portal: memberId }, 'install refused: DOMAIN or member_id missing or malformed');
      return send(reply, 400, lang, 'refused', claimedOrigin);
    }
    try {
      const portal = await installer.install({
        memberId,
        domain,
        accessToken,
        refreshToken: text(body, 'REFRESH_ID', 1024),
        applicationToken: text(body, 'APPLICATION_TOKEN', 255),
        languageId: lang,
      });
      return send(reply, 200, lang, 'ok', [originOf(portal.clientEndpoint)]);
    } catch (error) {
      if (error instanceof InstallRefused) {
        app.log.warn({ portal: memberId, reason: error.message }, 'install refused');
        return send(reply, 403, lang, 'refused', claimedOrigin);
      }
      app.log.error({ portal: memberId, err: error }, 'install failed');
      return send(reply, 502, lang, 'failed', claimedOrigin);
    }
  };

  app.get('/install', (request, reply) => handle(request.query, {}, reply));
  app.post('/install', (request, reply) => handle(request.query, request.body, reply));
};

function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
