import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnTs } from '../support/process.ts';
import { startStack, type Stack } from '../support/stack.ts';

describe('token refresh: once per portal, across processes', () => {
  let stack: Stack;
  let portalId: number;
  const member = () => stack.memberId(0);
  const refreshes = async () => (await stack.control('GET', '/_emulator/stats'))[member()]?.refreshes ?? 0;

  /** The environment of test/support/call-portal.ts: this stack's database, OAuth server and key. */
  const callerEnv = (extra: Record<string, string>) => ({
    DATABASE_URL: stack.database.url,
    OAUTH_URL: `${stack.emulatorUrl}/oauth/token/`,
    CLIENT_ID: stack.clientId,
    CLIENT_SECRET: stack.clientSecret,
    KEY: stack.tokenKeys.current.key.toString('hex'),
    KEY_ID: stack.tokenKeys.current.id,
    PORTAL_ID: String(portalId),
    START_AT: String(Date.now() + 4000),
    ...extra,
  });

  beforeAll(async () => {
    stack = await startStack({ emulator: { portals: 1, rateLimit: { drainPerSec: 100, maxBurst: 1000 } }, rateLimit: { drainPerSec: 100, capacity: 500 } });
    await stack.install(member(), 'headless');
    portalId = (await stack.database.db.prisma.portal.findUniqueOrThrow({ where: { memberId: member() } })).id;
  });
  afterAll(() => stack?.stop());

  it('50 concurrent calls in one process with a just-expired token cause exactly one refresh, and all succeed', async () => {
    const client = await stack.app.clients.forPortal(portalId);
    await stack.control('POST', `/_emulator/portals/${member()}/expire-tokens`);
    const before = await refreshes();
    const results = await Promise.allSettled(Array.from({ length: 50 }, () => client.call('profile')));
    expect(results.filter((r) => r.status === 'rejected')).toEqual([]);
    expect((await refreshes()) - before).toBe(1);
  });

  it('50 concurrent calls across three processes sharing the database cause exactly one refresh, and all succeed', async () => {
    await stack.control('POST', `/_emulator/portals/${member()}/expire-tokens`);
    const before = await refreshes();
    const env = callerEnv({});
    const runs = [17, 17, 16].map((count) => spawnTs('test/support/call-portal.ts', { ...env, COUNT: String(count) }));
    const codes = await Promise.all(runs.map((r) => r.exited));
    const outputs = runs.map((r) => JSON.parse(r.stdout().trim()) as { ok: number; failed: number; errors: string[] });
    expect(codes).toEqual([0, 0, 0]);
    expect(outputs.map((o) => o.errors).flat()).toEqual([]);
    expect(outputs.reduce((sum, o) => sum + o.ok, 0)).toBe(50);
    expect((await refreshes()) - before).toBe(1);
  });

  it('three processes share one request budget per portal: the portal never answers QUERY_LIMIT_EXCEEDED', async () => {
    // The real limit, 2/s with a block above 50. The budget here is 20, 30 requests below the block.
    // A request counts at the portal when it arrives, not when its slot was taken; while requests
    // wait in between (new TLS connections of three fresh processes on a loaded 2-core machine)
    // the portal's bucket sits empty and that drain is lost: a margin of m requests holds while no
    // request waits more than m / 2 s between its slot and the portal. With the default 40 a full
    // suite saw 1 portal 503 now and then, with 30 once 4 (the client then marks the budget full
    // and sends again, so no call failed). Without a shared budget three processes would send 60
    // at once, over the block.
    await stack.control('PUT', '/_emulator/config', { rateLimit: { drainPerSec: 2, maxBurst: 50 } });
    await stack.control('DELETE', '/_emulator/stats');
    const env = callerEnv({ RATE_PER_SEC: '2', RATE_BURST: '20', COUNT: '40' });
    const runs = [0, 1, 2].map(() => spawnTs('test/support/call-portal.ts', env));
    expect(await Promise.all(runs.map((r) => r.exited))).toEqual([0, 0, 0]);
    const outputs = runs.map((r) => JSON.parse(r.stdout().trim()) as { ok: number; errors: string[] });
    expect(outputs.reduce((sum, o) => sum + o.ok, 0)).toBe(120);
    const stats = (await stack.control('GET', '/_emulator/stats'))[member()];
    expect(stats.byStatus['503'] ?? 0).toBe(0);
    expect(stats.byStatus['200']).toBeGreaterThanOrEqual(120);
    await stack.control('PUT', '/_emulator/config', { rateLimit: { drainPerSec: 100, maxBurst: 1000 } });
  }, 180_000);

  it('a revoked refresh token marks the portal for re-authorisation, and later calls fail fast with that reason', async () => {
    await stack.control('POST', `/_emulator/portals/${member()}/revoke-refresh`);
    await stack.control('POST', `/_emulator/portals/${member()}/expire-tokens`);
    const client = await stack.app.clients.forPortal(portalId);
    await expect(client.call('profile')).rejects.toThrow(/invalid_grant.*administrator must open the app again/);
    const row = await stack.database.db.prisma.portal.findUniqueOrThrow({ where: { id: portalId } });
    expect(row.state).toBe('needs_reauth');
    const started = Date.now();
    await expect(stack.app.clients.forPortal(portalId)).rejects.toThrow(/administrator must open the app again/);
    expect(Date.now() - started).toBeLessThan(1000);
  });
});
