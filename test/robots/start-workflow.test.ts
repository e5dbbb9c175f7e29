/** start_workflow end to end: the robot starts another workflow through bizproc.workflow.start. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deal, startStage, type Stage } from './_harness.ts';

describe('Start a workflow (start_workflow)', () => {
  let stage: Stage;
  let logTemplate: number;
  beforeAll(async () => {
    stage = await startStage();
    logTemplate = await stage.addTemplate([{ Type: 'LogActivity', Name: 'Say', Properties: { Text: 'approver={=Template:Approver}' } }]);
  }, 120_000);
  afterAll(() => stage?.stop());

  it('starts a template on another deal given by number, with its parameters, and returns the new workflow', async () => {
    const run = await stage.runRobot(
      'start_workflow',
      { template_id: String(logTemplate), document_id: '1', parameters: 'Approver=user_3\nTags=a\nTags=b=c' },
      deal(2),
    );
    expect(run.returned.error).toBeUndefined();
    const started = await stage.workflow(run.returned.workflow_id, 30_000);
    expect(started).toMatchObject({
      templateId: logTemplate,
      documentId: deal(1),
      status: 'completed',
      parameters: { Approver: 'user_3', Tags: ['a', 'b=c'] },
    });
    expect(started!.log.map((l) => l.message)).toContain('approver=user_3');
    expect(run.log).toEqual(expect.arrayContaining([`Starting template #${logTemplate} on DEAL_1`, `Started workflow ${run.returned.workflow_id}`]));
  });

  it('starts on this document by default, and on a document given as module|entity|id', async () => {
    const here = await stage.runRobot('start_workflow', { template_id: String(logTemplate) }, deal(4));
    expect((await stage.workflow(here.returned.workflow_id))!.documentId).toEqual(deal(4));
    const there = await stage.runRobot('start_workflow', { template_id: String(logTemplate), document_id: 'crm|CCrmDocumentDeal|DEAL_5' }, deal(4));
    expect((await stage.workflow(there.returned.workflow_id))!.documentId).toEqual(deal(5));
  });

  it('ends the step with an error for a template that does not exist', async () => {
    const run = await stage.runRobot('start_workflow', { template_id: '987654' }, deal(1));
    expect(run.returned).toEqual({ workflow_id: '', error: 'Template #987654 does not exist on this portal (Template not found).' });
    expect(run.log).toContain('Template #987654 does not exist on this portal (Template not found).');
  });

  it('ends the step with the portal’s reason when the template is for another kind of document', async () => {
    const leadTemplate = await stage.addTemplate([{ Type: 'LogActivity', Name: 'Say', Properties: { Text: 'lead' } }], ['crm', 'CCrmDocumentLead', 'LEAD']);
    const run = await stage.runRobot('start_workflow', { template_id: String(leadTemplate) }, deal(1));
    expect(run.returned.error).toBe(`Template #${leadTemplate} could not be started on DEAL_1: Template type and DOCUMENT_ID mismatch!`);
  });

  it('ends the step with the portal’s reason for a document it does not have ("Wrong DOCUMENT_ID!": the docs\' table; "Incorrect document type!" is for a type it cannot tell)', async () => {
    const run = await stage.runRobot('start_workflow', { template_id: String(logTemplate), document_id: 'DEAL_999' }, deal(1));
    expect(run.returned.error).toBe(`Template #${logTemplate} could not be started on DEAL_999: Wrong DOCUMENT_ID!`);
  });

  it('names the lines of the parameters that are not Name=value, and starts nothing', async () => {
    const before = (await stage.control<unknown[]>('GET', `/_emulator/portals/${stage.memberId}/workflows`)).length;
    const run = await stage.runRobot('start_workflow', { template_id: String(logTemplate), parameters: 'Approver=user_3\nuser_4' }, deal(1));
    expect(run.returned.error).toBe('Template parameters: line 2 ("user_4") is not Name=value.');
    // only the robot's own workflow was added
    expect((await stage.control<unknown[]>('GET', `/_emulator/portals/${stage.memberId}/workflows`)).length).toBe(before + 1);
  });

  it('refuses a document id it cannot read', async () => {
    const run = await stage.runRobot('start_workflow', { template_id: String(logTemplate), document_id: 'the big one' }, deal(1));
    expect(run.returned.error).toMatch(/^"the big one" is not a document id/);
  });
});
