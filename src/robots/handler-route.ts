/**
 * POST /handlers/:code — one route for every robot and action. Authenticate the portal, read
 * the call, store it with its job, and only then answer 200. Property values are checked by the
 * worker against the definition, so a call with bad values is still kept and answered through
 * bizproc.event.send with a clear message instead of leaving the workflow waiting.
 */
import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import type { Logger } from 'pino';
import { isMemberId } from '../lifecycle/fields.ts';
import { metrics } from '../metrics/metrics.ts';
import { authenticatePortalRequest } from '../portals/authenticate.ts';
import type { PortalStore } from '../portals/portal-store.ts';
import type { CallIntake, Intake } from '../runtime/intake.ts';
import type { Catalog } from './catalog.ts';
import { parseHandlerCall } from './handler-call.ts';

export interface HandlerRouteOptions {
  intake: CallIntake;
  store: PortalStore;
  catalog: Catalog;
  /** one line per stored call; Fastify's own per-request lines are off for this route */
  logger: Logger;
}

const ROUTE_SCHEMA = {
  params: { type: 'object', properties: { code: { type: 'string' } }, required: ['code'] },
  response: {
    200: { type: 'object', properties: { result: { type: 'string' }, call: { type: 'string' } }, required: ['result', 'call'] },
  },
} as const;

export const handlerRoute: FastifyPluginAsync<HandlerRouteOptions> = async (app, { intake, store, catalog, logger }) => {
  // This route's requests share one quiet child logger, made once: Fastify would make one a
  // request, and its reqId binding goes through pino's redaction (~5 KB of garbage a call,
  // measured with V8's sampling heap profiler). The route writes its own line a call instead,
  // with the portal and the call; Fastify's per-request lines are below its level.
  const quiet = app.log.child({ route: 'handlers' }, { level: 'warn' });
  app.setChildLoggerFactory(() => quiet);
  app.post<{ Params: { code: string } }>('/handlers/:code', { schema: ROUTE_SCHEMA }, async (request, reply) => {
    const { code } = request.params;
    if (!catalog.has(code)) {
      metrics.callRefused('unknown_handler');
      return reply.code(404).send({ error: 'UNKNOWN_HANDLER', error_description: `no robot or action with code "${code.slice(0, 64)}"` });
    }
    const parsed = parseHandlerCall(request.body, code);
    if (!parsed.ok) {
      metrics.callRefused('invalid_call');
      return reply.code(400).send({ error: 'INVALID_CALL', error_description: parsed.errors.join('; ') });
    }
    const auth = parsed.call.auth;
    const memberId = auth?.member_id;
    const applicationToken = auth?.application_token;
    let stored: Intake = { kind: 'unverified' };
    try {
      if (typeof memberId === 'string' && isMemberId(memberId) && typeof applicationToken === 'string' && applicationToken !== '') {
        stored = await intake.accept(memberId, applicationToken, parsed.call);
      }
      if (stored.kind === 'unverified') return await refusal(reply, store, auth, code);
    } catch (error) {
      // Not stored, so not acknowledged: the portal hears "unavailable", never "accepted".
      logger.error({ portal: typeof memberId === 'string' ? memberId.slice(0, 64) : undefined, code, workflow: parsed.call.workflowId, err: error }, 'handler call not stored');
      return notStored(reply);
    }
    metrics.callAcknowledged(stored.duplicate);
    logger.info(
      { portal: memberId, code, call: stored.callId.toString(), workflow: parsed.call.workflowId, duplicate: stored.duplicate },
      stored.duplicate ? 'handler call already stored' : 'handler call stored',
    );
    return { result: 'accepted', call: stored.callId.toString() };
  });

  /** Nothing was stored: say why, as the slow path (the portal's row) tells. */
  async function refusal(reply: FastifyReply, portals: PortalStore, auth: Record<string, unknown> | undefined, code: string) {
    const verdict = await authenticatePortalRequest(portals, auth);
    if (!verdict.ok) {
      logger.warn({ code, reason: verdict.reason }, 'handler call refused');
      metrics.callRefused('unauthenticated');
      return reply.code(401).send({ error: 'INVALID_APPLICATION_TOKEN', error_description: 'the call could not be authenticated' });
    }
    if (verdict.portal.state !== 'installed') {
      metrics.callRefused('not_installed');
      return reply.code(403).send({ error: 'PORTAL_NOT_INSTALLED', error_description: 'the application is not installed on this portal' });
    }
    // Verified now but not a moment ago (a reinstall in between): the portal may send it again.
    logger.warn({ portal: verdict.portal.memberId, code }, 'handler call not stored: the portal changed while it was checked');
    return notStored(reply);
  }
};

function notStored(reply: FastifyReply) {
  metrics.callRefused('not_stored');
  return reply.code(503).header('retry-after', '5').send({ error: 'NOT_STORED', error_description: 'the call could not be stored right now; it was not accepted' });
}
