/**
 * The OAuth server: POST /oauth/token/ with grant_type=refresh_token, answered as
 * oauth.bitrix.info answers (the grants themselves are grants.ts).
 * A refresh spends the old refresh token; the old access token stays valid until it expires.
 */
import type { FastifyPluginAsync } from 'fastify';
import { tokenAnswer } from './grants.ts';
import type { EmulatorState } from './model.ts';

const REQUIRED = ['grant_type', 'client_id', 'client_secret', 'refresh_token'] as const;

/**
 * The docs list the codes (settings/oauth/error-codes.md) but not the HTTP statuses; these are
 * RFC 6749 §5.2's: 401 for invalid_client, 400 for the rest.
 */
export const oauthRoutes: FastifyPluginAsync<{ state: EmulatorState }> = async (app, { state }) => {
  app.all('/oauth/token/', async (request, reply) => {
    const fields = { ...(request.query as Record<string, unknown>), ...((request.body as Record<string, unknown>) ?? {}) };
    const fault = state.faults.take('oauth', undefined);
    if (fault && (await state.faults.apply(fault, reply))) return reply;
    const fail = (status: number, error: string, description: string) => reply.code(status).send({ error, error_description: description });
    const missing = REQUIRED.find((name) => typeof fields[name] !== 'string' || fields[name] === '');
    if (missing === 'grant_type') return fail(400, 'invalid_request', 'grant_type is required');
    if (fields.grant_type !== 'refresh_token') return fail(400, 'unsupported_grant_type', 'only grant_type=refresh_token is supported');
    if (missing) return fail(400, 'invalid_request', `${missing} is required`);
    const application = state.applications.get(String(fields.client_id));
    if (!application || application.clientSecret !== fields.client_secret) {
      return fail(401, 'invalid_client', 'Invalid client credentials');
    }
    const grant = state.grants.byRefreshToken(String(fields.refresh_token));
    if (!grant || grant.clientId !== application.clientId || grant.refreshRevoked || grant.refreshExpiresAt < Date.now()) {
      return fail(400, 'invalid_grant', 'Invalid refresh token');
    }
    const portal = state.portals.get(grant.memberId);
    const installation = portal?.apps.get(application.clientId);
    if (!portal || !installation?.installed) {
      return fail(401, 'invalid_client', 'Application is not installed');
    }
    // docs settings/oauth/error-codes.md: once the trial or paid period has expired, "the
    // authorization server will not issue tokens" until the app is paid for.
    if (installation.payment?.expired) return fail(400, 'PAYMENT_REQUIRED', 'Payment required');
    grant.refreshRevoked = true;
    const fresh = state.grants.issue(portal, grant.clientId, grant.userId, grant.scope);
    state.grants.refreshes.set(portal.memberId, (state.grants.refreshes.get(portal.memberId) ?? 0) + 1);
    return tokenAnswer(state, portal, fresh);
  });
};
