/**
 * The control and inspection API under /_emulator/ (JSON): applications, app lifecycle on a
 * portal, tokens as any user, webhooks, faults, limits, and what the emulator saw.
 */
import { randomBytes } from 'node:crypto';
import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import { RestError, type Portal } from './contract.ts';
import { tokenAnswer } from './grants.ts';
import type { EmulatorState } from './model.ts';
import { webhookCodeFor } from './seed.ts';

type P = { memberId: string; clientId: string };

export function describePortal(state: EmulatorState, portal: Portal) {
  const admin = [...portal.users.values()].find((u) => u.isAdmin)!;
  return {
    memberId: portal.memberId,
    domain: portal.domain,
    kind: portal.kind,
    clientEndpoint: portal.clientEndpoint,
    adminUserId: admin.id,
    webhookUrl: `${portal.clientEndpoint}${admin.id}/${webhookCodeFor(portal.memberId)}/`,
    requestCount: portal.requestCount,
    apps: [...portal.apps.values()].map((a) => ({
      clientId: a.clientId,
      installed: a.installed,
      installFinished: a.installFinished,
      version: a.version,
      robots: [...a.robots.keys()],
      activities: [...a.activities.keys()],
      events: Object.fromEntries([...a.events.entries()].map(([e, h]) => [e, h.map((x) => x.handler)])),
    })),
  };
}

export const controlRoutes: FastifyPluginAsync<{ state: EmulatorState }> = async (app, { state }) => {
  const portalOf = (memberId: string) => {
    const portal = state.portals.get(memberId);
    if (!portal) throw new RestError('NOT_FOUND', `no portal ${memberId}`, 404);
    return portal;
  };
  app.setErrorHandler((error: Error & { statusCode?: number }, _request, reply: FastifyReply) => {
    if (error instanceof RestError) return reply.code(error.status).send({ error: error.code, error_description: error.description });
    return reply.code(error.statusCode ?? 500).send({ error: 'CONTROL_ERROR', error_description: error.message });
  });

  app.get('/_emulator/state', async () => ({
    baseUrl: state.config.baseUrl,
    oauthUrl: `${state.config.baseUrl}/oauth/token/`,
    config: state.config,
    portals: [...state.portals.values()].map((p) => describePortal(state, p)),
    applications: [...state.applications.values()].map(({ clientSecret: _s, ...a }) => a),
  }));

  app.post<{ Body: { count?: number; kind?: string; protocol?: string } }>('/_emulator/portals', async (request) => {
    const count = Math.min(Math.max(Number(request.body?.count ?? 1), 1), 1000);
    const kind = request.body?.kind === 'on-premise' ? 'on-premise' : 'cloud';
    const protocol = request.body?.protocol === 'http' || request.body?.protocol === 'https' ? request.body.protocol : undefined;
    const created = await state.addPortals(count, { kind, protocol });
    return created.map((p) => describePortal(state, p));
  });

  app.post<{ Body: Record<string, any> }>('/_emulator/applications', async (request) => {
    const b = request.body ?? {};
    if (typeof b.clientId !== 'string' || typeof b.clientSecret !== 'string' || typeof b.appUrl !== 'string') {
      throw new RestError('INVALID', 'clientId, clientSecret and appUrl are required', 400);
    }
    const application = {
      clientId: b.clientId,
      clientSecret: b.clientSecret,
      appUrl: b.appUrl,
      installUrl: b.installUrl ?? b.appUrl,
      eventUrl: b.eventUrl,
      scopes: Array.isArray(b.scopes) ? b.scopes : ['bizproc', 'task', 'user_basic', 'department', 'placement', 'crm'],
      version: Number(b.version ?? 1),
      code: b.code ?? b.clientId,
    };
    state.applications.set(application.clientId, application);
    return { ok: true };
  });

  app.post<{ Params: P; Body: { mode?: 'frame' | 'headless'; userId?: number } }>('/_emulator/portals/:memberId/apps/:clientId/install', async (request) => {
    const mode = request.body?.mode === 'frame' ? 'frame' : 'headless';
    return state.lifecycle.install(portalOf(request.params.memberId), request.params.clientId, { mode, userId: request.body?.userId });
  });

  app.post<{ Params: P }>('/_emulator/portals/:memberId/apps/:clientId/install-finish', async (request) => {
    await state.lifecycle.finish(portalOf(request.params.memberId), request.params.clientId);
    return { ok: true };
  });

  app.post<{ Params: P; Body: { newApplicationToken?: boolean } }>('/_emulator/portals/:memberId/apps/:clientId/update', async (request) =>
    state.lifecycle.update(portalOf(request.params.memberId), request.params.clientId, { newApplicationToken: request.body?.newApplicationToken }),
  );

  app.post<{ Params: P; Body: { clean?: boolean } }>('/_emulator/portals/:memberId/apps/:clientId/uninstall', async (request) => {
    await state.lifecycle.uninstall(portalOf(request.params.memberId), request.params.clientId, Boolean(request.body?.clean));
    return { ok: true };
  });

  // The Market's licence of an installation: what app.info reports and whether the OAuth server still issues tokens.
  app.put<{ Params: P; Body: { status?: string; expired?: boolean; days?: number | null } }>('/_emulator/portals/:memberId/apps/:clientId/payment', async (request) => {
    const installation = state.lifecycle.installation(portalOf(request.params.memberId), request.params.clientId);
    const status = String(request.body?.status ?? 'P');
    if (!['F', 'D', 'T', 'P', 'L', 'S'].includes(status)) throw new RestError('INVALID_STATUS', 'status is one of F, D, T, P, L, S', 400);
    const days = request.body?.days === undefined || request.body.days === null ? null : Number(request.body.days);
    installation.payment = { status, expired: request.body?.expired === true, days: Number.isFinite(days) ? days : null };
    return installation.payment;
  });

  app.post<{ Params: P; Body: { userId?: number } }>('/_emulator/portals/:memberId/apps/:clientId/tokens', async (request) => {
    const portal = portalOf(request.params.memberId);
    const installation = state.lifecycle.installation(portal, request.params.clientId);
    const userId = Number(request.body?.userId ?? 1);
    if (!portal.users.has(userId)) throw new RestError('NOT_FOUND', `no user ${userId}`, 404);
    const grant = state.issueGrant(portal, request.params.clientId, userId);
    return { ...tokenAnswer(state, portal, grant), application_token: installation.applicationToken };
  });

  app.post<{ Params: { memberId: string }; Body: { userId?: number; scopes?: string[] } }>('/_emulator/portals/:memberId/webhooks', async (request) => {
    const portal = portalOf(request.params.memberId);
    const userId = Number(request.body?.userId ?? 1);
    const code = randomBytes(8).toString('hex');
    portal.webhooks.set(code, { userId, scopes: request.body?.scopes ?? ['bizproc', 'task', 'user', 'department', 'crm'] });
    return { url: `${portal.clientEndpoint}${userId}/${code}/` };
  });

  app.post<{ Params: { memberId: string } }>('/_emulator/portals/:memberId/move', async (request) => {
    const portal = portalOf(request.params.memberId);
    if (!state.movePortal) throw new RestError('NOT_LISTENING', 'a portal moves once the emulator listens', 409);
    const moved = await state.movePortal(portal);
    return { ...moved, portal: describePortal(state, portal) };
  });

  app.post<{ Params: { memberId: string } }>('/_emulator/portals/:memberId/expire-tokens', async (request) => {
    const grants = state.grants.all(portalOf(request.params.memberId).memberId);
    for (const grant of grants) grant.accessExpiresAt = Date.now() - 1000;
    return { expired: grants.length };
  });

  app.post<{ Params: { memberId: string } }>('/_emulator/portals/:memberId/revoke-refresh', async (request) => {
    const grants = state.grants.all(portalOf(request.params.memberId).memberId);
    for (const grant of grants) grant.refreshRevoked = true;
    return { revoked: grants.length };
  });

  app.get('/_emulator/faults', async () => state.faults.rules);
  app.post<{ Body: Record<string, any> }>('/_emulator/faults', async (request) => {
    const b = request.body ?? {};
    if (typeof b.method !== 'string') throw new RestError('INVALID', 'method is required (a REST method, * or oauth)', 400);
    return state.faults.add({ method: b.method, memberId: b.memberId, error: b.error, delayMs: b.delayMs, drop: b.drop, ...(b.dropAfterRun === true ? { dropAfterRun: true } : {}), remaining: b.remaining });
  });
  app.delete('/_emulator/faults', async () => {
    state.faults.clear();
    return { ok: true };
  });

  app.put<{ Body: Record<string, any> }>('/_emulator/config', async (request) => {
    const b = request.body ?? {};
    if (b.rateLimit) Object.assign(state.config.rateLimit, b.rateLimit);
    if (b.accessTokenTtlSec) state.config.accessTokenTtlSec = Number(b.accessTokenTtlSec);
    if (b.operatingLimitSec) state.config.operatingLimitSec = Number(b.operatingLimitSec);
    for (const [method, seconds] of Object.entries(b.operatingCost ?? {})) state.operatingCost.set(method.toLowerCase(), Number(seconds));
    return state.config;
  });

  app.get('/_emulator/stats', async () => state.stats.snapshot(state.grants.refreshes));
  app.delete('/_emulator/stats', async () => {
    state.stats.reset();
    state.faults.fired.clear();
    state.grants.refreshes.clear();
    return { ok: true };
  });
  app.get<{ Querystring: { memberId?: string; event?: string } }>('/_emulator/events', async (request) =>
    state.eventLog.filter((e) => (!request.query.memberId || e.memberId === request.query.memberId) && (!request.query.event || e.event === request.query.event)),
  );
};
