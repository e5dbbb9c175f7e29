/** POST /api/registration/sync: an admin repairs the portal's robot registration on demand. */
import type { FastifyPluginAsync } from 'fastify';
import type { SyncReport } from '../robots/registration.ts';
import type { FrameAuth } from './frame-auth.ts';

export interface RegistrationRouteOptions {
  auth: FrameAuth;
  syncPortal: (portalId: number) => Promise<SyncReport>;
}

export const registrationRoute: FastifyPluginAsync<RegistrationRouteOptions> = async (app, { auth, syncPortal }) => {
  app.post('/api/registration/sync', async (request, reply) => {
    const user = await auth.require(request, reply, { admin: true });
    if (!user) return reply;
    const report = await syncPortal(user.portal.id);
    request.log.info({ portal: user.portal.memberId, user: user.userId, ...countsOf(report) }, 'registration synced on demand');
    return report;
  });
};

function countsOf(report: SyncReport) {
  return { added: report.added.length, updated: report.updated.length, deleted: report.deleted.length };
}
