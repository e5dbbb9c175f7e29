/**
 * GET /api/status: what an admin needs to trust the app at a glance — the portal's install
 * state and token health, and each robot or action of handlers/ against what the portal has
 * registered (so a missing one shows, with the repair button next to it).
 */
import type { FastifyPluginAsync } from 'fastify';
import type { PortalClients } from '../portals/portal-client.ts';
import type { Catalog } from '../robots/catalog.ts';
import { kindsOf, registeredCode } from '../robots/catalog.ts';
import type { FrameAuth } from './frame-auth.ts';

export interface StatusRouteOptions {
  auth: FrameAuth;
  clients: PortalClients;
  catalog: Catalog;
}

export const statusRoute: FastifyPluginAsync<StatusRouteOptions> = async (app, { auth, clients, catalog }) => {
  app.get('/api/status', async (request, reply) => {
    const user = await auth.require(request, reply);
    if (!user) return reply;
    const { portal } = user;
    let registered: { robot: string[]; activity: string[] } | null = null;
    let registrationError: string | null = null;
    try {
      const client = await clients.forPortal(portal.id);
      const [robot, activity] = await Promise.all([client.call<string[]>('bizproc.robot.list'), client.call<string[]>('bizproc.activity.list')]);
      registered = { robot, activity };
    } catch (error) {
      registrationError = (error as Error).message;
    }
    return {
      portal: {
        memberId: portal.memberId,
        domain: portal.domain,
        state: portal.state,
        stateReason: portal.stateReason,
        appVersion: portal.appVersion,
        languageId: portal.languageId,
        installedAt: portal.installedAt,
        tokenExpiresAt: portal.accessExpiresAt,
      },
      user: { id: user.userId, isAdmin: user.isAdmin },
      // app.info's answer to the page's own token (asked when the token was checked): no extra request
      license: {
        status: user.app.STATUS ?? null,
        paymentExpired: user.app.PAYMENT_EXPIRED === 'Y',
        days: user.app.DAYS === null || user.app.DAYS === undefined ? null : Number(user.app.DAYS),
      },
      handlers: [...catalog.values()].map((definition) => ({
        code: definition.code,
        kind: definition.kind,
        name: definition.config.NAME,
        description: definition.config.DESCRIPTION ?? null,
        registered: registered
          ? Object.fromEntries(kindsOf(definition).map((kind) => [kind, registered![kind].includes(registeredCode(definition.code, kind))]))
          : null,
      })),
      registrationError,
    };
  });
};
