/**
 * The workflow side's documented errors, through the official SDK: templates, runs, workflow
 * tasks, answers, and paging past 50.
 */
import { sdkCaller, sdkFromGrant } from './support/sdk.ts';
import { emulatorControl } from '../src/control-client.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildEmulator, type Emulator } from '../src/server.ts';
import { sequentialTemplate, writeBpt } from '../src/workflow/bpt.ts';

const A = { clientId: 'local.wf.a', clientSecret: 'a' };
const B = { clientId: 'local.wf.b', clientSecret: 'b' };

describe('workflow methods through the SDK: shapes and documented errors', () => {
  let emulator: Emulator;
  let base: string;
  let member: string;
  const control = emulatorControl(() => base);
  const sdk = async (app: typeof A, userId = 1) => {
    const t = await control('POST', `/_emulator/portals/${member}/apps/${app.clientId}/tokens`, { userId });
    return sdkCaller(sdkFromGrant({ ...t, user_id: userId, member_id: member }, app), { withTotal: true });
  };
  const bpt = (steps: Parameters<typeof sequentialTemplate>[0]) => ['t.bpt', writeBpt({ TEMPLATE: sequentialTemplate(steps) }).toString('base64')];
  const DEAL = ['crm', 'CCrmDocumentDeal', 'DEAL'];

  beforeAll(async () => {
    emulator = await buildEmulator({ portals: 1, rateLimit: { drainPerSec: 500, maxBurst: 5000 } });
    base = await emulator.listen();
    member = [...emulator.state.portals.keys()][0]!;
    for (const app of [A, B]) {
      await control('POST', '/_emulator/applications', { ...app, appUrl: 'http://127.0.0.1:9/app' });
      await control('POST', `/_emulator/portals/${member}/apps/${app.clientId}/install`, { mode: 'headless' });
    }
  });
  afterAll(() => emulator?.close());

  it('templates: add, update, list, delete and their errors', async () => {
    const a = await sdk(A);
    const b = await sdk(B);
    const employee = await sdk(A, 3);
    const id = (await a('bizproc.workflow.template.add', { DOCUMENT_TYPE: DEAL, NAME: 'T', TEMPLATE_DATA: bpt([]) })).result;
    expect(typeof id).toBe('number');
    expect(await a('bizproc.workflow.template.add', { DOCUMENT_TYPE: ['crm'], NAME: 'T', TEMPLATE_DATA: bpt([]) })).toEqual({ error: 'ERROR_TEMPLATE_VALIDATION_FAILURE', status: 400 });
    expect(await a('bizproc.workflow.template.add', { DOCUMENT_TYPE: DEAL, NAME: '', TEMPLATE_DATA: bpt([]) })).toEqual({ error: 'ERROR_TEMPLATE_VALIDATION_FAILURE', status: 400 });
    expect(await a('bizproc.workflow.template.add', { DOCUMENT_TYPE: DEAL, NAME: 'T', AUTO_EXECUTE: 9, TEMPLATE_DATA: bpt([]) })).toEqual({ error: 'ERROR_TEMPLATE_VALIDATION_FAILURE', status: 400 });
    expect(await employee('bizproc.workflow.template.add', { DOCUMENT_TYPE: DEAL, NAME: 'T', TEMPLATE_DATA: bpt([]) })).toEqual({ error: 'ACCESS_DENIED', status: 403 });
    expect(await a('bizproc.workflow.template.update', { ID: id, FIELDS: { NAME: 'Renamed' } })).toEqual({ result: true, total: 0 });
    expect(await a('bizproc.workflow.template.update', { ID: id, FIELDS: {} })).toEqual({ error: 'ERROR_TEMPLATE_VALIDATION_FAILURE', status: 400 });
    expect(await a('bizproc.workflow.template.update', { ID: 999999, FIELDS: { NAME: 'x' } })).toEqual({ error: 'ERROR_TEMPLATE_NOT_FOUND', status: 400 });
    expect(await b('bizproc.workflow.template.update', { ID: id, FIELDS: { NAME: 'x' } })).toEqual({ error: 'ERROR_TEMPLATE_NOT_OWNER', status: 400 });
    expect((await a('bizproc.workflow.template.list', { select: ['ID', 'NAME'], filter: { ID: id } })).result).toEqual([{ ID: String(id), NAME: 'Renamed' }]);
    expect(await employee('bizproc.workflow.template.list')).toEqual({ error: 'ACCESS_DENIED', status: 403 });
    expect(await a('bizproc.workflow.template.delete', { ID: 999999 })).toEqual({ error: 'ERROR_TEMPLATE_NOT_FOUND', status: 400 });
    expect(await a('bizproc.workflow.template.delete', { ID: id })).toEqual({ result: true, total: 0 });
  });

  it('runs: start, instances (paged past 50), terminate, kill and their errors', async () => {
    const a = await sdk(A);
    const waiting = (await a('bizproc.workflow.template.add', { DOCUMENT_TYPE: DEAL, NAME: 'Wait', TEMPLATE_DATA: bpt([{ Type: 'ApproveActivity', Name: 'Ok', Properties: { Users: ['user_1'] } }]) })).result;
    expect(await a('bizproc.workflow.start', { DOCUMENT_ID: ['crm', 'CCrmDocumentDeal', 'DEAL_1'] })).toEqual({ error: 'ERROR_WRONG_WORKFLOW_ID', status: 400 });
    expect(await a('bizproc.workflow.start', { TEMPLATE_ID: 999999, DOCUMENT_ID: ['crm', 'CCrmDocumentDeal', 'DEAL_1'] })).toEqual({ error: 'ERROR_WRONG_WORKFLOW_ID', status: 400 });
    expect(await a('bizproc.workflow.start', { TEMPLATE_ID: waiting, DOCUMENT_ID: ['crm', 'CCrmDocumentLead', 'LEAD_1'] })).toMatchObject({ status: 400 });
    expect(await (await sdk(A, 3))('bizproc.workflow.start', { TEMPLATE_ID: waiting, DOCUMENT_ID: ['crm', 'CCrmDocumentDeal', 'DEAL_1'] })).toEqual({ error: 'ACCESS_DENIED', status: 403 });
    const ids: string[] = [];
    for (let i = 0; i < 55; i += 1) ids.push((await a('bizproc.workflow.start', { TEMPLATE_ID: waiting, DOCUMENT_ID: ['crm', 'CCrmDocumentDeal', 'DEAL_2'] })).result);
    const page1 = await a('bizproc.workflow.instances', { filter: { TEMPLATE_ID: waiting } });
    expect(page1.result).toHaveLength(50);
    expect(page1.total).toBe(55);
    const page2 = await a('bizproc.workflow.instances', { filter: { TEMPLATE_ID: waiting }, start: 50 });
    expect(page2.result).toHaveLength(5);
    expect(await a('bizproc.workflow.terminate', {})).toEqual({ error: 'ERROR_WRONG_WORKFLOW_ID', status: 400 });
    expect(await a('bizproc.workflow.terminate', { ID: ids[0], STATUS: 'stopped' })).toEqual({ result: true, total: 0 });
    expect(await a('bizproc.workflow.kill', {})).toEqual({ error: 'ERROR_WRONG_WORKFLOW_ID', status: 400 });
    expect(await a('bizproc.workflow.kill', { ID: ids[1] })).toEqual({ result: true, total: 0 });
    expect((await a('bizproc.workflow.instances', { filter: { TEMPLATE_ID: waiting } })).total).toBe(53);
  });

  it('workflow tasks: list own only, complete with a valid STATUS once, delegate with the documented errors', async () => {
    const admin = await sdk(A);
    const boris = await sdk(A, 2);
    const template = (await admin('bizproc.workflow.template.add', { DOCUMENT_TYPE: DEAL, NAME: 'Approve', TEMPLATE_DATA: bpt([{ Type: 'ApproveActivity', Name: 'Ok', Properties: { Users: ['user_2'] } }]) })).result;
    await admin('bizproc.workflow.start', { TEMPLATE_ID: template, DOCUMENT_ID: ['crm', 'CCrmDocumentDeal', 'DEAL_3'] });
    const mine = (await boris('bizproc.task.list', { FILTER: { DOCUMENT_ID: 'DEAL_3' } })).result;
    expect(mine).toHaveLength(1);
    expect(await boris('bizproc.task.list', { FILTER: { USER_ID: 1 } })).toEqual({ error: 'ACCESS_DENIED', status: 403 });
    const taskId = mine[0].ID;
    expect(await boris('bizproc.task.delegate', { TASK_IDS: [taskId], FROM_USER_ID: 2, TO_USER_ID: 6 })).toEqual({ error: 'ERROR_DELEGATION_NOT_ALLOWED', status: 400 });
    expect(await boris('bizproc.task.delegate', { TASK_IDS: [taskId], FROM_USER_ID: 999, TO_USER_ID: 3 })).toEqual({ error: 'ERROR_INVALID_USER_ID', status: 400 });
    expect(await boris('bizproc.task.complete', { TASK_ID: taskId, STATUS: 3 })).toEqual({ error: 'ERROR_TASK_VALIDATION', status: 400 });
    expect(await admin('bizproc.task.complete', { TASK_ID: taskId, STATUS: 1 })).toEqual({ error: 'ERROR_TASK_NOT_FOUND', status: 400 });
    expect(await boris('bizproc.task.complete', { TASK_ID: taskId, STATUS: 1, COMMENT: 'fine' })).toEqual({ result: true, total: 0 });
    expect(await boris('bizproc.task.complete', { TASK_ID: taskId, STATUS: 1 })).toEqual({ error: 'ERROR_TASK_COMPLETED', status: 400 });
  });

  it('answers: a token that does not decode is refused, before the log message is looked at', async () => {
    const a = await sdk(A);
    expect(await a('bizproc.event.send', { EVENT_TOKEN: 'not.a-token', RETURN_VALUES: {} })).toEqual({ error: 'ACCESS_DENIED', status: 403 });
    // restservice.php writeActivityLog decodes the token before it looks at the message; an empty
    // message with a valid token is ERROR_EMPTY_LOG_MESSAGE (workflow-answers.test.ts).
    expect(await a('bizproc.activity.log', { EVENT_TOKEN: 'x.y', LOG_MESSAGE: '' })).toEqual({ error: 'ACCESS_DENIED', status: 403 });
    expect(await a('bizproc.activity.log', { EVENT_TOKEN: 'x.y', LOG_MESSAGE: 'hello' })).toEqual({ error: 'ACCESS_DENIED', status: 403 });
  });

  it('tasks module: delegate and approve with their refusals', async () => {
    const admin = await sdk(A);
    const dmitri = await sdk(A, 4);
    expect((await admin('tasks.task.delegate', { taskId: 4, userId: 5 })).result.task).toMatchObject({ id: '4', responsibleId: '5' });
    expect(await dmitri('tasks.task.approve', { taskId: 3 })).toEqual({ error: '1048582', status: 400 });
    // The pages' code "0" is falsy to the SDK, which reports its own ERR_BAD_REQUEST: read the body itself.
    const t = await control('POST', `/_emulator/portals/${member}/apps/${A.clientId}/tokens`, { userId: 1 });
    const raw = async (method: string, params: Record<string, unknown>) => {
      const response = await fetch(`${t.client_endpoint}${method}.json`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ...params, auth: t.access_token }) });
      return { status: response.status, body: await response.json() };
    };
    expect(await raw('tasks.task.delegate', { taskId: 4, userId: 6 })).toEqual({ status: 400, body: { error: '0', error_description: 'Action on the task is not allowed' } });
    expect(await raw('tasks.task.delegate', { taskId: 'abc', userId: 2 })).toEqual({ status: 400, body: { error: '0', error_description: 'wrong task id' } });
    expect(await raw('tasks.task.delegate', { taskId: 4 })).toEqual({ status: 400, body: { error: '100', error_description: 'Could not find value for parameter {userId}' } });
  });
});
