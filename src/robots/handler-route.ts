/**
 * POST /handlers/:code — one route for every robot and action. Authenticate the portal, read
 * the call, store it with its job, and only then answer 200. Property values are checked by the
 * worker against the definition, so a call with bad values is still kept and answered through
 * bizproc.event.send with a clear message instead of leaving the workflow waiting.
 */
import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import type { PgBoss } from 'pg-boss';
import type { PrismaClient } from '../generated/prisma/client.ts';
import { authenticatePortalRequest } from '../portals/authenticate.ts';
import type { PortalStore } from '../portals/portal-store.ts';
import { acceptCall } from '../runtime/intake.ts';
import type { Catalog } from './catalog.ts';
import { parseHandlerCall } from './handler-call.ts';

export interface HandlerRouteOptions {
  prisma: PrismaClient;
  store: PortalStore;
  boss: PgBoss;
  catalog: Catalog;
}

export const handlerRoute: FastifyPluginAsync<HandlerRouteOptions> = async (app, { prisma, store, boss, catalog }) => {
  app.post<{ Params: { code: string } }>('/handlers/:code', async (request, reply) => {
    const { code } = request.params;
    if (!catalog.has(code)) {
      return reply.code(404).send({ error: 'UNKNOWN_HANDLER', error_description: `no robot or action with code "${code.slice(0, 64)}"` });
    }
    const parsed = parseHandlerCall(request.body, code);
    if (!parsed.ok) {
      return reply.code(400).send({ error: 'INVALID_CALL', error_description: parsed.errors.join('; ') });
    }
    let verdict;
    try {
      verdict = await authenticatePortalRequest(store, parsed.call.auth);
    } catch (error) {
      request.log.error({ code, workflow: parsed.call.workflowId, err: error }, 'handler call not checked: the database did not answer');
      return notStored(reply);
    }
    if (!verdict.ok) {
      request.log.warn({ code, reason: verdict.reason }, 'handler call refused');
      return reply.code(401).send({ error: 'INVALID_APPLICATION_TOKEN', error_description: 'the call could not be authenticated' });
    }
    if (verdict.portal.state !== 'installed') {
      return reply.code(403).send({ error: 'PORTAL_NOT_INSTALLED', error_description: 'the application is not installed on this portal' });
    }
    let intake;
    try {
      intake = await acceptCall(prisma, boss, verdict.portal.id, parsed.call);
    } catch (error) {
      // Not stored, so not acknowledged: the portal hears "unavailable", never "accepted".
      request.log.error({ portal: verdict.portal.memberId, code, workflow: parsed.call.workflowId, err: error }, 'handler call not stored');
      return notStored(reply);
    }
    request.log.info(
      { portal: verdict.portal.memberId, code, call: intake.callId.toString(), workflow: parsed.call.workflowId, duplicate: intake.duplicate },
      intake.duplicate ? 'handler call already stored' : 'handler call stored',
    );
    return { result: 'accepted', call: intake.callId.toString() };
  });
};

function notStored(reply: FastifyReply) {
  return reply.code(503).header('retry-after', '5').send({ error: 'NOT_STORED', error_description: 'the call could not be stored right now; it was not accepted' });
}
