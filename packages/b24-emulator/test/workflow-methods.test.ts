/**
 * The workflow side's list and action methods as restservice.php reads their parameters: default
 * SELECT and ORDER, the filter operations, dates in the portal's offset, who sees whose tasks,
 * and the documented error codes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sequentialTemplate, writeBpt } from '../src/workflow/bpt.ts';
import { startKit, type Kit } from './support/workflow-kit.ts';

const APP = { clientId: 'local.wf.methods', clientSecret: 'm' };
const DEAL = ['crm', 'CCrmDocumentDeal', 'DEAL'];
const OFFSET = /\+01:00$/;

describe('workflow list and action methods', () => {
  let kit: Kit;
  let admin: Awaited<ReturnType<Kit['sdk']>>;
  const bpt = (steps: Parameters<typeof sequentialTemplate>[0]) => ['t.bpt', writeBpt({ TEMPLATE: sequentialTemplate(steps) }).toString('base64')];
  let template: number;
  const workflows: string[] = [];

  beforeAll(async () => {
    kit = await startKit([APP]);
    admin = await kit.sdk(APP);
    template = (await admin('bizproc.workflow.template.add', { DOCUMENT_TYPE: DEAL, NAME: 'Approve', TEMPLATE_DATA: bpt([{ Type: 'ApproveActivity', Name: 'Ok', Properties: { Users: ['user_3', 'user_4'] } }]) })).result;
    for (const deal of ['DEAL_1', 'DEAL_2']) workflows.push((await admin('bizproc.workflow.start', { TEMPLATE_ID: template, DOCUMENT_ID: ['crm', 'CCrmDocumentDeal', deal] })).result);
  });
  afterAll(() => kit?.close());

  it('instances and its alias instance.list: ID, MODIFIED, OWNED_UNTIL by default, newest first, dates with the portal offset', async () => {
    const list = await admin('bizproc.workflow.instances', {});
    expect(new Set(list.result.map((r: { ID: string }) => r.ID))).toEqual(new Set(workflows));
    const modified = list.result.map((r: { MODIFIED: string }) => Date.parse(r.MODIFIED));
    expect(modified).toEqual([...modified].sort((a, b) => b - a));
    expect(Object.keys(list.result[0]).sort()).toEqual(['ID', 'MODIFIED', 'OWNED_UNTIL']);
    expect(list.result[0].MODIFIED).toMatch(OFFSET);
    const alias = await admin('bizproc.workflow.instance.list', { select: ['id', 'template_id', 'started'], order: { STARTED: 'ASC' }, filter: { '>=STARTED': '2000-01-01T00:00:00+00:00', '%ENTITY': 'x' } });
    expect(alias.result).toHaveLength(2);
    expect(alias.result[0]).toEqual({ ID: expect.any(String), TEMPLATE_ID: String(template), STARTED: expect.stringMatching(OFFSET) });
    expect((await admin('bizproc.workflow.instances', { filter: { '<STARTED': '2000-01-01T00:00:00+00:00' } })).result).toEqual([]);
  });

  it('template.list answers ID alone unless SELECT asks for more', async () => {
    expect((await admin('bizproc.workflow.template.list', { filter: { ID: template } })).result).toEqual([{ ID: String(template) }]);
    const [row] = (await admin('bizproc.workflow.template.list', { select: ['NAME', 'MODIFIED'], filter: { ID: template } })).result;
    expect(row).toEqual({ NAME: 'Approve', MODIFIED: expect.stringMatching(OFFSET) });
  });

  it("task.list: an admin sees everyone's tasks, a head their subordinates', others only their own", async () => {
    const all = (await admin('bizproc.task.list', {})).result;
    expect(all.map((t: { ID: string }) => Number(t.ID))).toEqual([...all.map((t: { ID: string }) => Number(t.ID))].sort((a, b) => b - a));
    expect(new Set(all.map((t: { WORKFLOW_ID: string }) => t.WORKFLOW_ID))).toEqual(new Set(workflows));
    expect(Object.keys(all[0]).sort()).toEqual(['DOCUMENT_ID', 'DOCUMENT_NAME', 'DOCUMENT_URL', 'ENTITY', 'ID', 'MODULE_ID', 'NAME', 'WORKFLOW_ID']);
    expect(all[0].DOCUMENT_URL).toMatch(/^\/crm\/deal\/details\/\d+\/$/);
    const [dated] = (await admin('bizproc.task.list', { select: ['MODIFIED', 'WORKFLOW_STARTED'] })).result;
    expect(dated.MODIFIED).toMatch(OFFSET);
    expect(dated.WORKFLOW_STARTED).toMatch(OFFSET);
    const boris = await kit.sdk(APP, 2);
    expect((await boris('bizproc.task.list', { filter: { USER_ID: 3 } })).result).toHaveLength(2);
    expect((await boris('bizproc.task.list', {})).result).toEqual([]);
    const dmitri = await kit.sdk(APP, 4);
    expect(await dmitri('bizproc.task.list', { filter: { USER_ID: 3 } })).toEqual({ error: 'ACCESS_DENIED', status: 403 });
    expect((await dmitri('bizproc.task.list', {})).result).toHaveLength(2);
  });

  it('task.complete takes yes/no/ok/cancel as well as 1–4; delegate answers ERROR_TASK_VALIDATION for bad TASK_IDS', async () => {
    const clara = await kit.sdk(APP, 3);
    const [task] = (await clara('bizproc.task.list', { filter: { WORKFLOW_ID: workflows[0] } })).result;
    expect(await clara('bizproc.task.delegate', { FROM_USER_ID: 3, TO_USER_ID: 5 })).toEqual({ error: 'ERROR_TASK_VALIDATION', status: 400 });
    expect(await clara('bizproc.task.delegate', { TASK_IDS: ['abc'], FROM_USER_ID: 3, TO_USER_ID: 5 })).toEqual({ error: 'ERROR_TASK_VALIDATION', status: 400 });
    expect(await clara('bizproc.task.complete', { TASK_ID: task.ID, STATUS: 'maybe' })).toEqual({ error: 'ERROR_TASK_VALIDATION', status: 400 });
    expect(await clara('bizproc.task.complete', { TASK_ID: task.ID, STATUS: 'yes' })).toEqual({ result: true, total: 0 });
    expect(await clara('bizproc.task.complete', { TASK_ID: task.ID, STATUS: 'yes' })).toEqual({ error: 'ERROR_TASK_COMPLETED', status: 400 });
  });

  it('workflow.start: document errors carry an empty code, as the docs list them; PARAMETERS reach the workflow with TargetUser', async () => {
    expect(await kit.raw(APP, 1, 'bizproc.workflow.start', { TEMPLATE_ID: template, DOCUMENT_ID: ['crm', 'CCrmDocumentDeal', 'DEAL_999'] })).toEqual({ status: 400, body: { error: '', error_description: 'Wrong DOCUMENT_ID!' } });
    expect(await kit.raw(APP, 1, 'bizproc.workflow.start', { TEMPLATE_ID: template, DOCUMENT_ID: 'DEAL_1' })).toEqual({ status: 400, body: { error: '', error_description: 'Wrong DOCUMENT_ID!' } });
    const id = (await admin('bizproc.workflow.start', { TEMPLATE_ID: template, DOCUMENT_ID: ['crm', 'CCrmDocumentDeal', 'DEAL_3'], PARAMETERS: { Reason: 'x' } })).result;
    const instance = await kit.control('GET', `/_emulator/portals/${kit.member}/workflows/${id}`);
    expect(instance.parameters).toEqual({ Reason: 'x', TargetUser: 'user_1' });
  });

  it('tasks module: dates carry the portal offset', async () => {
    expect((await admin('tasks.task.get', { taskId: 2 })).result.task.changedDate).toMatch(OFFSET);
  });
});
