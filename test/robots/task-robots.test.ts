/**
 * approve_task and delegate_task end to end, on the seeded tasks of the emulated portal:
 * #1 awaits its creator's approval (task control), #2 and #4 are in progress.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Task } from '@b24-automation/emulator';
import { deal, startStage, type Stage } from './_harness.ts';

describe('Approve a task (approve_task) and Delegate a task (delegate_task)', () => {
  let stage: Stage;
  beforeAll(async () => {
    stage = await startStage();
  }, 120_000);
  afterAll(() => stage?.stop());

  const task = async (id: number) => (await stage.control<Task[]>('GET', `/_emulator/portals/${stage.memberId}/tasks`)).find((t) => t.id === id)!;

  describe('approve_task', () => {
    it('accepts the work on a task under control and returns its new status', async () => {
      const run = await stage.runRobot('approve_task', { task_id: '1' }, deal(1));
      expect(run.returned).toEqual({ status: '5', status_name: 'completed' });
      expect((await task(1)).status).toBe(5);
      expect(run.log).toContain('Task #1 approved; it is now completed');
    });

    it('ends the step with the portal’s reason for a task that awaits no approval, or was approved already', async () => {
      for (const id of [2, 1]) {
        const run = await stage.runRobot('approve_task', { task_id: String(id) }, deal(1));
        expect(run.returned).toEqual({ error: `Task #${id} could not be approved: Action on the task is not allowed` });
      }
      expect((await task(2)).status).toBe(3);
    });

    it('ends the step with the portal’s reason for a task id it cannot use', async () => {
      const missing = await stage.runRobot('approve_task', { task_id: '9999' }, deal(1));
      expect(missing.returned.error).toBe('Task #9999 could not be approved: Action on the task is not allowed');
      const wrong = await stage.runRobot('approve_task', { task_id: '0' }, deal(1));
      expect(wrong.returned.error).toBe('Task #0 could not be approved: wrong task id');
    });
  });

  describe('delegate_task', () => {
    it('makes another user responsible and returns them', async () => {
      const run = await stage.runRobot('delegate_task', { task_id: '2', user: 'user_4' }, deal(1));
      expect(run.returned).toEqual({ responsible: 'user_4' });
      expect((await task(2)).responsibleId).toBe(4);
      expect(run.log).toContain('Task #2 delegated; responsible is now user #4');
    });

    it('ends the step with the portal’s reason for a user who may not receive delegated work', async () => {
      const run = await stage.runRobot('delegate_task', { task_id: '2', user: 'user_6' }, deal(1));
      expect(run.returned).toEqual({ error: 'Task #2 could not be delegated to user #6: Action on the task is not allowed' });
      expect((await task(2)).responsibleId).toBe(4);
    });

    it('ends the step with the portal’s reason for a completed task, a missing one, or a wrong id', async () => {
      await stage.rest('tasks.task.complete', { taskId: 4 });
      const completed = await stage.runRobot('delegate_task', { task_id: '4', user: 'user_2' }, deal(1));
      expect(completed.returned.error).toBe('Task #4 could not be delegated to user #2: Action on the task is not allowed');
      const missing = await stage.runRobot('delegate_task', { task_id: '9999', user: 'user_2' }, deal(1));
      expect(missing.returned.error).toBe('Task #9999 could not be delegated to user #2: Action on the task is not allowed');
      const wrong = await stage.runRobot('delegate_task', { task_id: '0', user: 'user_2' }, deal(1));
      expect(wrong.returned.error).toBe('Task #0 could not be delegated to user #2: wrong task id');
    });

    it('refuses to run without the user to delegate to', async () => {
      const run = await stage.runRobot('delegate_task', { task_id: '2' }, deal(1));
      expect(run.returned.error).toBe('Invalid settings: «Delegate to» is required.');
    });
  });
});
