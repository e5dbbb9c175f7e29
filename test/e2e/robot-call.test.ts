import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack } from '../support/stack.ts';

describe('a robot call end to end', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack();
  });
  afterAll(() => stack?.stop());

  it('installs headless, registers the robots, runs a workflow step and returns its values', async () => {
    const member = stack.memberId(0);
    await stack.install(member, 'headless');
    const state = await stack.control('GET', '/_emulator/state');
    const apps = state.portals.find((p: any) => p.memberId === member).apps;
    expect(apps[0].robots).toContain('hash_value');
    expect(apps[0].activities).toContain('hash_value');

    const templateId = await stack.templateWith(member, [{ code: 'hash_value', name: 'Hash', properties: { value: 'abc', algorithm: 'md5' } }]);
    const workflow = await stack.runWorkflow(member, templateId);
    expect(workflow.status).toBe('completed');
    expect(workflow.returnValues.Hash).toEqual({ hash: '900150983cd24fb0d6963f7d28e17f72' });
  });
});
