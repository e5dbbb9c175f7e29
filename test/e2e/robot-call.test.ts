import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../support/process.ts';
import { startStack, type Stack } from '../support/stack.ts';

const FORM = { 'content-type': 'application/x-www-form-urlencoded' };

describe('a robot call end to end', () => {
  let stack: Stack;
  let member: string;
  let applicationToken: string;
  /** A queue-server call to hash_value, as a portal would send it, with fields replaced or added. */
  const callBody = (fields: Record<string, string>) =>
    new URLSearchParams({
      workflow_id: 'wf',
      code: 'hash_value',
      'document_id[0]': 'crm',
      'document_id[1]': 'CCrmDocumentDeal',
      'document_id[2]': 'DEAL_1',
      'properties[value]': 'x',
      'auth[member_id]': member,
      'auth[application_token]': applicationToken,
      ...fields,
    }).toString();
  beforeAll(async () => {
    stack = await startStack({ emulator: { rateLimit: { drainPerSec: 20, maxBurst: 200 } }, rateLimit: { drainPerSec: 20, capacity: 150 } });
    member = stack.memberId(0);
    applicationToken = (await stack.install(member, 'headless')).applicationToken;
  });
  afterAll(() => stack?.stop());

  it('registers every robot and action, runs a step, and the workflow continues with its return values', async () => {
    const state = await stack.control('GET', '/_emulator/state');
    const apps = state.portals.find((p: any) => p.memberId === member).apps;
    expect(apps[0].robots).toContain('hash_value');
    expect(apps[0].activities).toContain('hash_value_action');

    // The second step takes the first step's return value: `{=Hash:hash}`.
    const templateId = await stack.templateWith(member, [
      { code: 'hash_value', name: 'Hash', properties: { value: 'abc', algorithm: 'md5' } },
      { code: 'hash_value', name: 'HashAgain', properties: { value: '{=Hash:hash}', algorithm: 'sha1' } },
    ]);
    const workflow = await stack.runWorkflow(member, templateId);
    expect(workflow.status).toBe('completed');
    expect(workflow.returnValues.Hash).toEqual({ hash: '900150983cd24fb0d6963f7d28e17f72' });
    expect(workflow.returnValues.HashAgain).toEqual({ hash: createHash('sha1').update('900150983cd24fb0d6963f7d28e17f72').digest('hex') });
    // The portal moves on when it takes the answer; our record of it follows a moment later.
    const calls = await waitFor(async () => {
      const rows = await stack.database.db.prisma.handlerCall.findMany({ where: { workflowId: workflow.id }, orderBy: { id: 'asc' } });
      return rows.every((c) => c.answeredAt) && rows;
    });
    expect(calls.map((c) => c.status)).toEqual(['answered', 'answered']);
    expect(calls[1]!.properties).toEqual({ value: '900150983cd24fb0d6963f7d28e17f72', algorithm: 'sha1' });
  });

  it("writes the handler's progress lines into the workflow log (bizproc.activity.log)", async () => {
    const templateId = await stack.templateWith(member, [{ code: 'find_user', name: 'FindUser', properties: { user: 'user_3' } }]);
    const workflow = await stack.runWorkflow(member, templateId);
    expect(workflow.status).toBe('completed');
    expect(workflow.log.filter((l) => l.activity === 'FindUser').map((l) => l.message)).toContain('Found user #3 (Clara Sales); manager: user #2');
    expect(workflow.returnValues.FindUser).toMatchObject({ name: 'Clara Sales', manager: 'user_2' });
  });

  it('a call with bad property values is kept and answered with a clear error, so the workflow does not hang', async () => {
    const templateId = await stack.templateWith(member, [{ code: 'hash_value', name: 'Bad', properties: { value: 'x', algorithm: 'crc32' } }]);
    const workflow = await stack.runWorkflow(member, templateId);
    expect(workflow.status).toBe('completed');
    expect(workflow.returnValues.Bad).toEqual({ error: 'Invalid settings: «Algorithm» must be one of md5, sha1, sha256, got "crc32".' });
    expect(workflow.log.map((l) => l.message)).toContain('Invalid settings: «Algorithm» must be one of md5, sha1, sha256, got "crc32".');
    const call = await waitFor(() => stack.database.db.prisma.handlerCall.findFirst({ where: { workflowId: workflow.id, answeredAt: { not: null } } }));
    expect(call).toMatchObject({ status: 'failed', error: expect.stringContaining('«Algorithm»') });
  });

  it('user values as a portal sends them: roles are read from the document, a group ends the step with an error naming the value', async () => {
    const templateId = await stack.templateWith(member, [
      { code: 'find_user', name: 'Group', properties: { user: 'group_g1' } },
      { code: 'find_user', name: 'Responsible', properties: { user: 'responsible' } },
      { code: 'find_user', name: 'Author', properties: { user: 'author' } },
      { code: 'find_user', name: 'Plain', properties: { user: 'user_3' } },
    ]);
    const workflow = await stack.runWorkflow(member, templateId);
    expect(workflow.status).toBe('completed');
    expect(workflow.returnValues.Group?.error).toBe('Invalid settings: «User» "group_g1" is a user group; this robot needs one user.');
    // DEAL_1: responsible Clara (3), created by Anna (1), read with crm.item.get
    expect(workflow.returnValues.Responsible).toMatchObject({ user: 'user_3', name: 'Clara Sales' });
    expect(workflow.returnValues.Author).toMatchObject({ user: 'user_1', name: 'Anna Admin' });
    expect(workflow.returnValues.Plain).toMatchObject({ user: 'user_3', name: 'Clara Sales' });
  });

  it('registration sync run twice changes nothing the second time', async () => {
    const portal = await stack.app.store.findByMemberId(member);
    const first = await stack.app.syncPortal(portal!.id);
    const second = await stack.app.syncPortal(portal!.id);
    expect(first.added).toEqual([]);
    expect(second).toEqual({ added: [], updated: [], deleted: [], unchanged: expect.arrayContaining(['robot:hash_value', 'activity:hash_value_action']) });
  });

  it('the same event_token twice is stored and run once', async () => {
    const body = (token: string) => callBody({ workflow_id: 'wf-dup', event_token: token, use_subscription: 'N' });
    const a = await fetch(`${stack.appUrl}/handlers/hash_value`, { method: 'POST', headers: FORM, body: body('dup-token') });
    const b = await fetch(`${stack.appUrl}/handlers/hash_value`, { method: 'POST', headers: FORM, body: body('dup-token') });
    expect([a.status, b.status]).toEqual([200, 200]);
    expect((await a.json()).call).toBe((await b.json()).call);
    expect(await stack.database.db.prisma.handlerCall.count({ where: { eventToken: 'dup-token' } })).toBe(1);
  });

  it('the same event_token sent many times at once, beside new calls, is stored once and every copy is acknowledged with its id', async () => {
    const send = (token: string) =>
      fetch(`${stack.appUrl}/handlers/hash_value`, { method: 'POST', headers: FORM, body: callBody({ workflow_id: `wf-${token}`, event_token: token, use_subscription: 'N' }) });
    // Sent together they land in one statement and in the next ones: resent within a batch and across batches.
    const tokens = Array.from({ length: 60 }, (_, i) => (i % 3 === 0 ? `burst-new-${i}` : 'burst-dup'));
    const answers = await Promise.all(tokens.map(send));
    expect(answers.map((a) => a.status)).toEqual(tokens.map(() => 200));
    const ids = await Promise.all(answers.map(async (a) => (await a.json()).call as string));
    const dupIds = new Set(ids.filter((_, i) => tokens[i] === 'burst-dup'));
    expect(dupIds.size).toBe(1);
    const stored = await stack.database.db.prisma.handlerCall.findMany({ where: { eventToken: { startsWith: 'burst-' } }, select: { id: true, eventToken: true } });
    expect(stored).toHaveLength(21);
    expect(String(stored.find((c) => c.eventToken === 'burst-dup')!.id)).toBe([...dupIds][0]);
  });

  it('a call whose workflow stopped waiting (timeout_duration) is abandoned and recorded, not answered', async () => {
    const body = callBody({ workflow_id: 'wf-late', event_token: 'tok-late', use_subscription: 'Y', timeout_duration: '5', ts: String(Math.floor(Date.now() / 1000) - 60) });
    expect((await fetch(`${stack.appUrl}/handlers/hash_value`, { method: 'POST', headers: FORM, body })).status).toBe(200);
    const call = await waitFor(() => stack.database.db.prisma.handlerCall.findFirst({ where: { eventToken: 'tok-late', finishedAt: { not: null } } }));
    expect(call).toMatchObject({ status: 'timed_out', answeredAt: null, error: expect.stringContaining('timeout_duration') });
    expect(await stack.database.db.prisma.pendingAnswer.count({ where: { callId: call.id } })).toBe(0);
  });

  it('a portal whose refresh token is dead fails its calls at once with the reason, and asks for an admin', async () => {
    const other = stack.memberId(1);
    const { applicationToken: token } = await stack.install(other, 'headless');
    await stack.control('POST', `/_emulator/portals/${other}/revoke-refresh`);
    await stack.control('POST', `/_emulator/portals/${other}/expire-tokens`);
    const body = callBody({ workflow_id: 'wf-dead', event_token: 'tok-dead', code: 'find_user', 'properties[user]': 'user_3', 'auth[member_id]': other, 'auth[application_token]': token });
    expect((await fetch(`${stack.appUrl}/handlers/find_user`, { method: 'POST', headers: FORM, body })).status).toBe(200);
    const started = Date.now();
    const call = await waitFor(() => stack.database.db.prisma.handlerCall.findFirst({ where: { eventToken: 'tok-dead', finishedAt: { not: null } } }), 20_000);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(call).toMatchObject({ status: 'running', attempts: 1, error: expect.stringContaining('an administrator must open the app again') });
    expect(await stack.database.db.prisma.portal.findUniqueOrThrow({ where: { memberId: other } })).toMatchObject({ state: 'needs_reauth' });
  });

  it('bad calls get a clear 4xx, never a 5xx', async () => {
    const valid = Object.fromEntries(new URLSearchParams(callBody({ event_token: 'tok-bad' })));
    const post = (path: string, body: string, headers: Record<string, string> = FORM) => fetch(`${stack.appUrl}${path}`, { method: 'POST', headers, body });
    const without = (key: string) => new URLSearchParams(Object.entries(valid).filter(([k]) => k !== key)).toString();
    const cases: Array<[string, Promise<Response>, number, RegExp]> = [
      ['missing event_token', post('/handlers/hash_value', without('event_token')), 400, /event_token/],
      ['missing document_id', post('/handlers/hash_value', without('document_id[2]')), 400, /document_id/],
      ['missing auth', post('/handlers/hash_value', new URLSearchParams(Object.entries(valid).filter(([k]) => !k.startsWith('auth'))).toString()), 400, /auth/],
      ['wrong type of timeout', post('/handlers/hash_value', `${without('x')}&timeout_duration=soon`), 400, /timeout_duration/],
      ['unknown CODE', post('/handlers/no_such_robot', without('x').replace('hash_value', 'no_such_robot')), 404, /no_such_robot/],
      ['code differs from URL', post('/handlers/hash_value', without('x').replace('code=hash_value', 'code=find_user')), 400, /does not match/],
      ['malformed encoding', post('/handlers/hash_value', '%E0%A4%A&code=%%%'), 400, /./],
      ['JSON instead of a form', post('/handlers/hash_value', '{"code":', { 'content-type': 'application/json' }), 400, /./],
      ['unsupported content type', post('/handlers/hash_value', 'x', { 'content-type': 'text/xml' }), 415, /./],
    ];
    for (const [name, pending, status, description] of cases) {
      const response = await pending;
      const text = await response.text();
      expect(response.status, `${name}: ${text}`).toBe(status);
      expect(text, name).toMatch(description);
    }
    expect(await stack.database.db.prisma.handlerCall.count({ where: { eventToken: 'tok-bad' } })).toBe(0);
  });

  it('brackets deeper than a call can have are folded by the parser limit and ignored, not a crash', async () => {
    const body = callBody({ workflow_id: 'wf-deep', event_token: 'tok-deep', use_subscription: 'N' });
    const response = await fetch(`${stack.appUrl}/handlers/hash_value`, { method: 'POST', headers: FORM, body: `${body}&properties${'[a]'.repeat(40)}=1` });
    expect(response.status).toBe(200);
    const call = await stack.database.db.prisma.handlerCall.findFirstOrThrow({ where: { eventToken: 'tok-deep' } });
    expect((call.properties as Record<string, unknown>).value).toBe('x');
  });
});
