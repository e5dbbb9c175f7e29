/**
 * An app step end to end over real HTTP: what the queue server POSTs (properties externalised per
 * type, the step's settings, the auth block) and how bizproc.event.send / bizproc.activity.log
 * answers land (closed or stale steps ignored with `true`, ended workflows refused as the core does).
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { internalTypeOf } from '../src/methods/robots.ts';
import { sequentialTemplate, writeBpt } from '../src/workflow/bpt.ts';
import { startHandlerServer, startKit, type Kit } from './support/workflow-kit.ts';

const DEAL = ['crm', 'CCrmDocumentDeal', 'DEAL'];

describe('an app step through the queue server and its answers', () => {
  let kit: Kit;
  let handler: Awaited<ReturnType<typeof startHandlerServer>>;
  let app: { clientId: string; clientSecret: string };
  let admin: Awaited<ReturnType<Kit['sdk']>>;
  const type = () => internalTypeOf(app.clientId, 'probe');
  const bpt = (steps: Parameters<typeof sequentialTemplate>[0]) => ['t.bpt', writeBpt({ TEMPLATE: sequentialTemplate(steps) }).toString('base64')];
  const callFor = (workflowId: string) =>
    vi.waitFor(
      () => {
        const call = handler.calls.find((c) => c.workflow_id === workflowId);
        if (!call) throw new Error(`no handler call of ${workflowId} yet`);
        return call;
      },
      { timeout: 10_000, interval: 100 },
    );
  const workflow = (id: string) => kit.control('GET', `/_emulator/portals/${kit.member}/workflows/${id}`);
  const answers = async (token: string) => (await kit.control('GET', '/_emulator/answers'))[token];
  const start = async (steps: Parameters<typeof sequentialTemplate>[0]) => {
    const template = (await admin('bizproc.workflow.template.add', { DOCUMENT_TYPE: DEAL, NAME: 'Probe', TEMPLATE_DATA: bpt(steps) })).result;
    const started = await admin('bizproc.workflow.start', { TEMPLATE_ID: template, DOCUMENT_ID: ['crm', 'CCrmDocumentDeal', 'DEAL_1'] });
    return started.result as string;
  };

  beforeAll(async () => {
    handler = await startHandlerServer();
    app = { clientId: 'local.wf.answers', clientSecret: 's' };
    kit = await startKit([{ ...app, appUrl: `${handler.url}/app` }]);
    admin = await kit.sdk(app);
    const added = await admin('bizproc.robot.add', {
      CODE: 'probe',
      HANDLER: `${handler.url}/handler`,
      AUTH_USER_ID: 1,
      NAME: 'Probe',
      PROPERTIES: {
        responsible: { Name: 'Responsible', Type: 'user' },
        watchers: { Name: 'Watchers', Type: 'user', Multiple: 'Y' },
        due: { Name: 'Due', Type: 'date' },
        at: { Name: 'At', Type: 'datetime' },
        urgent: { Name: 'Urgent', Type: 'bool' },
        level: { Name: 'Level', Type: 'select', Options: { low: 'Low', high: 'High' } },
        note: { Name: 'Note', Type: 'string' },
      },
      RETURN_PROPERTIES: { out_text: { Name: 'Text', Type: 'string' }, out_int: { Name: 'Number', Type: 'int' }, out_date: { Name: 'Date', Type: 'date' } },
    });
    expect(added).toEqual({ result: true, total: 0 });
  });
  afterAll(async () => {
    await kit?.close();
    await handler?.close();
  });

  it('sends the values the template holds, externalised per type, with the step settings and the auth block', async () => {
    const id = await start([
      {
        Type: type(),
        Name: 'Probe1',
        Properties: {
          responsible: 'author',
          watchers: ['user_3', 'group_g1'],
          due: '01/29/2025 [3600]',
          at: '{=System:Now}',
          urgent: true,
          level: 'high',
          note: null,
          TimeoutDuration: 2,
          TimeoutDurationType: 'm',
          AuthUserId: 'user_3',
        },
      },
    ]);
    const call = await callFor(id);
    expect(call.properties).toMatchObject({ responsible: 'author', watchers: ['user_3', 'group_g1'], due: '01/29/2025', urgent: 'Y', level: 'high', note: '' });
    // en culture: MM/DD/YYYY H:MI:SS T, a lone H being the 12-hour clock with a leading zero
    expect(call.properties.at).toMatch(/^\d{2}\/\d{2}\/\d{4} (0[1-9]|1[0-2]):\d{2}:\d{2} (am|pm)$/);
    expect(call.document_type).toEqual(DEAL);
    expect(call.document_id).toEqual(['crm', 'CCrmDocumentDeal', 'DEAL_1']);
    expect(call.use_subscription).toBe('Y');
    expect(call.timeout_duration).toBe('120');
    expect(Math.abs(Number(call.ts) - Date.now() / 1000)).toBeLessThan(30);
    expect(call.auth).toMatchObject({ user_id: '3', member_id: kit.member, status: 'L' });
    expect(call.auth.refresh_token).toMatch(/.+/);
    expect(call.auth.application_token).toMatch(/.+/);
    expect(call.event_token).toMatch(new RegExp(`^${id.replace('.', '\\.')}\\|Probe1\\|[0-9a-f]{32}\\.[0-9a-f]{64}$`));
  });

  it('in a ru portal, dates go in DD.MM.YYYY and DD.MM.YYYY HH:MI:SS', async () => {
    const portal = kit.emulator.state.portals.get(kit.member)!;
    portal.languageId = 'ru';
    try {
      const id = await start([{ Type: type(), Name: 'ProbeRu', Properties: { due: '29.01.2025 [3600]', at: '{=System:Now}', UseSubscription: 'N' } }]);
      const call = await callFor(id);
      expect(call.properties.due).toBe('29.01.2025');
      expect(call.properties.at).toMatch(/^\d{2}\.\d{2}\.\d{4} ([01]\d|2[0-3]):\d{2}:\d{2}$/);
      expect(call.use_subscription).toBe('N');
      expect(call.properties.watchers).toBe('');
    } finally {
      portal.languageId = 'en';
    }
  });

  it('answers: log needs a message, return values land upper-case matched and typed, a second answer is true but changes nothing, an ended workflow is refused', async () => {
    const id = await start([{ Type: type(), Name: 'Answered', Properties: {} }]);
    const token = (await callFor(id)).event_token as string;
    expect(await admin('bizproc.activity.log', { EVENT_TOKEN: token, LOG_MESSAGE: '' })).toEqual({ error: 'ERROR_EMPTY_LOG_MESSAGE', status: 400 });
    expect(await admin('bizproc.activity.log', { EVENT_TOKEN: token, LOG_MESSAGE: 'working' })).toEqual({ result: true, total: 0 });
    expect(await admin('bizproc.event.send', { EVENT_TOKEN: token, RETURN_VALUES: { OUT_TEXT: 'done', out_int: '42', out_date: '01/31/2025', unknown: 'x' }, LOG_MESSAGE: 'finished' })).toEqual({ result: true, total: 0 });
    const ended = await kit.control('GET', `/_emulator/portals/${kit.member}/workflows/${id}?wait=5000`);
    expect(ended.status).toBe('completed');
    expect(ended.returnValues.Answered).toMatchObject({ out_text: 'done', out_int: '42' });
    expect(new Date(ended.returnValues.Answered.out_date).toISOString()).toBe('2025-01-30T23:00:00.000Z');
    expect(ended.returnValues.Answered).not.toHaveProperty('unknown');
    expect(ended.log.filter((l: { message: string }) => l.message === 'working' || l.message === 'finished').map((l: { message: string }) => l.message)).toEqual(['working', 'finished']);
    // The workflow has ended: CBPRuntime::GetWorkflow throws (code 404), answered as HTTP 400.
    expect(await kit.raw(app, 1, 'bizproc.event.send', { EVENT_TOKEN: token, RETURN_VALUES: { out_text: 'again' } })).toEqual({
      status: 400,
      body: { error: 404, error_description: 'The business process is not found.' },
    });
    expect(await answers(token)).toEqual({ eventSendReceived: 2, eventSend: 1, repeated: 1, activityLogReceived: 1, activityLog: 1 });
    expect((await workflow(id)).returnValues.Answered.out_text).toBe('done');
  });

  it('a step already closed (timed out) takes no answer: event.send is true, nothing changes', async () => {
    const id = await start([
      { Type: type(), Name: 'Late', Properties: { TimeoutDuration: 1 } },
      { Type: 'ApproveActivity', Name: 'Hold', Properties: { Users: ['user_1'] } },
    ]);
    const token = (await callFor(id)).event_token as string;
    await vi.waitFor(async () => expect((await workflow(id)).returnValues.Late?.IsTimeout).toBe(1), { timeout: 10_000, interval: 100 });
    expect(await admin('bizproc.event.send', { EVENT_TOKEN: token, RETURN_VALUES: { out_text: 'too late' } })).toEqual({ result: true, total: 0 });
    expect(await admin('bizproc.activity.log', { EVENT_TOKEN: token, LOG_MESSAGE: 'too late' })).toEqual({ result: true, total: 0 });
    const after = await workflow(id);
    expect(after.returnValues.Late).toEqual({ IsTimeout: 1 });
    expect(after.log.some((l: { message: string }) => l.message === 'too late')).toBe(false);
    expect(await answers(token)).toEqual({ eventSendReceived: 1, eventSend: 0, repeated: 1, activityLogReceived: 1, activityLog: 0 });
  });

  it('a token that does not decode is ACCESS_DENIED, checked before the log message', async () => {
    const id = await start([{ Type: type(), Name: 'Forged', Properties: { TimeoutDuration: 1 } }]);
    const token = (await callFor(id)).event_token as string;
    const forged = token.replace(/.$/, (c) => (c === '0' ? '1' : '0'));
    expect(await admin('bizproc.event.send', { EVENT_TOKEN: forged, RETURN_VALUES: {} })).toEqual({ error: 'ACCESS_DENIED', status: 403 });
    expect(await admin('bizproc.activity.log', { EVENT_TOKEN: 'x.y', LOG_MESSAGE: '' })).toEqual({ error: 'ACCESS_DENIED', status: 403 });
  });
});
