/**
 * POST /events: ONAPPINSTALL, ONAPPUPDATE, ONAPPUNINSTALL from the portal.
 *
 * The first install event of a portal proves itself with a working access token (app.info);
 * after that an event is accepted when its application_token matches the stored one. An
 * install or update whose application_token is new (the portal issued another) is accepted
 * only if its access token works on the portal we already know. Uninstall carries no token:
 * the application_token is its only check.
 */
import type { FastifyPluginAsync } from 'fastify';
import { authenticatePortalRequest } from '../portals/authenticate.ts';
import type { PortalStore } from '../portals/portal-store.ts';
import { APP_EVENTS } from './bind-events.ts';
import { isHost, isHttpUrl, isMemberId, record, text } from './fields.ts';
import { InstallRefused, type Installer } from './installer.ts';

export interface EventsRouteOptions {
  installer: Installer;
  store: PortalStore;
}

export const eventsRoute: FastifyPluginAsync<EventsRouteOptions> = async (app, { installer, store }) => {
  app.post('/events', async (request, reply) => {
    const body = request.body;
    const event = text(body, 'event', 64)?.toUpperCase();
    const auth = record(body, 'auth');
    const data = record(body, 'data') ?? {};
    if (!event || !(APP_EVENTS as readonly string[]).includes(event)) {
      return reply.code(400).send({ error: 'UNKNOWN_EVENT', error_description: `event must be one of ${APP_EVENTS.join(', ')}` });
    }
    const memberId = text(auth, 'member_id', 64);
    if (!auth || !isMemberId(memberId)) {
      return reply.code(400).send({ error: 'INVALID_AUTH', error_description: 'auth[member_id] is required' });
    }
    const log = request.log.child({ portal: memberId, event });
    const refuse = (reason: string) => {
      log.warn({ reason }, 'app event refused');
      return reply.code(401).send({ error: 'INVALID_APPLICATION_TOKEN', error_description: 'the event could not be authenticated' });
    };
    const tokens = tokensOf(auth);
    const verdict = await authenticatePortalRequest(store, auth);
    const known = verdict.ok ? verdict.portal : await store.findByMemberId(memberId);

    try {
      if (event === 'ONAPPINSTALL') {
        const firstInstall = !known || known.state === 'uninstalled' || !(await store.hasApplicationToken(memberId));
        if (!verdict.ok && !firstInstall && !(known && (await installer.accessTokenWorksOn(known, tokens?.accessToken)))) {
          return refuse(verdict.reason);
        }
        const clientEndpoint = text(auth, 'client_endpoint', 255);
        const domain = text(auth, 'domain', 255);
        if (!tokens || !isHttpUrl(clientEndpoint) || !isHost(domain)) {
          return reply.code(400).send({ error: 'INVALID_AUTH', error_description: 'auth needs access_token, refresh_token, domain and client_endpoint' });
        }
        await installer.install({
          memberId,
          domain,
          clientEndpoint,
          serverEndpoint: text(auth, 'server_endpoint', 255) ?? clientEndpoint,
          tokens,
          applicationToken: text(auth, 'application_token', 255),
          scope: text(auth, 'scope', 1024),
          status: text(auth, 'status', 2),
          userId: numberOrNull(text(auth, 'user_id', 12)),
          languageId: text(data, 'LANGUAGE_ID', 8),
          appVersion: numberOrNull(text(data, 'VERSION', 12)),
        });
        return { result: true };
      }

      if (!known || known.state === 'uninstalled') return refuse('unknown portal');

      if (event === 'ONAPPUPDATE') {
        const newToken = text(auth, 'application_token', 255);
        if (!verdict.ok && !(newToken && (await installer.accessTokenWorksOn(known, tokens?.accessToken)))) {
          return refuse(verdict.reason);
        }
        await installer.update(known, {
          applicationToken: verdict.ok ? undefined : newToken,
          version: numberOrNull(text(data, 'VERSION', 12)) ?? undefined,
          tokens: tokens ?? undefined,
        });
        return { result: true };
      }

      if (!verdict.ok) return refuse(verdict.reason);
      await installer.uninstall(known, text(data, 'CLEAN', 1) === '1');
      return { result: true };
    } catch (error) {
      if (error instanceof InstallRefused) return refuse(error.message);
      throw error;
    }
  });
};

function tokensOf(auth: Record<string, unknown>) {
  const accessToken = text(auth, 'access_token');
  const refreshToken = text(auth, 'refresh_token');
  if (!accessToken || !refreshToken) return null;
  const expires = Number(text(auth, 'expires', 12));
  return { accessToken, refreshToken, expiresAt: Number.isFinite(expires) && expires > 0 ? expires * 1000 : null };
}

function numberOrNull(value: string | undefined): number | null {
  const n = Number(value);
  return value !== undefined && Number.isFinite(n) ? n : null;
}
