/**
 * A portal's address changes (docs settings/how-to-call-rest-api/change-domen.md: the old address
 * answers 302 to the new one). The app never follows a Location with its token: the redirect
 * makes it ask the OAuth server, whose answer names the new endpoint; that is recorded, and the
 * robots and answers go on at the new address.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../support/process.ts';
import { startStack, type Stack } from '../support/stack.ts';

describe('a portal that moves to a new address', () => {
  let stack: Stack;
  let member: string;

  beforeAll(async () => {
    stack = await startStack({ emulator: { portals: 1, rateLimit: { drainPerSec: 20, maxBurst: 200 } }, rateLimit: { drainPerSec: 20, capacity: 150 } });
    member = stack.memberId(0);
    await stack.install(member, 'headless');
  });
  afterAll(() => stack?.stop());

  it('is followed through the OAuth server: robots that call the portal and their answers reach it at the new address', async () => {
    const before = await stack.database.db.prisma.portal.findUniqueOrThrow({ where: { memberId: member } });
    const moved = await stack.control<{ from: string; to: string }>('POST', `/_emulator/portals/${member}/move`, {});
    expect(moved.from).toBe(before.domain);

    const templateId = await stack.templateWith(member, [{ code: 'find_user', name: 'Find', properties: { user: 'user_3' } }]);
    const workflow = await stack.runWorkflow(member, templateId, undefined, 60_000);
    expect(workflow.status).toBe('completed');
    expect(workflow.returnValues.Find).toMatchObject({ user: 'user_3', name: 'Clara Sales' });

    const after = await waitFor(async () => {
      const row = await stack.database.db.prisma.portal.findUniqueOrThrow({ where: { memberId: member } });
      return row.domain === moved.to && row;
    }, 30_000, 'the new address recorded');
    expect(after.clientEndpoint).toBe(stack.emulator.state.portals.get(member)!.clientEndpoint);
    expect(stack.logs()).toContain('the portal answered with a redirect');
    expect(stack.logs()).toContain('the portal has a new address (named by the OAuth server)');
  });
});
