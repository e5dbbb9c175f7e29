import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack } from '../support/stack.ts';

const form = (fields: Record<string, string>) => new URLSearchParams(fields).toString();

describe('install, update, uninstall', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ emulator: { portals: 3 } });
  });
  afterAll(() => stack?.stop());

  const portalRow = (memberId: string) => stack.database.db.prisma.portal.findUnique({ where: { memberId } });

  it('through the frame: the page proves the token, stores the portal, binds events, registers robots, calls installFinish', async () => {
    const member = stack.memberId(0);
    const { frame } = await stack.install(member, 'frame');
    expect(frame!.status).toBe(200);
    // the page's bundle calls the SDK's installFinish once the install is proven
    expect(frame!.body).toContain('<script type="module" src="/public/install.js"></script>');
    expect(frame!.body).toContain('data-finish="true"');
    const row = await portalRow(member);
    expect(row).toMatchObject({ state: 'installed', domain: stack.emulator.state.portals.get(member)!.domain });
    const state = await stack.control('GET', '/_emulator/state');
    const app = state.portals.find((p: any) => p.memberId === member).apps[0];
    expect(Object.keys(app.events).sort()).toEqual(['ONAPPINSTALL', 'ONAPPUNINSTALL', 'ONAPPUPDATE']);
    expect(app.robots.length).toBeGreaterThan(0);

    // installFinish (the frame's setInstallFinish) signals the portal; ONAPPINSTALL then reaches /events and is accepted.
    await stack.control('POST', `/_emulator/portals/${member}/apps/${stack.clientId}/install-finish`);
    const events = await stack.control('GET', `/_emulator/events?memberId=${member}&event=ONAPPINSTALL`);
    expect(events.at(-1).status).toBe(200);
  });

  it('headless (the install event alone) leaves a portal later calls can use; a second install updates, never duplicates', async () => {
    const member = stack.memberId(1);
    await stack.install(member, 'headless');
    const first = await portalRow(member);
    await stack.install(member, 'headless');
    const rows = await stack.database.db.prisma.portal.findMany({ where: { memberId: member } });
    expect(rows).toHaveLength(1);
    expect(rows[0]!.id).toBe(first!.id);
    expect(rows[0]!.accessToken).not.toBe(first!.accessToken);
    const client = await stack.app.clients.forPortal(first!.id);
    expect(await client.call<{ ID: string }>('profile')).toMatchObject({ ID: '1' });
  });

  it('a frame install whose token does not work on the portal is refused and stores nothing', async () => {
    const member = stack.memberId(2);
    const domain = stack.emulator.state.portals.get(member)!.domain;
    const response = await fetch(`${stack.appUrl}/install?DOMAIN=${domain}&PROTOCOL=1&LANG=en`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: form({ AUTH_ID: 'forged', REFRESH_ID: 'forged', AUTH_EXPIRES: '3600', SERVER_ENDPOINT: `${stack.emulatorUrl}/rest/`, member_id: member }),
    });
    expect(response.status).toBe(403);
    expect(await portalRow(member)).toBeNull();
  });

  it("an install event whose refresh token the install page already spent is proven by an admin's access token at the stored endpoint", async () => {
    const member = stack.memberId(1);
    const spend = (refreshToken: string) =>
      fetch(`${stack.emulatorUrl}/oauth/token/`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: form({ grant_type: 'refresh_token', client_id: stack.clientId, client_secret: stack.clientSecret, refresh_token: refreshToken }),
      });
    const grant = (userId: number) => stack.control('POST', `/_emulator/portals/${member}/apps/${stack.clientId}/tokens`, { userId });
    const installEvent = (tokens: Record<string, string>) =>
      fetch(`${stack.appUrl}/events`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: form({
          event: 'ONAPPINSTALL',
          'auth[member_id]': member,
          'auth[domain]': stack.emulator.state.portals.get(member)!.domain,
          'auth[access_token]': tokens.access_token!,
          'auth[refresh_token]': tokens.refresh_token!,
          'auth[application_token]': tokens.application_token!,
        }),
      });
    const before = await portalRow(member);
    const employee = await grant(3);
    expect((await spend(employee.refresh_token)).status).toBe(200);
    expect((await installEvent(employee)).status).toBe(401);
    expect(await portalRow(member)).toEqual(before);

    const admin = await grant(1);
    expect((await spend(admin.refresh_token)).status).toBe(200);
    expect((await installEvent(admin)).status).toBe(200);
    const after = await portalRow(member);
    expect(after!.accessToken).toBe(before!.accessToken);
    expect(await stack.app.store.applicationTokenMatches(member, admin.application_token)).toBe(true);
  });

  it('forged events and handler calls are refused with 401 and change nothing', async () => {
    const member = stack.memberId(1);
    const before = await portalRow(member);
    const event = (fields: Record<string, string>) =>
      fetch(`${stack.appUrl}/events`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: form(fields) });
    const forgedUninstall = await event({ event: 'ONAPPUNINSTALL', 'data[CLEAN]': '1', 'auth[member_id]': member, 'auth[application_token]': 'wrong' });
    expect(forgedUninstall.status).toBe(401);
    const forgedUpdate = await event({ event: 'ONAPPUPDATE', 'auth[member_id]': member, 'auth[application_token]': 'wrong', 'auth[access_token]': 'stolen?' });
    expect(forgedUpdate.status).toBe(401);
    const unknownPortal = await event({ event: 'ONAPPUNINSTALL', 'auth[member_id]': 'ffffffffffffffffffffffffffffffff', 'auth[application_token]': 'x' });
    expect(unknownPortal.status).toBe(401);
    expect(await portalRow(member)).toEqual(before);

    const call = await fetch(`${stack.appUrl}/handlers/hash_value`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: form({
        workflow_id: 'w',
        code: 'hash_value',
        'document_id[0]': 'crm',
        'document_id[1]': 'CCrmDocumentDeal',
        'document_id[2]': 'DEAL_1',
        event_token: 'forged',
        'properties[value]': 'x',
        'auth[member_id]': member,
        'auth[application_token]': 'wrong',
      }),
    });
    expect(call.status).toBe(401);
    expect(await stack.database.db.prisma.handlerCall.count()).toBe(0);
  });

  it('an update re-registers the robots the update removed and stores a new application_token', async () => {
    const member = stack.memberId(1);
    await stack.control('POST', `/_emulator/portals/${member}/apps/${stack.clientId}/update`, { newApplicationToken: true });
    const state = await stack.control('GET', '/_emulator/state');
    const app = state.portals.find((p: any) => p.memberId === member).apps[0];
    expect(app.version).toBe(2);
    expect(app.robots).toEqual([...stack.app.catalog.keys()].filter((c) => ['robot', 'both'].includes(stack.app.catalog.get(c)!.kind)));
    expect(await stack.app.store.applicationTokenMatches(member, stack.emulator.state.portals.get(member)!.apps.get(stack.clientId)!.applicationToken)).toBe(true);
    expect((await portalRow(member))!.appVersion).toBe(2);
  });

  it('uninstall with CLEAN=0 forgets the tokens; with CLEAN=1 leaves no row of the portal', async () => {
    const keep = stack.memberId(1);
    await stack.control('POST', `/_emulator/portals/${keep}/apps/${stack.clientId}/uninstall`, { clean: false });
    expect(await portalRow(keep)).toMatchObject({ state: 'uninstalled', accessToken: null, refreshToken: null, applicationTokenHash: null });

    const drop = stack.memberId(0);
    const id = (await portalRow(drop))!.id;
    await stack.control('POST', `/_emulator/portals/${drop}/apps/${stack.clientId}/uninstall`, { clean: true });
    expect(await portalRow(drop)).toBeNull();
    for (const table of ['handler_calls', 'pending_answers', 'portal_rate_state', 'registered_handlers']) {
      const [row] = await stack.database.db.prisma.$queryRawUnsafe<Array<{ n: bigint }>>(`SELECT count(*) AS n FROM ${table} WHERE portal_id = $1`, id);
      expect(Number(row!.n), table).toBe(0);
    }
  });

  it('no token or secret appears in any log line', () => {
    const logs = stack.logs();
    expect(logs.length).toBeGreaterThan(1000);
    const secrets = [stack.clientSecret];
    for (const portal of stack.emulator.state.portals.values()) {
      for (const grant of stack.emulator.state.grants.all(portal.memberId)) secrets.push(grant.accessToken, grant.refreshToken);
      for (const app of portal.apps.values()) secrets.push(app.applicationToken);
    }
    expect(secrets.length).toBeGreaterThan(10);
    for (const secret of secrets) expect(logs).not.toContain(secret);
  });
});
