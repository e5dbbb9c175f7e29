/**
 * complete_workflow_tasks end to end: workflows wait on approval, review and request tasks;
 * the robot completes a user's open ones on its deal through bizproc.task.complete. The app
 * calls the portal as the user who installed it (user 1, the administrator), and the portal
 * completes only the calling user's own tasks.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BizprocTask } from '@b24-automation/emulator';
import { deal, startStage, taskStep, type DocumentId, type Stage, type Step } from './_harness.ts';

type TaskRow = Omit<BizprocTask, 'userStatus'> & { userStatus: Record<string, number> };

describe('Complete workflow tasks (complete_workflow_tasks)', () => {
  let stage: Stage;
  beforeAll(async () => {
    stage = await startStage();
  }, 120_000);
  afterAll(() => stage?.stop());

  const started = async (steps: Step[], document: DocumentId, count = 1) => {
    const template = await stage.addTemplate(steps);
    const ids = await Promise.all(Array.from({ length: count }, () => stage.startWorkflow(template, document)));
    await new Promise((resolve) => setTimeout(resolve, 50)); // the runner creates the task right after the start
    return ids;
  };
  const tasks = () => stage.control<TaskRow[]>('GET', `/_emulator/portals/${stage.memberId}/bizproc-tasks`);
  const taskOf = async (workflowId: string) => (await tasks()).find((t) => t.workflowId === workflowId)!;

  it('approves the user’s approval on this deal with the comment, and the workflow goes on', async () => {
    const [approval] = await started([taskStep('ApproveActivity', [1], 'Approve the deal')], deal(1));
    const [elsewhere] = await started([taskStep('ApproveActivity', [1], 'Approve the deal')], deal(2));

    const run = await stage.runRobot('complete_workflow_tasks', { user: 'user_1', decision: 'approve', comment: 'Fine by me' }, deal(1));

    expect(run.returned).toEqual({ completed: '1', not_completed: '' });
    const done = await stage.workflow(approval!, 30_000);
    expect(done!.status).toBe('completed');
    expect(done!.log.map((l) => l.message)).toContain('user_1: approved — Fine by me');
    expect((await taskOf(elsewhere!)).status).toBe(0);
  });

  it('rejects what can be rejected and says why a review was left open', async () => {
    const [approval] = await started([taskStep('ApproveActivity', [1], 'Approve the deal')], deal(2));
    const [review] = await started([taskStep('ReviewActivity', [1], 'Read the deal')], deal(2));
    const [request] = await started([taskStep('RequestInformationOptionalActivity', [1], 'Name a contractor')], deal(2));

    const run = await stage.runRobot('complete_workflow_tasks', { user: 'user_1', decision: 'reject' }, deal(2));

    // the approval left open by the first test is on DEAL_2 too
    const reviewTask = await taskOf(review!);
    expect(run.returned).toEqual({ completed: '3', not_completed: `task #${reviewTask.id} «Read the deal»: a Review task cannot be rejected` });
    expect((await taskOf(approval!)).userStatus['1']).toBe(2);
    expect((await taskOf(request!)).userStatus['1']).toBe(4);
    expect(reviewTask.status).toBe(0);
  });

  it('acknowledges a review and submits a request for information with its fields', async () => {
    const [request] = await started(
      [taskStep('RequestInformationActivity', [1], 'Contractor details', { RequestedInformation: [{ Name: 'phone', Title: 'Phone', Type: 'string' }] })],
      deal(2),
    );

    const run = await stage.runRobot('complete_workflow_tasks', { user: 'user_1', fields: 'phone=+19991234567\ncontractor=C_607' }, deal(2));

    expect(run.returned).toEqual({ completed: '2', not_completed: '' }); // the review from before, and the request
    const done = await stage.workflow(request!, 30_000);
    expect(done!.status).toBe('completed');
    expect(done!.variables).toMatchObject({ phone: '+19991234567', contractor: 'C_607' });
  });

  it('ends the step with the portal’s answer for tasks that are not the calling user’s own', async () => {
    const [other] = await started([taskStep('ApproveActivity', [3], 'Approve the deal')], deal(3));
    const run = await stage.runRobot('complete_workflow_tasks', { user: 'user_3', decision: 'approve' }, deal(3));
    const task = await taskOf(other!);
    expect(run.returned).toEqual({
      completed: '0',
      not_completed: `task #${task.id} «Approve the deal»: Task not found`,
      error: `None of the 1 task(s) of user #3 could be completed: task #${task.id} «Approve the deal»: Task not found`,
    });
    expect(task.status).toBe(0);
  });

  it('returns 0 when the user has nothing open on the deal', async () => {
    const run = await stage.runRobot('complete_workflow_tasks', { user: 'user_1' }, deal(3));
    expect(run.returned).toEqual({ completed: '0', not_completed: '' });
    expect(run.log).toContain('User #1 has no open workflow tasks on DEAL_3');
  });

  it('names the lines of the requested fields that are not Name=value', async () => {
    const run = await stage.runRobot('complete_workflow_tasks', { user: 'user_1', fields: 'phone +1999' }, deal(3));
    expect(run.returned.error).toBe('Requested fields: line 1 ("phone +1999") is not Name=value.');
  });

  it('completes more tasks than one page of bizproc.task.list holds, in batches of 50', async () => {
    const ids = await started([taskStep('ApproveActivity', [1], 'Approve the deal')], deal(5), 55);
    const run = await stage.runRobot('complete_workflow_tasks', { user: 'user_1' }, deal(5));
    expect(run.returned).toEqual({ completed: '55', not_completed: '' });
    const statuses = await Promise.all(ids.map(async (id) => (await stage.workflow(id, 30_000))!.status));
    expect(statuses.every((s) => s === 'completed')).toBe(true);
  });
});
