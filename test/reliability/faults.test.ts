/**
 * Portal faults: each kind on a portal of its own, while workflows call a robot that uses the
 * portal's REST (find_user → user.get) and the answers go back through batch/event.send. Every
 * call must end answered, or failed with a recorded reason; none may stay stuck.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../support/process.ts';
import { startStack, type Stack } from '../support/stack.ts';
import type { WorkflowRuntime } from '@b24-automation/emulator';
import { inDriverSlot, summarize } from './harness.ts';
import { eventSends } from './summary.ts';

const WORKFLOWS = 8;

type Fault = { error?: { status: number; code: string; description?: string }; delayMs?: number; drop?: boolean; dropAfterRun?: boolean };

const SCENARIOS: Array<{ name: string; fault?: Fault; method?: string; remaining?: number; tokens?: 'expire' | 'revoke'; robot?: 'hash_value' }> = [
  { name: 'portal 503 QUERY_LIMIT_EXCEEDED', fault: { error: { status: 503, code: 'QUERY_LIMIT_EXCEEDED', description: 'Too many requests' } }, remaining: 6 },
  { name: 'portal 429 OPERATION_TIME_LIMIT', fault: { error: { status: 429, code: 'OPERATION_TIME_LIMIT', description: 'Method is blocked due to operation time limit.' } }, remaining: 6 },
  { name: 'portal 500', fault: { error: { status: 500, code: 'INTERNAL_SERVER_ERROR', description: 'Internal server error' } }, remaining: 6 },
  { name: 'slow answers (4 s)', fault: { delayMs: 4000 }, remaining: 6 },
  { name: 'dropped connections', fault: { drop: true }, remaining: 6 },
  // The portal takes a batch of answers, then the connection is cut before its reply: the
  // outcome is unknown to us, the batch goes again, and the portal must not take an answer twice.
  // hash_value logs nothing, so the first batches carry event.send answers.
  { name: 'answers taken, reply lost', fault: { dropAfterRun: true }, method: 'batch', remaining: 2, robot: 'hash_value' },
  { name: 'expired tokens', tokens: 'expire' },
  { name: 'revoked refresh token', tokens: 'revoke' },
];

describe('portal faults: every call ends answered or failed with its reason', () => {
  let stack: Stack;

  beforeAll(async () => {
    stack = await startStack({
      emulator: { portals: SCENARIOS.length, rateLimit: { drainPerSec: 20, maxBurst: 200 } },
      rateLimit: { drainPerSec: 10, capacity: 100 },
      logLevel: 'warn',
    });
    for (let i = 0; i < SCENARIOS.length; i += 1) await stack.install(stack.memberId(i), 'headless');
  }, 120_000);
  afterAll(() => stack?.stop());
  let replyLost: { rows: Array<{ eventToken: string; status: string; error: string | null }> } | undefined;

  it('under each fault kind', async () => {
    const prisma = stack.database.db.prisma;
    const outcomes = await Promise.all(
      SCENARIOS.map(async (scenario, index) => {
        const member = stack.memberId(index);
        const email = stack.emulator.state.portals.get(member)!.users.get(2)!.email;
        const templateId = await stack.templateWith(
          member,
          scenario.robot === 'hash_value' ? [{ code: 'hash_value', name: 'Hash', properties: { value: 'x' } }] : [{ code: 'find_user', name: 'Find', properties: { email } }],
        );
        if (scenario.fault) await stack.control('POST', '/_emulator/faults', { method: scenario.method ?? '*', memberId: member, remaining: scenario.remaining, ...scenario.fault });
        if (scenario.tokens) await stack.control('POST', `/_emulator/portals/${member}/expire-tokens`);
        if (scenario.tokens === 'revoke') await stack.control('POST', `/_emulator/portals/${member}/revoke-refresh`);
        for (let i = 0; i < WORKFLOWS; i += 1) {
          await inDriverSlot(() => stack.control('POST', `/_emulator/portals/${member}/workflows`, { templateId, documentId: ['crm', 'CCrmDocumentDeal', `DEAL_${1 + (i % 5)}`] }));
        }
        const calls = () =>
          prisma.handlerCall.findMany({ where: { portal: { memberId: member } }, select: { eventToken: true, status: true, error: true, finishedAt: true, answeredAt: true } });
        // Bounded: retries back off to at most a minute, and give up with the reason.
        await waitFor(
          async () => {
            const rows = await calls();
            return rows.length === WORKFLOWS && rows.every((c) => c.status === 'answered' || (c.finishedAt !== null && c.error));
          },
          150_000,
          `every call of "${scenario.name}" settled`,
        ).catch(() => undefined);
        const rows = await calls();
        return { scenario, member, rows };
      }),
    );
    for (const { scenario, member, rows } of outcomes) {
      const summary = await summarize(scenario.name.replace(/\s+/g, '-'), stack.emulator, prisma, [member]);
      expect(summary).toMatchObject({ sent: WORKFLOWS, acknowledged: WORKFLOWS, stored: WORKFLOWS, lost: 0, duplicated: 0, fiveXx: 0 });
      // The fault really happened, as many times as asked (not just configured).
      if (scenario.fault && scenario.remaining) {
        expect({ scenario: scenario.name, injected: Object.values(summary.injected).reduce((a, b) => a + b, 0) }).toEqual({ scenario: scenario.name, injected: scenario.remaining });
      }
      const stuck = rows.filter((c) => !(c.status === 'answered' || (c.finishedAt !== null && c.error)));
      expect({ scenario: scenario.name, calls: rows.length, stuck }).toEqual({ scenario: scenario.name, calls: WORKFLOWS, stuck: [] });
      if (scenario.tokens === 'revoke') {
        // Nothing can reach the portal until an admin opens the app again: the calls say so.
        expect(rows.every((c) => /cannot be reached|admin/i.test(c.error ?? ''))).toBe(true);
        expect(summary.held).toBe(WORKFLOWS);
      } else if (scenario.fault?.dropAfterRun) {
        // The portal took every answer exactly once (above); our record of it: see the known bug below.
        replyLost = { rows };
      } else {
        expect({ scenario: scenario.name, notAnswered: rows.filter((c) => c.status !== 'answered') }).toEqual({ scenario: scenario.name, notAnswered: [] });
      }
    }
    const revoked = outcomes.find((o) => o.scenario.tokens === 'revoke')!;
    // The admin opens the app again: the kept answers reach the portal, each once.
    await stack.install(revoked.member, 'frame');
    await waitFor(
      async () => (await prisma.handlerCall.count({ where: { portal: { memberId: revoked.member }, answeredAt: { not: null } } })) === WORKFLOWS,
      120_000,
      'the kept answers delivered after the admin came back',
    );
    const after = await summarize('revoked-then-reopened', stack.emulator, prisma, [revoked.member]);
    expect(after.lost).toBe(0);
    expect(after.duplicated).toBe(0);
  }, 420_000);

  // A batch of answers taken by the portal whose reply was lost: the next flush sends it again,
  // the portal answers the repeat `true` without taking it a second time, and we record it answered.
  it('an answer taken by the portal whose reply was lost is recorded answered, once', () => {
    expect(replyLost).toBeDefined();
    const { answers } = stack.emulator.state.workflows as WorkflowRuntime;
    const wrong = replyLost!.rows.filter((c) => c.status !== 'answered' || eventSends(answers.get(c.eventToken)).tookEffect !== 1);
    expect(wrong).toEqual([]);
  });
});
