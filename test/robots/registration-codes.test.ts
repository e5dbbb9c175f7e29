/**
 * One CODE namespace for robots and actions. A portal refuses bizproc.robot.add /
 * bizproc.activity.add for a CODE the app already used for either kind (core
 * bizproc/lib/restservice.php addActivityInternal: INTERNAL_CODE = md5(APP_ID@CODE), without
 * the robot flag), so every robot keeps its code and every action is registered as
 * `<code>_action`; both reach the same definition. A portal still holding an action under the
 * bare code (the rule before) is moved over by a sync, and calls for the old code are answered.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { internalTypeOf } from '@b24-automation/emulator';
import { waitFor } from '../support/process.ts';
import { startStage, type Stage } from './_harness.ts';

describe('robot and action codes', () => {
  let stage: Stage;
  let portalId: number;
  let definitions: string[];
  const registrations = async () => {
    const state = await stage.control<any>('GET', '/_emulator/state');
    const app = state.portals.find((p: any) => p.memberId === stage.memberId).apps[0];
    return { robots: [...app.robots].sort() as string[], activities: [...app.activities].sort() as string[] };
  };
  const bookkeeping = async () =>
    (await stage.stack.database.db.prisma.registeredHandler.findMany({ where: { portalId } })).map((r) => `${r.kind}:${r.code}`).sort();
  /** Runs a workflow of these steps on DEAL_1; every step must be answered for it to complete. */
  const runSteps = async (codes: string[]) => {
    const templateId = await stage.stack.templateWith(stage.memberId, codes.map((code, i) => ({ code, name: `S${i + 1}` })));
    const workflow = await stage.stack.runWorkflow(stage.memberId, templateId, ['crm', 'CCrmDocumentDeal', 'DEAL_1'], 60_000);
    const deliveries = stage.stack.emulator.state.deliveries.filter((d) => d.workflowId === workflow.id);
    return { workflow, deliveries, codes: deliveries.map((d) => d.fields.find(([k]) => k === 'code')![1]) };
  };

  beforeAll(async () => {
    stage = await startStage({ emulator: { rateLimit: { drainPerSec: 20, maxBurst: 200 } }, rateLimit: { drainPerSec: 20, capacity: 150 } });
    portalId = (await stage.stack.app.store.findByMemberId(stage.memberId))!.id;
    definitions = [...stage.stack.app.catalog.keys()].sort();
  }, 120_000);
  afterAll(() => stage?.stop());

  it('registers each robot under its code and each action under <code>_action: no code is used for both kinds', async () => {
    const { robots, activities } = await registrations();
    expect(robots).toEqual(definitions);
    expect(activities).toEqual(definitions.map((code) => `${code}_action`).sort());
    expect(robots.filter((code) => activities.includes(code))).toEqual([]);
    expect(await bookkeeping()).toEqual([...robots.map((c) => `robot:${c}`), ...activities.map((c) => `activity:${c}`)].sort());
  });

  it('a workflow of every robot and one of every action: each step is called at its registered code and answered', async () => {
    for (const codes of [definitions, definitions.map((code) => `${code}_action`)]) {
      const run = await runSteps(codes);
      expect(run.workflow.status).toBe('completed');
      expect(run.codes).toEqual(codes);
      expect(run.deliveries.map((d) => new URL(d.url).pathname)).toEqual(codes.map((code) => `/handlers/${code}`));
      expect(run.deliveries.every((d) => d.status === 200)).toBe(true);
      // Our record of it: every call stored under the code it came with, and answered.
      const calls = await waitFor(async () => {
        const rows = await stage.stack.database.db.prisma.handlerCall.findMany({ where: { workflowId: run.workflow.id }, orderBy: { id: 'asc' } });
        return rows.length === codes.length && rows.every((r) => r.answeredAt) && rows;
      });
      expect(calls.map((c) => c.code)).toEqual(codes);
    }
  }, 120_000);

  it('a portal still holding an action under the bare code is moved over by a sync; calls for the old code are answered', async () => {
    const client = await stage.stack.app.clients.forPortal(portalId);
    const hash = stage.stack.app.catalog.get('hash_value')!;
    // The registration the app made before the rule: the action under the robot's bare code.
    await client.call('bizproc.robot.delete', { CODE: 'hash_value' });
    await client.call('bizproc.activity.delete', { CODE: 'hash_value_action' });
    await client.call('bizproc.activity.add', {
      ...hash.config,
      CODE: 'hash_value',
      HANDLER: `${stage.stack.appUrl}/handlers/hash_value`,
      USE_SUBSCRIPTION: 'Y',
    });
    const prisma = stage.stack.database.db.prisma;
    await prisma.registeredHandler.deleteMany({ where: { portalId, code: { in: ['hash_value', 'hash_value_action'] } } });
    await prisma.registeredHandler.create({ data: { portalId, kind: 'activity', code: 'hash_value', fingerprint: 'old' } });
    expect((await registrations()).activities).toContain('hash_value');

    // A template made with the old action: its step type is the bare code's.
    const oldStep = { Type: internalTypeOf(stage.stack.clientId, 'hash_value'), Name: 'Old', Properties: { value: 'abc', algorithm: 'md5' }, Children: [] };
    const templateId = await stage.stack.templateWith(stage.memberId, [oldStep]);
    const before = await stage.stack.runWorkflow(stage.memberId, templateId);
    expect(before.status).toBe('completed');
    expect(before.returnValues.Old).toEqual({ hash: '900150983cd24fb0d6963f7d28e17f72' });

    const report = await stage.stack.app.syncPortal(portalId);
    expect(report.deleted).toEqual(['activity:hash_value']);
    expect(report.added.sort()).toEqual(['activity:hash_value_action', 'robot:hash_value']);
    const { robots, activities } = await registrations();
    expect(robots).toEqual(definitions);
    expect(activities).toEqual(definitions.map((code) => `${code}_action`).sort());
    expect(await bookkeeping()).toEqual([...robots.map((c) => `robot:${c}`), ...activities.map((c) => `activity:${c}`)].sort());

    // The old template still runs: the bare code is now the robot's, which the same definition answers.
    const after = await stage.stack.runWorkflow(stage.memberId, templateId);
    expect(after.status).toBe('completed');
    expect(after.returnValues.Old).toEqual({ hash: '900150983cd24fb0d6963f7d28e17f72' });
    // A second sync has nothing left to do.
    const again = await stage.stack.app.syncPortal(portalId);
    expect({ ...again, unchanged: [] }).toEqual({ added: [], updated: [], deleted: [], unchanged: [] });
  }, 120_000);
});
