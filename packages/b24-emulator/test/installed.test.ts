/**
 * The package as a project installs it: `npm pack` (which builds dist/), the tarball installed
 * with the official SDK into an empty folder from the registry, and then only that folder: its
 * `b24-emulator` bin serves HTTPS with a CA file of its own, and from that install the SDK's
 * B24Hook and B24OAuth (with a token refresh) work, and so does the library API.
 */
import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EmulatorSummary } from '../src/index.ts';
import { PACKAGE_ROOT, runCli, type CliRun } from './support/cli.ts';

const run = promisify(execFile);
const SDK = '@bitrix24/b24jssdk@2.2.0';

/** GET over HTTPS trusting only the CA in `ca`. */
function getTrusting(url: string, ca: string): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    request(url, { ca }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(body) }));
    })
      .on('error', reject)
      .end();
  });
}

describe('the package installed from its tarball', () => {
  const dir = mkdtempSync(join(tmpdir(), 'emulator-installed-'));
  const project = join(dir, 'project');
  // only what an operator's shell has: no CA trusted, no EMULATOR_CA_FILE, no npm_* of the outer run
  const env = { PATH: process.env.PATH, HOME: process.env.HOME };
  let emulator: CliRun;
  let ready: EmulatorSummary;

  beforeAll(async () => {
    const packed = await run('npm', ['pack', '--json', '--pack-destination', dir], { cwd: PACKAGE_ROOT, env });
    const [{ filename }] = JSON.parse(packed.stdout.slice(packed.stdout.indexOf('['))) as [{ filename: string }];
    mkdirSync(project);
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'emulator-consumer', private: true, type: 'module' }));
    await run('npm', ['install', '--no-audit', '--no-fund', join(dir, filename), SDK], { cwd: project, env });
    emulator = runCli([join(project, 'node_modules/.bin/b24-emulator'), '--port', '0', '--portals', '1', '--ca-file', join(dir, 'ca.pem')], { cwd: project, env });
    ready = await emulator.ready;
  }, 300_000);

  afterAll(async () => {
    if (emulator) expect(await emulator.stop()).toBe(0);
    rmSync(dir, { recursive: true, force: true });
  });

  it('holds the built JavaScript, its declarations and docs, not the sources or tests', async () => {
    const installed = join(project, 'node_modules/@b24-automation/emulator');
    const manifest = JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8'));
    const { stdout } = await run('find', ['.', '-type', 'f'], { cwd: installed });
    const files = stdout.split('\n').filter(Boolean);
    expect(files).toEqual(expect.arrayContaining(['./dist/index.js', './dist/index.d.ts', './dist/cli.js', './README.md', './CONFORMANCE.md']));
    expect(files.filter((f) => f.startsWith('./src/') || f.startsWith('./test/') || f.endsWith('.map'))).toEqual([]);
    expect(Object.keys(manifest.dependencies)).toEqual(expect.arrayContaining(['fastify', 'selfsigned', 'qs']));
  });

  it('types its library API from the declarations it ships', async () => {
    copyFileSync(join(PACKAGE_ROOT, 'test/fixtures/consumer/consumer-types.ts'), join(project, 'consumer-types.ts'));
    // the project's own tsconfig; TypeScript and Node's types are the repository's (a TypeScript project has both)
    const nodeTypes = join(PACKAGE_ROOT, '../../node_modules/@types');
    writeFileSync(
      join(project, 'tsconfig.json'),
      JSON.stringify({ compilerOptions: { target: 'ES2023', module: 'nodenext', moduleResolution: 'nodenext', strict: true, noEmit: true, typeRoots: [nodeTypes], types: ['node'] }, files: ['consumer-types.ts'] }),
    );
    const tsc = join(PACKAGE_ROOT, '../../node_modules/typescript/bin/tsc');
    const checked = await run(process.execPath, [tsc, '-p', 'tsconfig.json'], { cwd: project, env }).then(() => 'ok', (error: { stdout: string }) => error.stdout);
    expect(checked).toBe('ok');
  });

  it('its bin prints the ready line and serves server.time over HTTPS to a client trusting its CA file alone', async () => {
    expect(ready.caFile).toBe(join(dir, 'ca.pem'));
    expect(ready.portals).toHaveLength(1);
    const ca = readFileSync(ready.caFile, 'utf8');
    const answer = await getTrusting(`${ready.portals[0]!.webhookUrl}server.time.json`, ca);
    expect(answer.status).toBe(200);
    expect(Math.abs(Date.parse(answer.body.result) - Date.now())).toBeLessThan(60_000);
    // this test process trusts another CA (global-setup.ts): the certificate is the new CA's
    await expect(fetch(`${ready.portals[0]!.webhookUrl}server.time.json`)).rejects.toThrow();
  });

  it('from that install, the official SDK works through a webhook and through OAuth with a refresh, and so does the library API', async () => {
    copyFileSync(join(PACKAGE_ROOT, 'test/fixtures/consumer/consumer.mjs'), join(project, 'consumer.mjs'));
    const { stdout } = await run(process.execPath, ['consumer.mjs'], { cwd: project, env: { ...env, NODE_EXTRA_CA_CERTS: ready.caFile, READY: JSON.stringify(ready) } });
    const seen = JSON.parse(stdout);
    expect(Math.abs(Date.parse(seen.hookServerTime) - Date.now())).toBeLessThan(60_000);
    expect(seen.oauthProfile).toBe('1');
    expect(seen.profileAfterExpiry).toBe('1');
    expect(seen.refreshes).toBe(1);
    expect(seen.library).toEqual({ portals: 1, restStatus: 200, faultStatus: 503, afterFaultStatus: 200 });
  });
});
