/**
 * GET|POST /install: the page Bitrix24 opens in a frame when an admin installs the app.
 * POST: AUTH_ID, AUTH_EXPIRES, REFRESH_ID, SERVER_ENDPOINT, member_id, status, PLACEMENT,
 * PLACEMENT_OPTIONS, APPLICATION_TOKEN; query: DOMAIN, PROTOCOL, LANG, APP_SID.
 */
import { readFileSync } from 'node:fs';
import type { FastifyPluginAsync } from 'fastify';
import { isHost, isHttpUrl, isMemberId, text } from './fields.ts';
import { InstallRefused, type Installer } from './installer.ts';
import { pageText } from './install-texts.ts';

const template = readFileSync(new URL('../../public/install.html', import.meta.url), 'utf8');

export interface InstallRouteOptions {
  installer: Installer;
  bx24Url: string;
}

export const installRoute: FastifyPluginAsync<InstallRouteOptions> = async (app, { installer, bx24Url }) => {
  const render = (lang: string, outcome: 'ok' | 'error' | 'open', message?: string) => {
    const texts = pageText(lang);
    const values: Record<string, string> = {
      LANG: texts.lang,
      TITLE: outcome === 'ok' ? texts.installed : outcome === 'error' ? texts.failed : texts.openFromPortal,
      STATE: outcome === 'ok' ? 'ok' : 'error',
      MESSAGE: message ?? (outcome === 'ok' ? texts.installedHint : texts.openHint),
      BX24_URL: bx24Url,
      FINISH: outcome === 'ok' ? 'true' : 'false',
    };
    return template.replace(/\{\{(\w+)\}\}/g, (_m, key: string) => escapeHtml(values[key] ?? ''));
  };

  const handle = async (query: unknown, body: unknown, reply: import('fastify').FastifyReply) => {
    const lang = text(query, 'LANG', 8) ?? 'en';
    const accessToken = text(body, 'AUTH_ID');
    if (!accessToken) {
      return reply.code(200).type('text/html').send(render(lang, 'open'));
    }
    const domain = text(query, 'DOMAIN', 255);
    const memberId = text(body, 'member_id', 64);
    const refreshToken = text(body, 'REFRESH_ID');
    const serverEndpoint = text(body, 'SERVER_ENDPOINT', 255);
    const problems = [
      !isHost(domain) && 'DOMAIN (query) must be the portal host',
      !isMemberId(memberId) && 'member_id must be the portal member id',
      !refreshToken && 'REFRESH_ID is required',
      !isHttpUrl(serverEndpoint) && 'SERVER_ENDPOINT must be an http(s) URL',
    ].filter(Boolean);
    if (problems.length > 0) {
      return reply.code(400).type('text/html').send(render(lang, 'error', problems.join('; ')));
    }
    const protocol = text(query, 'PROTOCOL', 1) === '0' ? 'http' : 'https';
    const expiresIn = Number(text(body, 'AUTH_EXPIRES', 12) ?? 3600);
    try {
      await installer.install({
        memberId: memberId!,
        domain: domain!,
        clientEndpoint: `${protocol}://${domain}/rest/`,
        serverEndpoint: serverEndpoint!,
        tokens: {
          accessToken,
          refreshToken: refreshToken!,
          expiresAt: Date.now() + (Number.isFinite(expiresIn) && expiresIn > 0 ? expiresIn : 3600) * 1000,
        },
        applicationToken: text(body, 'APPLICATION_TOKEN', 255),
        status: text(body, 'status', 2),
        languageId: lang,
      });
    } catch (error) {
      if (error instanceof InstallRefused) {
        app.log.warn({ portal: memberId, reason: error.message }, 'install refused');
        return reply.code(403).type('text/html').send(render(lang, 'error', error.message));
      }
      app.log.error({ portal: memberId, err: error }, 'install failed');
      return reply.code(502).type('text/html').send(render(lang, 'error', pageText(lang).retry));
    }
    return reply.code(200).type('text/html').send(render(lang, 'ok'));
  };

  app.get('/install', (request, reply) => handle(request.query, {}, reply));
  app.post('/install', (request, reply) => handle(request.query, request.body, reply));
};

function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
