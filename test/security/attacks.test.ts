/**
 * The attacks of the trust review, replayed against the app and the emulator on 127.0.0.1, and
 * more of our own. Each must be refused, store nothing and send nothing to a host the request
 * named; the genuine portal must be unaffected. One summary line:
 *   security: attacks=N refused=N tokens-leaked=0 requests-to-named-hosts=0 rows-stored-by-refused=0
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../support/process.ts';
import { startStack, type Stack } from '../support/stack.ts';

const FORM = { 'content-type': 'application/x-www-form-urlencoded' };
const form = (fields: Record<string, string>) => new URLSearchParams(fields).toString();

/** A server of the attacker's on 127.0.0.1: answers like a portal whose every user is an admin of our app, and records what reaches it. */
async function startFakePortal(clientIdOf: () => string) {
  const received: Array<{ url: string; headers: IncomingMessage['headers']; body: string }> = [];
  const server: Server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk) => (body += chunk));
    request.on('end', () => {
      received.push({ url: request.url ?? '', headers: request.headers, body });
      const app = { ID: 1, CODE: clientIdOf(), VERSION: 1, STATUS: 'L', INSTALLED: true };
      const user = { ID: '1', ADMIN: true, NAME: 'Mallory' };
      const result = request.url?.includes('batch') ? { result: { app, user }, result_error: [] } : request.url?.includes('profile') ? user : app;
      response.setHeader('content-type', 'application/json');
      response.end(JSON.stringify({ result }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { host, endpoint: `http://${host}/rest/`, received, close: () => new Promise((resolve) => server.close(resolve)) };
}

/** A listener that only counts connections: the "internal host" a probe would reach. */
async function startTcpWitness() {
  let connections = 0;
  const server = createServer((_request, response) => response.end());
  server.on('connection', () => (connections += 1));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { host: `127.0.0.1:${(server.address() as AddressInfo).port}`, connections: () => connections, close: () => new Promise((resolve) => server.close(resolve)) };
}

describe('security: every attack refused, nothing leaked, the genuine portal unaffected', () => {
  let stack: Stack;
  let fake: Awaited<ReturnType<typeof startFakePortal>>;
  let witness: Awaited<ReturnType<typeof startTcpWitness>>;
  let victim: string; // installed genuinely
  let unclaimed: string; // not installed yet
  const tally = { attacks: 0, refused: 0, rowsStoredByRefused: 0 };

  const event = (fields: Record<string, string>) => fetch(`${stack.appUrl}/events`, { method: 'POST', headers: FORM, body: form(fields) });
  const installPage = (query: Record<string, string>, fields: Record<string, string>) =>
    fetch(`${stack.appUrl}/install?${new URLSearchParams(query)}`, { method: 'POST', headers: FORM, body: form(fields) });
  const grant = (member: string, userId: number, clientId = stack.clientId) =>
    stack.control<Record<string, string>>('POST', `/_emulator/portals/${member}/apps/${clientId}/tokens`, { userId });
  const api = (member: string, token: string, path: string) =>
    fetch(`${stack.appUrl}${path}`, { headers: { authorization: `Bearer ${token}`, 'x-b24-member-id': member } });

  /** Everything a refused request must leave untouched. */
  const snapshot = async () => {
    const prisma = stack.database.db.prisma;
    return JSON.stringify({
      portals: await prisma.portal.findMany({ orderBy: { id: 'asc' } }),
      calls: await prisma.handlerCall.count(),
      answers: await prisma.pendingAnswer.count(),
      registered: await prisma.registeredHandler.count(),
    });
  };

  /** Runs one attack; it counts as refused when its response is a refusal and nothing was stored. */
  const attack = async (name: string, run: () => Promise<Response>, refusedWith: number[]) => {
    const before = await snapshot();
    const response = await run();
    const body = await response.text();
    tally.attacks += 1;
    const stored = (await snapshot()) !== before;
    if (stored) tally.rowsStoredByRefused += 1;
    const refused = refusedWith.includes(response.status) && !stored;
    if (refused) tally.refused += 1;
    expect({ name, status: response.status, stored }).toEqual({ name, status: expect.toBeOneOf(refusedWith), stored: false });
    return body;
  };

  beforeAll(async () => {
    stack = await startStack({ emulator: { portals: 4, rateLimit: { drainPerSec: 20, maxBurst: 200 } }, rateLimit: { drainPerSec: 20, capacity: 150 } });
    fake = await startFakePortal(() => stack.clientId);
    witness = await startTcpWitness();
    victim = stack.memberId(0);
    unclaimed = stack.memberId(1);
    await stack.install(victim, 'headless');
  });
  afterAll(async () => {
    await fake?.close();
    await witness?.close();
    await stack?.stop();
  });

  it('an employee cannot take over their portal: install, update and install page with their own tokens and endpoints', async () => {
    const domain = stack.emulator.state.portals.get(victim)!.domain;
    const employee = await grant(victim, 3);
    const takeover = {
      'auth[member_id]': victim,
      'auth[domain]': domain,
      'auth[access_token]': employee.access_token!,
      'auth[refresh_token]': employee.refresh_token!,
      'auth[client_endpoint]': fake.endpoint,
      'auth[server_endpoint]': fake.endpoint,
      'auth[application_token]': 'chosen-by-the-attacker',
    };
    await attack('employee ONAPPINSTALL', () => event({ event: 'ONAPPINSTALL', ...takeover }), [401]);
    const again = await grant(victim, 3);
    await attack('employee ONAPPUPDATE', () => event({ event: 'ONAPPUPDATE', ...takeover, 'auth[access_token]': again.access_token!, 'auth[refresh_token]': again.refresh_token! }), [401]);
    const third = await grant(victim, 3);
    await attack(
      'employee install page',
      () =>
        installPage(
          { DOMAIN: domain, PROTOCOL: '0', LANG: 'en' },
          { AUTH_ID: third.access_token!, REFRESH_ID: third.refresh_token!, member_id: victim, SERVER_ENDPOINT: fake.endpoint, APPLICATION_TOKEN: 'chosen-by-the-attacker' },
        ),
      [403],
    );
    // The token they chose was never stored, so their uninstall is just another forgery.
    await attack('forged uninstall with the chosen token', () => event({ event: 'ONAPPUNINSTALL', 'data[CLEAN]': '1', 'auth[member_id]': victim, 'auth[application_token]': 'chosen-by-the-attacker' }), [401]);
    const signed = await attack(
      'robot call signed with the chosen token',
      () =>
        fetch(`${stack.appUrl}/handlers/hash_value`, {
          method: 'POST',
          headers: FORM,
          body: form({ workflow_id: 'w', code: 'hash_value', 'document_id[0]': 'crm', 'document_id[1]': 'CCrmDocumentDeal', 'document_id[2]': 'DEAL_1', event_token: 'x', 'properties[value]': 'v', 'auth[member_id]': victim, 'auth[application_token]': 'chosen-by-the-attacker' }),
        }),
      [401],
    );
    expect(signed).not.toContain('chosen-by-the-attacker');
  });

  it('an outsider cannot claim a portal before it installs, and the real install then succeeds', async () => {
    const domain = stack.emulator.state.portals.get(unclaimed)!.domain;
    const madeUp = {
      'auth[member_id]': unclaimed,
      'auth[domain]': domain,
      'auth[access_token]': 'made-up-access',
      'auth[refresh_token]': 'made-up-refresh',
      'auth[client_endpoint]': fake.endpoint,
      'auth[server_endpoint]': fake.endpoint,
      'auth[application_token]': 'outsider',
    };
    await attack('outsider ONAPPINSTALL', () => event({ event: 'ONAPPINSTALL', ...madeUp }), [401]);
    await attack('outsider ONAPPINSTALL naming its own host as the domain', () => event({ event: 'ONAPPINSTALL', ...madeUp, 'auth[domain]': fake.host }), [401]);
    await attack(
      'outsider install page',
      () => installPage({ DOMAIN: fake.host, PROTOCOL: '0' }, { AUTH_ID: 'made-up', REFRESH_ID: 'made-up', member_id: unclaimed, SERVER_ENDPOINT: fake.endpoint }),
      [403],
    );
    // A genuine admin token of ANOTHER portal, presented for this one: the OAuth server names the other portal.
    const other = stack.memberId(2);
    await stack.install(other, 'headless');
    const otherAdmin = await grant(other, 1);
    await attack(
      "another portal's admin claims this member_id",
      () => event({ event: 'ONAPPINSTALL', ...madeUp, 'auth[access_token]': otherAdmin.access_token!, 'auth[refresh_token]': otherAdmin.refresh_token! }),
      [401],
    );
    expect(await stack.database.db.prisma.portal.findUnique({ where: { memberId: unclaimed } })).toBeNull();

    const { frame } = await stack.install(unclaimed, 'frame');
    expect(frame!.status).toBe(200);
    expect(await stack.database.db.prisma.portal.findUnique({ where: { memberId: unclaimed } })).toMatchObject({ state: 'installed', domain });
  });

  it("a genuine admin token with a domain that is not the portal's is refused: the request may only agree with the OAuth server", async () => {
    const admin = await grant(victim, 1);
    await attack(
      'admin token, domain of the attacker',
      () => installPage({ DOMAIN: fake.host, PROTOCOL: '0' }, { AUTH_ID: admin.access_token!, REFRESH_ID: admin.refresh_token!, member_id: victim }),
      [403],
    );
  });

  it('the install page is no probe of internal hosts: it contacts only the OAuth server and shows a generic failure', async () => {
    const page = await attack(
      'install page naming an internal host and port',
      () => installPage({ DOMAIN: witness.host, PROTOCOL: '0', LANG: 'en' }, { AUTH_ID: 'x', REFRESH_ID: 'y', member_id: 'probe1' }),
      [403],
    );
    expect(witness.connections()).toBe(0);
    expect(page).not.toMatch(/ECONNREFUSED|fetch failed|invalid_grant/);
    expect(page).not.toContain(witness.host);
    expect(page).toContain('Only a portal administrator can install');
  });

  it("the pages' API refuses a token the portal issued to another application", async () => {
    const other = { clientId: 'local.other.app', clientSecret: 'other-secret', appUrl: 'http://127.0.0.1:9/app', scopes: ['user'] };
    await stack.control('POST', '/_emulator/applications', other);
    await stack.control('POST', `/_emulator/portals/${victim}/apps/${other.clientId}/install`, { mode: 'headless' });
    const foreign = await grant(victim, 1, other.clientId);
    await attack("another app's admin token on /api/status", () => api(victim, foreign.access_token!, '/api/status'), [401]);
    await attack("another app's admin token on /api/registration/sync", () => fetch(`${stack.appUrl}/api/registration/sync`, { method: 'POST', headers: { authorization: `Bearer ${foreign.access_token}`, 'x-b24-member-id': victim } }), [401]);
    const employee = await grant(victim, 3);
    await attack('an employee repairing the registration', () => fetch(`${stack.appUrl}/api/registration/sync`, { method: 'POST', headers: { authorization: `Bearer ${employee.access_token}`, 'x-b24-member-id': victim } }), [403]);
    // Our own app's token still opens the pages.
    const ours = await grant(victim, 1);
    expect((await api(victim, ours.access_token!, '/api/status')).status).toBe(200);
  });

  it('a token of one portal does not open another, and a handler call with another portal’s application token is refused', async () => {
    const other = stack.memberId(2);
    const otherAdmin = await grant(other, 1);
    await attack("portal C's token presented as portal A's", () => api(victim, otherAdmin.access_token!, '/api/status'), [401]);
    const otherToken = stack.emulator.state.portals.get(other)!.apps.get(stack.clientId)!.applicationToken;
    await attack(
      "robot call for A signed with C's application token",
      () =>
        fetch(`${stack.appUrl}/handlers/hash_value`, {
          method: 'POST',
          headers: FORM,
          body: form({ workflow_id: 'w', code: 'hash_value', 'document_id[0]': 'crm', 'document_id[1]': 'CCrmDocumentDeal', 'document_id[2]': 'DEAL_1', event_token: 'x', 'properties[value]': 'v', 'auth[member_id]': victim, 'auth[application_token]': otherToken }),
        }),
      [401],
    );
  });

  it('the pages carry a policy that lets scripts come from us only, may be framed only by the portal that opened them, and nosniff', async () => {
    const domain = stack.emulator.state.portals.get(victim)!.domain;
    const page = await fetch(`${stack.appUrl}/app?DOMAIN=${domain}`, { method: 'POST', headers: FORM, body: form({ member_id: victim }) });
    const policy = page.headers.get('content-security-policy')!;
    expect(policy).toContain("script-src 'self';");
    expect(policy).toContain(`frame-ancestors ${new URL(stack.emulator.state.portals.get(victim)!.clientEndpoint).origin}`);
    expect(page.headers.get('x-content-type-options')).toBe('nosniff');
    // Opened any other way, nobody may frame it.
    const direct = await fetch(`${stack.appUrl}/app`);
    expect(direct.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    const install = await fetch(`${stack.appUrl}/install?DOMAIN=${domain}&PROTOCOL=0`);
    expect(install.headers.get('content-security-policy')).toContain("script-src 'self';");
    expect(install.headers.get('content-security-policy')).toMatch(/style-src 'self' 'nonce-[^']+';/);
    expect(install.headers.get('x-content-type-options')).toBe('nosniff');
    expect((await fetch(`${stack.appUrl}/healthz`)).headers.get('x-content-type-options')).toBe('nosniff');
  });

  it('after every attack the genuine portal still works: its robots answer and its admin reinstalls', async () => {
    const templateId = await stack.templateWith(victim, [{ code: 'hash_value', name: 'Hash', properties: { value: 'abc', algorithm: 'md5' } }]);
    const workflow = await stack.runWorkflow(victim, templateId);
    expect(workflow.status).toBe('completed');
    expect(workflow.returnValues.Hash).toEqual({ hash: '900150983cd24fb0d6963f7d28e17f72' });
    await waitFor(async () => (await stack.database.db.prisma.handlerCall.count({ where: { answeredAt: { not: null } } })) === 1);
    const { frame } = await stack.install(victim, 'frame');
    expect(frame!.status).toBe(200);
    const row = await stack.database.db.prisma.portal.findUniqueOrThrow({ where: { memberId: victim } });
    expect(row.clientEndpoint).toBe(stack.emulator.state.portals.get(victim)!.clientEndpoint);
  });

  it('nothing of any portal reached a host a request named, and no secret is in the logs', () => {
    const secrets = [stack.clientSecret];
    for (const portal of stack.emulator.state.portals.values()) {
      for (const g of stack.emulator.state.grants.all(portal.memberId)) secrets.push(g.accessToken, g.refreshToken);
      for (const app of portal.apps.values()) secrets.push(app.applicationToken);
    }
    const seen = fake.received.map((r) => `${r.url} ${JSON.stringify(r.headers)} ${r.body}`).join('\n');
    const leaked = secrets.filter((secret) => seen.includes(secret)).length;
    const logs = stack.logs();
    const logged = secrets.filter((secret) => logs.includes(secret)).length;
    console.log(
      `security: attacks=${tally.attacks} refused=${tally.refused} tokens-leaked=${leaked} requests-to-named-hosts=${fake.received.length + witness.connections()} rows-stored-by-refused=${tally.rowsStoredByRefused} secrets-in-logs=${logged}`,
    );
    expect(tally.attacks).toBeGreaterThanOrEqual(15);
    expect(tally.refused).toBe(tally.attacks);
    expect(leaked).toBe(0);
    expect(fake.received).toEqual([]);
    expect(witness.connections()).toBe(0);
    expect(tally.rowsStoredByRefused).toBe(0);
    expect(logged).toBe(0);
  });
});
