/**
 * POST /events: ONAPPINSTALL, ONAPPUPDATE, ONAPPUNINSTALL from the portal.
 *
 * An install is always proven (install-proof.ts: the OAuth server and an administrator's token).
 * An update whose application_token matches the stored one is the portal's own: it re-registers
 * the robots and changes nothing else; one bringing a new application_token is an install and
 * proven as one. An uninstall carries no token (they are already revoked): the application_token
 * is its only check.
 */
import type { FastifyPluginAsync } from 'fastify';
import { authenticatePortalRequest } from '../portals/authenticate.ts';
import type { PortalStore } from '../portals/portal-store.ts';
import { APP_EVENTS } from './bind-events.ts';
import { isHost, isMemberId, record, text } from './fields.ts';
import { InstallRefused, type Installer, type InstallRequest } from './installer.ts';

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
    const domain = text(auth, 'domain', 255);
    const installRequest = (): InstallRequest => ({
      memberId,
      domain: isHost(domain) ? domain : undefined,
      accessToken: text(auth, 'access_token', 1024),
      refreshToken: text(auth, 'refresh_token', 1024),
      applicationToken: text(auth, 'application_token', 255),
      languageId: text(data, 'LANGUAGE_ID', 8),
      appVersion: numberOrNull(text(data, 'VERSION', 12)),
    });

    try {
      if (event === 'ONAPPINSTALL') {
        await installer.install(installRequest());
        return { result: true };
      }
      const verdict = await authenticatePortalRequest(store, auth);
      if (event === 'ONAPPUPDATE') {
        if (verdict.ok && verdict.portal.state === 'installed') {
          await installer.update(verdict.portal, numberOrNull(text(data, 'VERSION', 12)));
        } else {
          // A new application_token, or a portal whose tokens died: only a proven administrator
          // may set them.
          await installer.install(installRequest());
        }
        return { result: true };
      }
      if (!verdict.ok || verdict.portal.state === 'uninstalled') return refuse(verdict.ok ? 'not installed' : verdict.reason);
      await installer.uninstall(verdict.portal, text(data, 'CLEAN', 1) === '1');
      return { result: true };
    } catch (error) {
      if (error instanceof InstallRefused) return refuse(error.message);
      throw error;
    }
  });
};

function numberOrNull(value: string | undefined): number | null {
  const n = Number(value);
  return value !== undefined && Number.isFinite(n) ? n : null;
}
