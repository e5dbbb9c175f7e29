/** `b24-emulator`: its flags, its ready line, and its exit codes (2 for a bad flag, 0 on SIGTERM). */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { emulatorControl } from '../src/control-client.ts';
import { runSourceCli } from './support/cli.ts';

describe('b24-emulator', () => {
  const dir = mkdtempSync(join(tmpdir(), 'emulator-cli-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('prints one JSON line when ready: base URL, OAuth URL, CA file, and each portal with its webhook', async () => {
    // the CA this test process trusts (global-setup.ts), so it can call the portals
    const run = runSourceCli(['--port', '0', '--portals', '3', '--token-lifetime', '60', '--ca-file', process.env.EMULATOR_CA_FILE!]);
    try {
      const ready = await run.ready;
      expect(ready.oauthUrl).toBe(`${ready.baseUrl}/oauth/token/`);
      expect(ready.caFile).toBe(process.env.EMULATOR_CA_FILE);
      expect(ready.portals).toHaveLength(3);
      const [portal] = ready.portals;
      expect(portal).toMatchObject({ memberId: expect.stringMatching(/^[0-9a-f]{32}$/), adminUserId: 1, clientEndpoint: `https://${portal!.domain}/rest/` });
      const answer = await (await fetch(`${portal!.webhookUrl}profile.json`)).json();
      expect(answer.result).toMatchObject({ ID: '1', ADMIN: true });

      const control = emulatorControl(ready.baseUrl);
      await control('POST', '/_emulator/applications', { clientId: 'local.cli.test', clientSecret: 'secret', appUrl: 'http://127.0.0.1:9/app' });
      const { tokens } = await control('POST', `/_emulator/portals/${portal!.memberId}/apps/local.cli.test/install`, { mode: 'headless' });
      expect(tokens.expires_in).toBeGreaterThan(50);
      expect(tokens.expires_in).toBeLessThanOrEqual(60);
    } finally {
      expect(await run.stop()).toBe(0);
    }
  });

  it('makes the CA file it is told to, and removes only a CA made for itself alone', async () => {
    const caFile = join(dir, 'own-ca.pem');
    const told = runSourceCli(['--port', '0', '--portals', '1', '--ca-file', caFile]);
    expect((await told.ready).caFile).toBe(caFile);
    expect(await told.stop()).toBe(0);
    expect(existsSync(caFile)).toBe(true);

    const alone = runSourceCli(['--port', '0', '--portals', '0']);
    const { caFile: madeForItself } = await alone.ready;
    expect(existsSync(madeForItself)).toBe(true);
    expect(await alone.stop()).toBe(0);
    expect(existsSync(madeForItself)).toBe(false);
  });

  it('explains its flags with --help and exits 0', async () => {
    const run = runSourceCli(['--help']);
    expect(await run.exited).toBe(0);
    for (const flag of ['--port', '--host', '--portals', '--token-lifetime', '--ca-file', '--log-level']) expect(run.stdout()).toContain(flag);
  });

  it.each([
    [['--prot', '4000'], /Unknown option '--prot'/],
    [['--port', 'eighty'], /--port must be a whole number from 0 to 65535, not 'eighty'/],
    [['--portals'], /--portals/],
    [['--log-level', 'loud'], /--log-level must be one of/],
    [['extra'], /positional/i],
  ])('refuses %j with a clear message and exit code 2', async (args, message) => {
    const run = runSourceCli(args as string[]);
    expect(await run.exited).toBe(2);
    expect(run.stderr()).toMatch(message);
    expect(run.stderr()).toContain('b24-emulator --help');
  });
});
