/**
 * GET /api/me: who the frame's user is on the portal and their time zone (`profile` with the
 * user's own token), so the pages show times as the portal shows them to that user.
 */
import type { FastifyPluginAsync } from 'fastify';
import type { PortalClients } from '../portals/portal-client.ts';
import type { FrameAuth } from './frame-auth.ts';
import { withPortal } from './portal-reply.ts';

export const meRoute: FastifyPluginAsync<{ auth: FrameAuth; clients: PortalClients }> = async (app, { auth, clients }) => {
  app.get('/api/me', async (request, reply) => {
    const user = await auth.require(request, reply);
    if (!user) return reply;
    return withPortal(reply, async () => {
      const profile = await clients.forUser(user.portal, user.accessToken).call<{ TIME_ZONE?: string; TIME_ZONE_OFFSET?: number | string }>('profile');
      return {
        userId: user.userId,
        isAdmin: user.isAdmin,
        timeZone: typeof profile.TIME_ZONE === 'string' ? profile.TIME_ZONE : '',
        timeZoneOffset: Number(profile.TIME_ZONE_OFFSET ?? 0) || 0,
      };
    });
  });
};
