import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PortalStore } from '../../src/portals/portal-store.ts';
import { TokenCipher } from '../../src/portals/token-cipher.ts';
import { spawnApp, spawnTs } from '../support/process.ts';
import { startStack, type Stack } from '../support/stack.ts';

describe('rotating TOKEN_ENCRYPTION_KEY as the README says', () => {
  let stack: Stack;
  const oldKey = () => `${stack.tokenKeys.current.id}:${stack.tokenKeys.current.key.toString('hex')}`;
  const newKey = randomBytes(32).toString('hex');
  const env = (ring: string) => ({ DATABASE_URL: stack.database.url, TOKEN_ENCRYPTION_KEY: ring, PORT: '0', LOG_LEVEL: 'warn' });

  beforeAll(async () => {
    stack = await startStack({ emulator: { portals: 2 } });
    for (const index of [0, 1]) await stack.install(stack.memberId(index), 'headless');
  });
  afterAll(() => stack?.stop());

  it('a ring that lacks the stored tokens’ key stops the app at start with one clear line, instead of failing every portal later', async () => {
    const run = spawnApp(env(`k2:${newKey}`));
    expect(await run.exited).toBe(1);
    expect(run.stderr().trim().split('\n')).toEqual([
      'configuration error: stored tokens were encrypted with key id(s) test, which TOKEN_ENCRYPTION_KEY does not hold: keep the old key in the ring (`new:NEW,test:OLD`) until `npm run keys:rewrap` has moved them',
    ]);
  });

  it('keys:rewrap moves every stored token under the new key; the old key can then be dropped', async () => {
    const rewrap = spawnTs('src/cli/rewrap-tokens.ts', env(`k2:${newKey},${oldKey()}`));
    expect(await rewrap.exited).toBe(0);
    expect(JSON.parse(rewrap.stdout())).toEqual({ currentKey: 'k2', rewrapped: 2, left: 0 });
    const onlyNew = new PortalStore(stack.database.db.prisma, new TokenCipher({ current: { id: 'k2', key: Buffer.from(newKey, 'hex') }, all: new Map([['k2', Buffer.from(newKey, 'hex')]]) }));
    expect(await onlyNew.unknownKeyIds()).toEqual([]);
    const portal = await stack.database.db.prisma.portal.findUniqueOrThrow({ where: { memberId: stack.memberId(0) } });
    const tokens = await onlyNew.readTokens(portal.id);
    const grants = stack.emulator.state.grants.all(stack.memberId(0));
    expect(grants.map((g) => g.accessToken)).toContain(tokens!.accessToken);
    const again = spawnTs('src/cli/rewrap-tokens.ts', env(`k2:${newKey}`));
    expect(await again.exited).toBe(0);
    expect(JSON.parse(again.stdout())).toEqual({ currentKey: 'k2', rewrapped: 0, left: 0 });
  });
});
