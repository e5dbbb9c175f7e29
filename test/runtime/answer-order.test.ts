/**
 * A portal's answers go out two batches at a time (answers.ts), and a call's answers still arrive
 * in the order its robot gave them: a progress line (bizproc.activity.log) before the answer that
 * closes its step (bizproc.event.send). A line that arrived after the close would be dropped by
 * the portal (the step no longer waits), so every workflow's log shows whether the order held.
 * Without the rule that keeps them apart (CLAIM_DUE in answers.ts), 8 of the 120 lost their line.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../support/process.ts';
import { startStack, type Stack } from '../support/stack.ts';
import { startWorkflows } from '../reliability/driver.ts';

const WORKFLOWS = 120;

describe('answers of one call keep their order with batches out side by side', () => {
  let stack: Stack;
  let member: string;
  beforeAll(async () => {
    stack = await startStack({
      emulator: { rateLimit: { drainPerSec: 50, maxBurst: 500 } },
      rateLimit: { drainPerSec: 50, capacity: 400 },
      workerConcurrency: 64,
      // small batches, so a burst's answers need many, two out at a time
      answerBatchSize: 10,
      logLevel: 'warn',
    });
    member = stack.memberId(0);
    await stack.install(member, 'headless');
  });
  afterAll(() => stack?.stop());

  it(`${WORKFLOWS} workflows at once: each took its progress line before its answer`, async () => {
    const templateId = await stack.templateWith(member, [{ code: 'find_user', name: 'Find', properties: { user: 'user_3' } }]);
    // The first answer batch is held a second at the portal while the other batches go on: a
    // call's answer sent beside its progress line held there would close the step first.
    await stack.control('POST', '/_emulator/faults', { method: 'batch', memberId: member, delayMs: 1000, remaining: 1 });
    const ids = await startWorkflows(stack.emulatorUrl, member, templateId, WORKFLOWS);
    const portal = stack.emulator.state.portals.get(member)!;
    await waitFor(async () => ids.every((id) => portal.workflows.instances.get(id)?.status === 'completed'), 120_000, 'every workflow completed');
    const withoutLine = ids.filter((id) => !portal.workflows.instances.get(id)!.log.some((line) => line.activity === 'Find' && line.message.startsWith('Found user #3')));
    expect(withoutLine).toEqual([]);
    for (const id of ids) expect(portal.workflows.instances.get(id)!.returnValues.Find).toMatchObject({ name: 'Clara Sales' });
    // the answers did go out in many batches: 2 answers a call, 10 a batch at most (the journal is written a moment later)
    const batches = () => stack.database.db.prisma.restJournalEntry.count({ where: { memberId: member, method: 'batch' } });
    await waitFor(async () => (await batches()) >= (2 * WORKFLOWS) / 10, 30_000, 'a journal line for every batch');
  });
});
