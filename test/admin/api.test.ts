import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../support/process.ts';
import { startStack, type Stack } from '../support/stack.ts';

describe("the API behind the app's pages", () => {
  let stack: Stack;
  const tokenFor = async (member: string, userId: number) =>
    (await stack.control('POST', `/_emulator/portals/${member}/apps/${stack.clientId}/tokens`, { userId })).access_token as string;
  const api = (member: string, token: string, path: string, init: RequestInit = {}) =>
    fetch(`${stack.appUrl}${path}`, { ...init, headers: { authorization: `Bearer ${token}`, 'x-b24-member-id': member } });

  beforeAll(async () => {
    stack = await startStack({ emulator: { rateLimit: { drainPerSec: 20, maxBurst: 200 } }, rateLimit: { drainPerSec: 20, capacity: 150 } });
    for (const index of [0, 1]) await stack.install(stack.memberId(index), 'headless');
    const member = stack.memberId(0);
    const templateId = await stack.templateWith(member, [
      { code: 'hash_value', name: 'Good', properties: { value: 'a' } },
      { code: 'hash_value', name: 'Bad', properties: { value: 'b', algorithm: 'crc32' } },
    ]);
    await stack.runWorkflow(member, templateId);
    await waitFor(async () => (await stack.database.db.prisma.handlerCall.count({ where: { answeredAt: { not: null } } })) === 2);
  });
  afterAll(() => stack?.stop());

  it('the main page is served to the frame with its own bundle only (the SDK is in it), and scripts from us alone', async () => {
    const response = await fetch(`${stack.appUrl}/app`, { method: 'POST' });
    expect(response.status).toBe(200);
    const html = await response.text();
    expect([...html.matchAll(/<script\b[^>]*>/g)].map(([tag]) => tag)).toEqual(['<script type="module" src="/public/app.js">']);
    expect(response.headers.get('content-security-policy')).toContain("script-src 'self';");
  });

  it('status shows the portal and every robot against what the portal registered', async () => {
    const member = stack.memberId(0);
    const status = await (await api(member, await tokenFor(member, 1), '/api/status')).json();
    expect(status.portal).toMatchObject({ memberId: member, state: 'installed' });
    expect(status.user).toEqual({ id: 1, isAdmin: true });
    expect(status.license).toEqual({ status: 'L', paymentExpired: false, days: null });
    expect(status.handlers.map((h: any) => h.code)).toEqual([...stack.app.catalog.keys()]);
    expect(status.handlers.every((h: any) => Object.values(h.registered).every(Boolean))).toBe(true);
  });

  it('lists the calls newest first, pages with a cursor, filters, and retries a failed one for an admin only', async () => {
    const member = stack.memberId(0);
    const admin = await tokenFor(member, 1);
    const first = await (await api(member, admin, '/api/calls?limit=1')).json();
    expect(first.items).toHaveLength(1);
    const second = await (await api(member, admin, `/api/calls?limit=1&before=${first.next}`)).json();
    expect(second.items).toHaveLength(1);
    expect(BigInt(second.items[0].id)).toBeLessThan(BigInt(first.items[0].id));
    expect(second.items[0]).not.toHaveProperty('eventToken');
    const failed = await (await api(member, admin, '/api/calls?status=failed')).json();
    expect(failed.items.map((c: any) => c.error)).toEqual([expect.stringContaining('«Algorithm»')]);

    const employee = await tokenFor(member, 3);
    const refused = await api(member, employee, `/api/calls/${failed.items[0].id}/retry`, { method: 'POST' });
    expect(refused.status).toBe(403);
    const retried = await api(member, admin, `/api/calls/${failed.items[0].id}/retry`, { method: 'POST' });
    expect(retried.status).toBe(200);
    const hourly = await (await api(member, admin, '/api/stats/hourly')).json();
    expect(hourly.at(-1)).toMatchObject({ calls: 2 });
  });

  it('shows the subscription as app.info reports it; once it has ended the OAuth server issues no tokens and the portal says why', async () => {
    const member = stack.memberId(1);
    await stack.control('PUT', `/_emulator/portals/${member}/apps/${stack.clientId}/payment`, { status: 'T', expired: true, days: -3 });
    const status = await (await api(member, await tokenFor(member, 1), '/api/status')).json();
    expect(status.license).toEqual({ status: 'T', paymentExpired: true, days: -3 });
    const portal = await stack.app.store.findByMemberId(member);
    await stack.control('POST', `/_emulator/portals/${member}/expire-tokens`);
    const client = await stack.app.clients.forPortal(portal!.id);
    await expect(client.call('profile')).rejects.toThrow(/PAYMENT_REQUIRED/);
    expect(await stack.app.store.findByMemberId(member)).toMatchObject({ state: 'needs_reauth', stateReason: expect.stringContaining('PAYMENT_REQUIRED') });
    await stack.control('PUT', `/_emulator/portals/${member}/apps/${stack.clientId}/payment`, { status: 'P', expired: false, days: 30 });
    await stack.install(member, 'headless');
  });

  it("a user of portal B sees none of portal A's calls, and a token of A does not open B", async () => {
    const [a, b] = [stack.memberId(0), stack.memberId(1)];
    const bUser = await tokenFor(b, 1);
    const list = await (await api(b, bUser, '/api/calls')).json();
    expect(list.items).toEqual([]);
    const aCall = (await stack.database.db.prisma.handlerCall.findFirstOrThrow()).id;
    expect((await api(b, bUser, `/api/calls/${aCall}`)).status).toBe(404);
    expect((await api(b, await tokenFor(a, 1), '/api/calls')).status).toBe(401);
    expect((await api(a, 'forged', '/api/calls')).status).toBe(401);
  });
});
