import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack } from '../support/stack.ts';

const ROUTES = [
  '/handlers/hash_value',
  '/handlers/no_such',
  '/events',
  '/install',
  '/app',
  '/placement/start_workflow',
  '/api/calls',
  '/api/calls/1/retry',
  '/api/registration/sync',
  '/api/templates',
  '/api/workflows',
  '/api/workflows/1.2/terminate',
  '/api/tasks/1/complete',
  '/api/tasks/1/delegate',
];
const CONTENT_TYPES = ['application/x-www-form-urlencoded', 'application/json', 'text/plain', 'multipart/form-data; boundary=x', ''];

/** Form-ish bodies: bracket keys nested deep, odd encodings, unicode edge cases, forged auth. */
const key = fc.oneof(
  fc.constantFrom('code', 'event_token', 'workflow_id', 'document_id', 'properties', 'auth', 'event', 'data', 'AUTH_ID', 'member_id', '__proto__', 'constructor'),
  fc.string({ maxLength: 12 }),
);
const segment = fc.oneof(fc.constant('[]'), fc.nat(30).map((n) => `[${n}]`), key.map((k) => `[${k}]`));
const formKey = fc.tuple(key, fc.array(segment, { maxLength: 12 })).map(([k, path]) => k + path.join(''));
const formValue = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.constantFrom('%', '%E0%A4%A', '%00', '\u0000', '\uD800', 'Y', 'N', '-1', '1e309', 'user_', '{=Document:X}', 'a'.repeat(5000)),
);
/** Percent-encoded when it can be; a lone surrogate or a raw value goes as it is, which is the point. */
const encode = (text: string) => {
  try {
    return encodeURIComponent(text);
  } catch {
    return text;
  }
};
const formBody = fc
  .array(fc.tuple(formKey, formValue, fc.boolean()), { maxLength: 30 })
  .map((pairs) => pairs.map(([k, v, raw]) => `${encode(k)}=${raw ? v : encode(v)}`).join('&'));
const anyBody = fc.oneof(formBody, fc.string({ maxLength: 200 }), fc.json({ maxDepth: 6 }));

describe('hostile input on every route', () => {
  let stack: Stack;
  let member: string;
  beforeAll(async () => {
    stack = await startStack({ emulator: { portals: 1 }, logLevel: 'warn' });
    member = stack.memberId(0);
    await stack.install(member, 'headless');
  });
  afterAll(() => stack?.stop());

  it('never answers 5xx, never crashes, and stores nothing from a forged request', async () => {
    const before = await stack.database.db.prisma.handlerCall.count();
    const portalBefore = await stack.database.db.prisma.portal.findUniqueOrThrow({ where: { memberId: member } });
    const heapBefore = process.memoryUsage().heapUsed;
    let requests = 0;
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...ROUTES), fc.constantFrom(...CONTENT_TYPES), anyBody, fc.boolean(), async (route, type, body, withMember) => {
        // Forged: the right member id (sometimes), never the right application_token.
        const forged = withMember ? `${body}&auth%5Bmember_id%5D=${member}&auth%5Bapplication_token%5D=forged` : body;
        const response = await fetch(`${stack.appUrl}${route}`, {
          method: 'POST',
          headers: type ? { 'content-type': type, authorization: 'Bearer forged', 'x-b24-member-id': member } : {},
          body: forged,
        });
        await response.arrayBuffer();
        requests += 1;
        expect(response.status, `${route} ${type} ${forged.slice(0, 200)}`).toBeLessThan(500);
      }),
      { numRuns: 400, seed: Number(process.env.FUZZ_SEED ?? 20261124) },
    );
    expect((await fetch(`${stack.appUrl}/healthz`)).status).toBe(200);
    expect(await stack.database.db.prisma.handlerCall.count()).toBe(before);
    expect(await stack.database.db.prisma.ownedTemplate.count()).toBe(0);
    expect(await stack.database.db.prisma.portal.findUniqueOrThrow({ where: { memberId: member } })).toEqual(portalBefore);
    const heapGrowthMb = (process.memoryUsage().heapUsed - heapBefore) / 1e6;
    console.log(`reliability hostile-input: ${requests} requests over ${ROUTES.length} routes, 5xx=0, stored=0, heap growth ${heapGrowthMb.toFixed(1)} MB`);
    expect(heapGrowthMb).toBeLessThan(200);
  }, 180_000);
});
