/**
 * A portal that refuses a request before running it (503 QUERY_LIMIT_EXCEEDED): the app sends it
 * again, each time through the shared budget, and the SDK adds no requests of its own — every
 * request the portal sees took a slot. Counted by the emulator.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack } from '../support/stack.ts';

describe('requests the portal refused before running them', () => {
  let stack: Stack;
  let member: string;
  let portalId: number;
  const profileRequests = async () => ((await stack.control<Record<string, { byMethod: Record<string, number> }>>('GET', '/_emulator/stats'))[member]?.byMethod.profile ?? 0);
  const refuse = (times: number) =>
    stack.control('POST', '/_emulator/faults', { method: 'profile', memberId: member, remaining: times, error: { status: 503, code: 'QUERY_LIMIT_EXCEEDED', description: 'Too many requests' } });

  beforeAll(async () => {
    stack = await startStack({ emulator: { portals: 1 }, rateLimit: { drainPerSec: 20, capacity: 40 } });
    member = stack.memberId(0);
    await stack.install(member, 'headless');
    portalId = (await stack.app.store.findByMemberId(member))!.id;
  }, 120_000);
  afterAll(async () => {
    await stack?.stop();
  });

  it('are sent again through the budget and succeed, and the budget is marked full for every process', async () => {
    const client = await stack.app.clients.forPortal(portalId);
    const before = await profileRequests();
    await refuse(2);
    const profile = await client.call<{ ID: string }>('profile');
    expect(profile.ID).toBeTruthy();
    expect((await profileRequests()) - before).toBe(3);
    // marked full by the refusal, then one slot taken by each request after it
    const [row] = await stack.database.db.prisma.$queryRaw<Array<{ level: number }>>`SELECT level::float8 AS level FROM portal_rate_state WHERE portal_id = ${portalId}`;
    expect(row!.level).toBeGreaterThan(35);
  });

  it('give up after three more tries with the portal’s own error, four requests in all', async () => {
    const client = await stack.app.clients.forPortal(portalId);
    const before = await profileRequests();
    await refuse(10);
    await expect(client.call('profile')).rejects.toMatchObject({ code: 'QUERY_LIMIT_EXCEEDED', transient: true });
    expect((await profileRequests()) - before).toBe(4);
    await stack.control('DELETE', '/_emulator/faults');
  });
});
