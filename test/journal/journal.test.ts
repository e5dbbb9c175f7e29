/**
 * The REST journal against the emulator: a demo-like run (install, a workflow of several robots,
 * a page's API call) leaves one journal line for every REST request the emulator received from
 * the app, none holding a token or a secret; a repeated find_user is answered from the cache;
 * the admin API shows a portal its own lines only and refuses non-admins.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../support/process.ts';
import { startStack, type Stack } from '../support/stack.ts';

describe('the REST journal', () => {
  let stack: Stack;
  let memberA: string;
  let memberB: string;
  const prisma = () => stack.database.db.prisma;
  const tokenFor = async (member: string, userId: number) =>
    (await stack.control('POST', `/_emulator/portals/${member}/apps/${stack.clientId}/tokens`, { userId })).access_token as string;
  const api = async (member: string, token: string, path: string) => {
    const response = await fetch(`${stack.appUrl}${path}`, { headers: { authorization: `Bearer ${token}`, 'x-b24-member-id': member } });
    return { status: response.status, body: (await response.json()) as any };
  };
  /** what the emulator counted for a portal, once the journal holds as many lines for it */
  const journalCaughtUp = (member: string) =>
    waitFor(
      async () => {
        const stats = await stack.control<Record<string, { requests: number }>>('GET', '/_emulator/stats');
        const received = stats[member]?.requests ?? 0;
        const journalled = await prisma().restJournalEntry.count({ where: { memberId: member } });
        return received > 0 && journalled === received ? received : null;
      },
      20_000,
      `the journal of ${member} to match the emulator's count`,
    );

  beforeAll(async () => {
    stack = await startStack({ emulator: { rateLimit: { drainPerSec: 20, maxBurst: 200 } }, rateLimit: { drainPerSec: 20, capacity: 150 } });
    memberA = stack.memberId(0);
    memberB = stack.memberId(1);
    for (const member of [memberA, memberB]) await stack.install(member, 'headless');
    const templateId = await stack.templateWith(memberA, [
      { code: 'find_user', name: 'FindUser', properties: { user: 'user_3' } },
      { code: 'hash_value', name: 'Hash', properties: { value: '{=FindUser:email}', algorithm: 'sha256' } },
      { code: 'delegate_task', name: 'DelegateTask', properties: { task_id: 4, user: '{=FindUser:manager}' } },
      { code: 'find_user', name: 'FindAgain', properties: { user: 'user_3' } },
    ]);
    const workflow = await stack.runWorkflow(memberA, templateId, undefined, 90_000);
    expect(workflow.status).toBe('completed');
    await waitFor(async () => (await prisma().handlerCall.count({ where: { answeredAt: { not: null } } })) === 4, 30_000, 'four answered calls');
    const admin = await tokenFor(memberA, 1);
    expect((await api(memberA, admin, '/api/templates')).status).toBe(200);
    expect((await api(memberA, admin, '/api/templates')).status).toBe(200);
    const hash = await stack.templateWith(memberB, [{ code: 'hash_value', name: 'Hash', properties: { value: 'b' } }]);
    expect((await stack.runWorkflow(memberB, hash)).status).toBe('completed');
  }, 120_000);
  afterAll(() => stack?.stop());

  it('has a line for every REST request the emulator received from the app', async () => {
    const received = await journalCaughtUp(memberA);
    await journalCaughtUp(memberB);
    // install (proof, events, every robot and action registered), four robots, answers, the page
    expect(received).toBeGreaterThan(20);
    const methods = await prisma().restJournalEntry.groupBy({ by: ['method'], where: { memberId: memberA }, _count: true });
    const count = (method: string) => methods.find((m) => m.method === method)?._count ?? 0;
    const stats = await stack.control<Record<string, { byMethod: Record<string, number> }>>('GET', '/_emulator/stats');
    for (const [method, times] of Object.entries(stats[memberA]!.byMethod)) expect({ method, times: count(method) }).toEqual({ method, times });
  });

  it('journals the requests a robot made against its call, and a repeated find_user reads the cache', async () => {
    await journalCaughtUp(memberA);
    const calls = await prisma().handlerCall.findMany({ where: { code: 'find_user' }, orderBy: { id: 'asc' } });
    expect(calls).toHaveLength(2);
    const [first, again] = await Promise.all(calls.map((call) => prisma().restJournalEntry.findMany({ where: { callId: call.id }, orderBy: { id: 'asc' } })));
    expect(first!.map((line) => line.method)).toEqual(['user.get', 'department.get']);
    expect(first!.every((line) => line.status === 200 && line.durationMs >= 0 && line.memberId === memberA)).toBe(true);
    expect(again).toEqual([]);
    // the page asked twice for the templates; the portal was asked once
    expect(await prisma().restJournalEntry.count({ where: { memberId: memberA, method: 'bizproc.workflow.template.list' } })).toBe(1);
  });

  it('holds no token and no secret', async () => {
    await journalCaughtUp(memberA);
    const grants = stack.emulator.state.grants as unknown as { byAccess: Map<string, unknown>; byRefresh: Map<string, unknown> };
    const eventTokens = (await prisma().handlerCall.findMany({ select: { eventToken: true } })).map((c) => c.eventToken);
    const applicationTokens = [...stack.emulator.state.portals.values()].map((p) => p.apps.get(stack.clientId)!.applicationToken);
    const secrets = [...grants.byAccess.keys(), ...grants.byRefresh.keys(), ...eventTokens, ...applicationTokens, stack.clientSecret];
    expect(eventTokens.length).toBeGreaterThanOrEqual(5);
    expect(secrets.length).toBeGreaterThan(10);
    const [row] = await prisma().$queryRawUnsafe<Array<{ text: string }>>(`SELECT string_agg(j::text, E'\\n') AS text FROM rest_journal j`);
    const text = row!.text;
    expect(text.length).toBeGreaterThan(1000);
    expect(secrets.filter((secret) => secret.length >= 16 && text.includes(secret))).toEqual([]);
    // what was there is marked, not dropped: the install's proof and every answer carried a credential
    const params = (await prisma().restJournalEntry.findMany({ select: { params: true } })).map((row) => row.params);
    expect(params.filter((text) => text.includes('"auth":"[redacted]"')).length).toBe(params.length);
    expect(params.some((text) => text.includes('event_token=%5Bredacted%5D'))).toBe(true);
  });

  it('shows an admin their own portal’s lines, by call and by page, and refuses anyone else', async () => {
    await journalCaughtUp(memberA);
    await journalCaughtUp(memberB);
    const adminA = await tokenFor(memberA, 1);
    const mine = new Set((await prisma().restJournalEntry.findMany({ where: { memberId: memberA }, select: { id: true } })).map((r) => r.id.toString()));

    const page1 = await api(memberA, adminA, '/api/journal?limit=5');
    expect(page1.status).toBe(200);
    expect(page1.body.entries).toHaveLength(5);
    const page2 = await api(memberA, adminA, `/api/journal?limit=5&before=${page1.body.next}`);
    const seen = [...page1.body.entries, ...page2.body.entries].map((e: any) => e.id);
    expect(seen.every((id: string) => mine.has(id))).toBe(true);
    expect(new Set(seen).size).toBe(10);
    expect(BigInt(page2.body.entries[0].id)).toBeLessThan(BigInt(page1.body.entries[4].id));

    const byMethod = await api(memberA, adminA, '/api/journal?method=user.get');
    expect(byMethod.body.entries.map((e: any) => e.method)).toEqual(['user.get']);

    const findUser = await prisma().handlerCall.findFirstOrThrow({ where: { code: 'find_user' }, orderBy: { id: 'asc' } });
    const byCall = await api(memberA, adminA, `/api/journal?call=${findUser.id}`);
    const [read, ...answers] = [byCall.body.entries.slice(0, 2), ...byCall.body.entries.slice(2)];
    expect(read.map((e: any) => [e.method, e.callId])).toEqual([
      ['user.get', findUser.id.toString()],
      ['department.get', findUser.id.toString()],
    ]);
    // and the batches that carried its log line and its answer, journalled with no call of their own
    expect(answers.length).toBeGreaterThanOrEqual(1);
    expect(answers.every((e: any) => e.method === 'batch' && e.callId === null)).toBe(true);
    expect(answers.some((e: any) => e.params.includes('bizproc.event.send?event_token=%5Bredacted%5D'))).toBe(true);
    expect(answers.some((e: any) => e.params.includes('Found%20user%20%233'))).toBe(true);

    // portal B's admin: none of A's lines, not even by A's call id
    const adminB = await tokenFor(memberB, 1);
    const other = await api(memberB, adminB, '/api/journal?limit=200');
    expect(other.body.entries.length).toBeGreaterThan(0);
    expect(other.body.entries.some((e: any) => mine.has(e.id))).toBe(false);
    expect((await api(memberB, adminB, `/api/journal?call=${findUser.id}`)).body.entries).toEqual([]);

    // an employee, and a request without the frame's auth
    expect((await api(memberA, await tokenFor(memberA, 3), '/api/journal')).status).toBe(403);
    expect((await fetch(`${stack.appUrl}/api/journal`)).status).toBe(401);
    expect((await api(memberA, adminA, '/api/journal?status=abc')).status).toBe(400);
  });
});
