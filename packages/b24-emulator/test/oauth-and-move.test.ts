/**
 * The OAuth server's answer and errors as oauth.bitrix.info gives them, tokens for a second
 * application, and a portal that changes its address.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from './support/harness.ts';

const APP = { clientId: 'local.oauth.test', clientSecret: 'oauth-secret' };
const SECOND = { clientId: 'local.oauth.second', clientSecret: 'second-secret' };

describe('the OAuth server and a moving portal', () => {
  let h: Harness;
  const refresh = async (fields: Record<string, string>) => {
    const response = await fetch(`${h.base}/oauth/token/`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(fields) });
    return { status: response.status, body: (await response.json()) as any };
  };

  beforeAll(async () => {
    h = await startHarness(APP);
  });
  afterAll(() => h?.close());

  it('answers a refresh with the fields of oauth.bitrix.info, in its order: domain is the OAuth server, client_endpoint the portal', async () => {
    const t = await h.token(APP, 3);
    const answer = await refresh({ grant_type: 'refresh_token', client_id: APP.clientId, client_secret: APP.clientSecret, refresh_token: t.refresh_token });
    expect(answer.status).toBe(200);
    expect(Object.keys(answer.body)).toEqual(['access_token', 'expires', 'expires_in', 'scope', 'domain', 'server_endpoint', 'status', 'client_endpoint', 'member_id', 'user_id', 'refresh_token']);
    const portal = h.emulator.state.portals.get(h.member)!;
    expect(answer.body).toMatchObject({ domain: new URL(h.base).host, server_endpoint: `${h.base}/rest/`, client_endpoint: portal.clientEndpoint, member_id: h.member, user_id: 3, status: 'L', expires_in: 3600 });
    expect(answer.body.domain).not.toBe(portal.domain);
    // the refresh token is spent once
    expect(await refresh({ grant_type: 'refresh_token', client_id: APP.clientId, client_secret: APP.clientSecret, refresh_token: t.refresh_token })).toEqual({ status: 400, body: { error: 'invalid_grant', error_description: 'Invalid refresh token' } });
  });

  it('refuses bad requests with the OAuth codes and RFC 6749 statuses', async () => {
    const t = await h.token(APP, 1);
    const good = { grant_type: 'refresh_token', client_id: APP.clientId, client_secret: APP.clientSecret, refresh_token: t.refresh_token };
    expect((await refresh({ ...good, client_secret: 'wrong' })).status).toBe(401);
    expect((await refresh({ ...good, client_secret: 'wrong' })).body.error).toBe('invalid_client');
    const { refresh_token: _r, ...noToken } = good;
    expect(await refresh(noToken)).toEqual({ status: 400, body: { error: 'invalid_request', error_description: 'refresh_token is required' } });
    expect((await refresh({ ...good, grant_type: 'authorization_code' })).body.error).toBe('unsupported_grant_type');
    expect((await refresh({ ...good, refresh_token: 'forged' })).body.error).toBe('invalid_grant');
    expect((await refresh(good)).status).toBe(200);
  });

  it('issues tokens as any user for a second application registered and installed on the portal', async () => {
    await h.control('POST', '/_emulator/applications', { ...SECOND, appUrl: `${h.receiverUrl}/second`, scopes: ['user'] });
    await h.control('POST', `/_emulator/portals/${h.member}/apps/${SECOND.clientId}/install`, { mode: 'headless' });
    const sdk = await h.sdk(SECOND, 4);
    expect((await sdk('profile')).result).toMatchObject({ ID: '4', ADMIN: false });
    expect((await sdk('app.info')).result).toMatchObject({ CODE: SECOND.clientId });
    expect(await sdk('bizproc.robot.list')).toEqual({ error: 'insufficient_scope', status: 403 });
  });

  it('after a move the old address answers 302 to the same path on the new one; answers and events name the new address', async () => {
    const before = await h.token(APP, 1);
    const oldEndpoint = before.client_endpoint as string;
    const moved = await h.control('POST', `/_emulator/portals/${h.member}/move`, {});
    expect(moved.from).toBe(new URL(oldEndpoint).host);
    expect(moved.to).not.toBe(moved.from);
    const portal = h.emulator.state.portals.get(h.member)!;
    expect(portal.domain).toBe(moved.to);

    const redirected = await h.rest(`${oldEndpoint}profile.json?x=1`, { auth: before.access_token });
    expect(redirected.status).toBe(302);
    const location = await fetch(`${oldEndpoint}profile.json?x=1`, { method: 'POST', redirect: 'manual' }).then((r) => r.headers.get('location'));
    expect(location).toBe(`${portal.protocol}://${moved.to}/rest/profile.json?x=1`);
    // the same request at the new address works with the same token
    expect((await h.rest(`${portal.clientEndpoint}profile.json`, { auth: before.access_token })).body.result).toMatchObject({ ID: '1' });

    const refreshed = await refresh({ grant_type: 'refresh_token', client_id: APP.clientId, client_secret: APP.clientSecret, refresh_token: before.refresh_token });
    expect(refreshed.body.client_endpoint).toBe(`${portal.protocol}://${moved.to}/rest/`);

    const bound = await h.rest(`${portal.clientEndpoint}event.bind.json`, { auth: refreshed.body.access_token, event: 'ONAPPUPDATE', handler: `${h.receiverUrl}/events` });
    expect(bound.body.result).toBe(true);
    await h.control('POST', `/_emulator/portals/${h.member}/apps/${APP.clientId}/update`, {});
    const event = await h.control('GET', `/_emulator/events?memberId=${h.member}&event=ONAPPUPDATE`);
    const fields = new URLSearchParams(event.at(-1).body);
    expect(fields.get('auth[domain]')).toBe(moved.to);
    expect(fields.get('auth[client_endpoint]')).toBe(`${portal.protocol}://${moved.to}/rest/`);
  });
});
