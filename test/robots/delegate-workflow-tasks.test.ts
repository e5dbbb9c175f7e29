/**
 * delegate_workflow_tasks end to end: approval workflows give users open workflow tasks; the
 * robot hands them to another user through bizproc.task.delegate, one command per task.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BizprocTask } from '@b24-automation/emulator';
import { deal, startStage, taskStep, type DocumentId, type Stage } from './_harness.ts';

type TaskRow = Omit<BizprocTask, 'userStatus'> & { userStatus: Record<string, number> };

describe('Delegate workflow tasks (delegate_workflow_tasks)', () => {
  let stage: Stage;
  let approval: (user: number) => Promise<number>;
  beforeAll(async () => {
    stage = await startStage();
    const templates = new Map<number, number>();
    approval = async (user) => {
      if (!templates.has(user)) templates.set(user, await stage.addTemplate([taskStep('ApproveActivity', [user], 'Approve the deal')]));
      return templates.get(user)!;
    };
  }, 120_000);
  afterAll(() => stage?.stop());

  const give = async (user: number, document: DocumentId, count = 1) => {
    const template = await approval(user);
    const ids = await Promise.all(Array.from({ length: count }, () => stage.startWorkflow(template, document)));
    await new Promise((resolve) => setTimeout(resolve, 50)); // the runner creates the task right after the start
    return ids;
  };
  const tasks = () => stage.control<TaskRow[]>('GET', `/_emulator/portals/${stage.memberId}/bizproc-tasks`);
  const openOn = async (user: number, code: string) =>
    (await tasks()).filter((t) => t.status === 0 && t.userIds.includes(user) && t.documentId[2] === code);

  it('delegates a user’s open tasks on this deal only, by default', async () => {
    await give(3, deal(1), 2);
    await give(3, deal(2));
    const run = await stage.runRobot('delegate_workflow_tasks', { from_user: 'user_3', to_user: 'user_4' }, deal(1));
    expect(run.returned).toEqual({ delegated: '2', not_delegated: '' });
    expect(await openOn(4, 'DEAL_1')).toHaveLength(2);
    expect(await openOn(3, 'DEAL_1')).toHaveLength(0);
    expect(await openOn(3, 'DEAL_2')).toHaveLength(1);
    expect(run.log).toContain('Delegating 2 open task(s) on DEAL_1 from user #3 to user #4');
  });

  it('delegates the user’s tasks on every document when told to', async () => {
    const run = await stage.runRobot('delegate_workflow_tasks', { from_user: 'user_3', to_user: 'user_2', this_document_only: 'N' }, deal(3));
    expect(run.returned).toEqual({ delegated: '1', not_delegated: '' });
    expect(await openOn(2, 'DEAL_2')).toHaveLength(1);
  });

  it('returns 0 when the user has no open tasks', async () => {
    const run = await stage.runRobot('delegate_workflow_tasks', { from_user: 'user_3', to_user: 'user_4' }, deal(3));
    expect(run.returned).toEqual({ delegated: '0', not_delegated: '' });
    expect(run.log).toContain('User #3 has no open workflow tasks on DEAL_3');
  });

  it('ends the step with each task’s reason when the new user may not receive delegated work', async () => {
    const open = await openOn(4, 'DEAL_1');
    const run = await stage.runRobot('delegate_workflow_tasks', { from_user: 'user_4', to_user: 'user_6' }, deal(1));
    const reasons = open.map((t) => `task #${t.id} «Approve the deal»: Task delegation is only available for intranet users`).join('; ');
    expect(run.returned).toEqual({
      delegated: '0',
      not_delegated: reasons,
      error: `None of the 2 task(s) of user #4 could be delegated to user #6: ${reasons}`,
    });
    expect(await openOn(4, 'DEAL_1')).toHaveLength(2);
  });

  it('ends the step with the portal’s reason for a user who is not active', async () => {
    const run = await stage.runRobot('delegate_workflow_tasks', { from_user: 'user_4', to_user: 'user_7' }, deal(1));
    expect(run.returned.error).toMatch(/^None of the 2 task\(s\) of user #4 could be delegated to user #7: task #\d+ «Approve the deal»: Invalid TO_USER_ID; /);
  });

  it('refuses to delegate a user’s tasks to that same user', async () => {
    const run = await stage.runRobot('delegate_workflow_tasks', { from_user: 'user_4', to_user: 'user_4' }, deal(1));
    expect(run.returned).toEqual({ delegated: '0', error: 'The tasks of user #4 cannot be delegated to the same user.' });
  });

  it('ends the step with an error when the portal will not list the user’s tasks', async () => {
    await stage.refuse('bizproc.task.list', 'ACCESS_DENIED', 'Access denied! The method was not initiated by an administrator or you cannot view the tasks of the specified employee', 403);
    const run = await stage.runRobot('delegate_workflow_tasks', { from_user: 'user_4', to_user: 'user_5' }, deal(1));
    expect(run.returned.error).toBe(
      'The portal would not list the workflow tasks of user #4: Access denied! The method was not initiated by an administrator or you cannot view the tasks of the specified employee',
    );
    expect(await openOn(4, 'DEAL_1')).toHaveLength(2);
  });

  it('delegates more tasks than one page of bizproc.task.list holds, in batches of 50', async () => {
    await give(5, deal(5), 60);
    const run = await stage.runRobot('delegate_workflow_tasks', { from_user: 'user_5', to_user: 'user_2' }, deal(5));
    expect(run.returned).toEqual({ delegated: '60', not_delegated: '' });
    expect(await openOn(2, 'DEAL_5')).toHaveLength(60);
  });
});
