/**
 * stop_workflows end to end: workflows waiting on an approval are running on the deals; the
 * robot, in a workflow of its own on the same deal, stops or deletes them and never itself.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deal, startStage, taskStep, type DocumentId, type Stage } from './_harness.ts';

describe('Stop workflows on this document (stop_workflows)', () => {
  let stage: Stage;
  let waiting: number;
  let other: number;
  beforeAll(async () => {
    stage = await startStage();
    waiting = await stage.addTemplate([taskStep('ApproveActivity', [1], 'Approve the deal')]);
    other = await stage.addTemplate([taskStep('ReviewActivity', [1], 'Read the deal')]);
  }, 120_000);
  afterAll(() => stage?.stop());

  const start = (templateId: number, document: DocumentId, count = 1) =>
    Promise.all(Array.from({ length: count }, () => stage.startWorkflow(templateId, document)));
  const statusOf = async (id: string) => (await stage.workflow(id))?.status ?? 'deleted';

  it('stops the running workflows of one template on this deal with the status message, and no others', async () => {
    const targets = await start(waiting, deal(1), 3);
    const [otherTemplate] = await start(other, deal(1));
    const [otherDeal] = await start(waiting, deal(2));

    const run = await stage.runRobot('stop_workflows', { template_id: String(waiting), status: 'The deal was lost' }, deal(1));

    expect(run.returned).toEqual({ stopped: '3', not_stopped: '' });
    expect(run.workflow.status).toBe('completed');
    for (const id of targets) expect(await stage.workflow(id)).toMatchObject({ status: 'terminated', statusMessage: 'The deal was lost' });
    expect(await statusOf(otherTemplate!)).toBe('running');
    expect(await statusOf(otherDeal!)).toBe('running');
    expect(run.log).toContain(`Stopping 3 workflow(s) of template #${waiting} on DEAL_1`);
  });

  it('deletes every other running workflow on the deal when asked, and goes on running itself', async () => {
    const more = await start(waiting, deal(1), 2);
    const [stillThere] = (await stage.control<Array<{ id: string; status: string; documentId: DocumentId; templateId: number }>>(
      'GET',
      `/_emulator/portals/${stage.memberId}/workflows`,
    )).filter((w) => w.status === 'running' && w.documentId[2] === 'DEAL_1' && w.templateId === other);

    const run = await stage.runRobot('stop_workflows', { mode: 'kill' }, deal(1));

    expect(run.returned).toEqual({ stopped: '3', not_stopped: '' });
    expect(run.workflow.status).toBe('completed');
    for (const id of [...more, stillThere!.id]) expect(await statusOf(id)).toBe('deleted');
  });

  it('returns 0 when nothing else runs on the deal', async () => {
    const run = await stage.runRobot('stop_workflows', {}, deal(3));
    expect(run.returned).toEqual({ stopped: '0', not_stopped: '' });
    expect(run.log).toContain('No other running workflows of any template on DEAL_3');
  });

  it('stops more workflows than one page of bizproc.workflow.instances holds', async () => {
    const many = await start(waiting, deal(4), 60);
    await stage.control('DELETE', '/_emulator/stats');

    const run = await stage.runRobot('stop_workflows', { template_id: String(waiting) }, deal(4));

    expect(run.returned).toEqual({ stopped: '60', not_stopped: '' });
    const statuses = await Promise.all(many.map(statusOf));
    expect(statuses.every((s) => s === 'terminated')).toBe(true);
    const stats = await stage.control('GET', '/_emulator/stats');
    expect(stats[stage.memberId].byMethod['bizproc.workflow.instances']).toBe(2);
  });

  it('ends the step with an error when the portal will not list the workflows', async () => {
    const [survivor] = await start(waiting, deal(5));
    await stage.refuse('bizproc.workflow.instances', 'ACCESS_DENIED', 'Access denied!', 403);
    const run = await stage.runRobot('stop_workflows', {}, deal(5));
    expect(run.returned).toEqual({ stopped: '0', error: 'The portal would not list the workflows on DEAL_5: Access denied!' });
    expect(await statusOf(survivor!)).toBe('running');
  });
});
