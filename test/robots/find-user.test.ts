/**
 * find_user end to end: the portal emulator runs a workflow whose step is the robot. Return
 * values are checked as the workflow kept them (an answer's values travel as strings).
 * Steps carry `user` as the designer stores it: the registered Default, an expression the
 * portal resolves before calling us.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deal, startStage, type Stage } from './_harness.ts';

describe('Find a user (find_user)', () => {
  let stage: Stage;
  beforeAll(async () => {
    stage = await startStage();
  }, 120_000);
  afterAll(() => stage?.stop());

  it('finds the document’s responsible and their manager, the head of their department', async () => {
    // DEAL_1 is Clara's (user 3), in Sales, which Boris (user 2) heads.
    const run = await stage.runRobot('find_user', { user: '{=Document:ASSIGNED_BY_ID}' }, deal(1));
    expect(run.returned).toEqual({
      user: 'user_3',
      name: 'Clara Sales',
      email: 'clara@alpha.example',
      position: 'Sales Manager',
      department_id: '2',
      department_name: 'Sales',
      manager: 'user_2',
    });
    expect(run.log.some((line) => line.includes('Found user #3'))).toBe(true);
  });

  it('finds a user by e-mail; a department head’s manager is the head of the department above', async () => {
    const run = await stage.runRobot('find_user', { user: '{=Document:ASSIGNED_BY_ID}', email: 'eva@alpha.example' }, deal(1));
    expect(run.returned).toMatchObject({ user: 'user_5', name: 'Eva Lead', department_id: '3', department_name: 'Support', manager: 'user_1' });
  });

  it('returns no manager for the head of the top department, and none for a user in no department', async () => {
    const top = await stage.runRobot('find_user', { user: 'user_1' }, deal(1));
    expect(top.returned).toMatchObject({ user: 'user_1', department_name: 'Company', manager: '' });
    const outside = await stage.runRobot('find_user', { user: 'user_6' }, deal(1));
    expect(outside.returned).toMatchObject({ user: 'user_6', name: 'Felix Extranet', department_id: '0', department_name: '', manager: '' });
  });

  it('ends the step with an error when nobody has the e-mail', async () => {
    const run = await stage.runRobot('find_user', { user: '{=Document:ASSIGNED_BY_ID}', email: 'nobody@alpha.example' }, deal(1));
    expect(run.returned.error).toBe('There is no user with the e-mail nobody@alpha.example on this portal.');
    expect(run.log).toContain('There is no user with the e-mail nobody@alpha.example on this portal.');
  });

  it('ends the step with an error for a user id the portal does not have', async () => {
    const run = await stage.runRobot('find_user', { user: 'user_404' }, deal(1));
    expect(run.returned.error).toBe('There is no user with ID 404 on this portal.');
  });

  it('ends the step with the portal’s refusal when it will not list users (a system error of user.get)', async () => {
    // User 4, whom no earlier test looked up: a user found moments ago comes from the app's cache.
    await stage.refuse('user.get', 'insufficient_scope', 'The request requires higher privileges than provided by the access token', 403);
    const run = await stage.runRobot('find_user', { user: 'user_4' }, deal(1));
    expect(run.returned.error).toBe(
      'The portal would not look up the user with ID 4: The request requires higher privileges than provided by the access token',
    );
  });
});
