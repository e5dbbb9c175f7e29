/**
 * What a token nobody vouched for may cost. The app's pages API asks the portal whose token a
 * request carries (app.info + profile); anyone can send tokens, so a flood of junk tokens naming a
 * portal must not become a flood of requests to that portal. Counted at the source: every request
 * the app's process makes to the portal's batch endpoint (the app runs in this process).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UNKNOWN_TOKEN_CHECKS } from '../../src/admin/frame-auth.ts';
import { startStack, type Stack } from '../support/stack.ts';

/** The token checks the app sends to portals, by the token they carry: how many, and how many at once. */
function countTokenChecks() {
  const byToken = new Map<string, number>();
  const inFlight = { now: 0, max: 0 };
  const realFetch = globalThis.fetch;
  globalThis.fetch = (async (input: Parameters<typeof fetch>[0], init?: Parameters<typeof fetch>[1]) => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    const body = typeof init?.body === 'string' ? init.body : '';
    if (!url.endsWith('/rest/batch') || !body.includes('"app.info"')) return realFetch(input, init);
    const token = (JSON.parse(body) as { auth: string }).auth;
    byToken.set(token, (byToken.get(token) ?? 0) + 1);
    inFlight.now += 1;
    inFlight.max = Math.max(inFlight.max, inFlight.now);
    try {
      return await realFetch(input, init);
    } finally {
      inFlight.now -= 1;
    }
  }) as typeof fetch;
  const total = () => [...byToken.values()].reduce((a, b) => a + b, 0);
  return { byToken, inFlight, total, restore: () => void (globalThis.fetch = realFetch) };
}

describe('a flood of unknown frame tokens', () => {
  let stack: Stack;
  let victim: string;
  let checks: ReturnType<typeof countTokenChecks>;
  let adminToken = '';
  const api = (token: string) => fetch(`${stack.appUrl}/api/status`, { headers: { authorization: `Bearer ${token}`, 'x-b24-member-id': victim } });

  beforeAll(async () => {
    stack = await startStack({ emulator: { portals: 1 } });
    victim = stack.memberId(0);
    await stack.install(victim, 'headless');
    checks = countTokenChecks();
  }, 120_000);
  afterAll(async () => {
    checks?.restore();
    await stack?.stop();
  });

  it('checks one junk token once, however often and however concurrently it is sent, then refuses it from memory', async () => {
    const token = `junk-repeated-${'y'.repeat(32)}`;
    const first = await Promise.all(Array.from({ length: 30 }, () => api(token)));
    expect(first.map((a) => a.status)).toEqual(first.map(() => 401));
    const again = await Promise.all(Array.from({ length: 30 }, () => api(token)));
    expect(again.map((a) => a.status)).toEqual(again.map(() => 401));
    expect(checks.byToken.get(token)).toBe(1);
  });

  it("an administrator's page, loading several requests at once with a fresh token, costs one check and is served", async () => {
    const { access_token: token } = await stack.control<Record<string, string>>('POST', `/_emulator/portals/${victim}/apps/${stack.clientId}/tokens`, { userId: 1 });
    adminToken = token!;
    const answers = await Promise.all(Array.from({ length: 6 }, () => api(adminToken)));
    expect(answers.map((a) => a.status)).toEqual(answers.map(() => 200));
    expect(checks.byToken.get(adminToken)).toBe(1);
  });
  it('costs the portal a burst of checks and then a few a second, never one per junk request, and answers 401 or 429, never 5xx', async () => {
    const before = checks.total();
    const started = performance.now();
    const answers = await Promise.all(Array.from({ length: 200 }, (_, i) => api(`junk-${i}-${'x'.repeat(32)}`)));
    const seconds = (performance.now() - started) / 1000;
    const sent = checks.total() - before;
    const statuses = answers.map((a) => a.status);
    expect(new Set(statuses)).toEqual(new Set(statuses.filter((s) => s === 401 || s === 429)));
    expect(statuses.filter((s) => s === 429).length).toBe(200 - sent);
    // the bucket's bound over the time the flood took, whatever the machine's speed
    expect(sent).toBeLessThanOrEqual(UNKNOWN_TOKEN_CHECKS.burst + Math.ceil(seconds * UNKNOWN_TOKEN_CHECKS.perSecond));
    const refused = answers.find((a) => a.status === 429)!;
    expect(refused.headers.get('retry-after')).toBe('1');
    expect(await refused.json()).toMatchObject({ error: 'TOO_MANY_TOKEN_CHECKS' });
    // Tokens already vouched for are served from memory, flood or not.
    expect((await api(adminToken)).status).toBe(200);
    console.log(`token flood: 200 junk tokens at once over ${seconds.toFixed(2)} s → ${sent} checks sent to the portal (at most ${checks.inFlight.max} at a time), ${200 - sent} told to retry`);
  });
});
