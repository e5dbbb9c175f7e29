/**
 * The package as a project installs it: `npm pack` (which builds dist/), the tarball installed
 * with the official SDK into an empty folder from the registry, and then only that folder: its
 * `b24-emulator` bin serves HTTPS with a CA file of its own, and from that install the SDK's
 * B24Hook and B24OAuth (with a token refresh) work, so does the library API, and a page on the
 * SDK's B24Frame alone works in the portal page in Chromium.
 */
import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import { createServer, request } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { EmulatorSummary } from '../src/index.ts';
import { PACKAGE_ROOT, runCli, type CliRun } from './support/cli.ts';

const run = promisify(execFile);
const SDK = '@bitrix24/b24jssdk@2.2.0';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** JSON over HTTPS trusting only the CA in `ca` (this test process trusts another one). */
function requestTrusting(ca: string, url: string, method = 'GET', json?: unknown): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    const headers = json === undefined ? {} : { 'content-type': 'application/json' };
    request(url, { ca, method, headers }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: body ? JSON.parse(body) : null }));
    })
      .on('error', reject)
      .end(json === undefined ? undefined : JSON.stringify(json));
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
    const answer = await requestTrusting(ca, `${ready.portals[0]!.webhookUrl}server.time.json`);
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

  it("from that install, a page on the SDK's B24Frame alone works in its portal page", async () => {
    // the installed library itself gives the server certificate of the bin's CA for the page's server
    const installed = await import(pathToFileURL(join(project, 'node_modules/@b24-automation/emulator/dist/index.js')).href);
    const tls = await installed.emulatorTls({ caFile: ready.caFile });
    const sdk = readFileSync(join(project, 'node_modules/@bitrix24/b24jssdk/dist/umd/index.min.js'));
    const html = readFileSync(join(PACKAGE_ROOT, 'test/fixtures/consumer/sdk-frame.html'));
    // the portal POSTs the frame's form to the app's URL: any method gets the page
    const pageServer = createServer({ key: tls.key, cert: tls.cert }, (req, res) => {
      if (req.url === '/b24jssdk.js') res.writeHead(200, { 'content-type': 'text/javascript' }).end(sdk);
      else res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(html);
    });
    pageServer.listen(0, '127.0.0.1');
    await once(pageServer, 'listening');
    const pageUrl = `https://127.0.0.1:${(pageServer.address() as AddressInfo).port}/app/`;
    const ca = readFileSync(ready.caFile, 'utf8');
    const [portal] = ready.portals;
    const clientId = 'local.frame.test';
    expect((await requestTrusting(ca, `${ready.baseUrl}/_emulator/applications`, 'POST', { clientId, clientSecret: 'frame-secret', appUrl: pageUrl, scopes: ['user_basic'] })).status).toBe(200);
    expect((await requestTrusting(ca, `${ready.baseUrl}/_emulator/portals/${portal!.memberId}/apps/${clientId}/install`, 'POST', { mode: 'headless' })).status).toBe(200);

    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: [`--ignore-certificate-errors-spki-list=${installed.spkiSha256(ca)}`, '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
    });
    try {
      const page = await browser.newPage();
      await page.goto(`https://${portal!.domain}/marketplace/app/${clientId}/?user=3&lang=de`);
      const frame = await vi.waitFor(
        () => {
          const found = page.frames().find((f) => f.url().startsWith(pageUrl));
          if (!found) throw new Error(`the portal page has not opened ${pageUrl} yet`);
          return found;
        },
        { timeout: 30_000, interval: 100 },
      );
      await frame.waitForSelector('body[data-state]', { state: 'attached', timeout: 30_000 });
      const result = JSON.parse((await frame.textContent('#result'))!);
      expect(await frame.getAttribute('body', 'data-state'), result.error).toBe('done');
      expect(result.init).toMatchObject({ lang: 'de', isAdmin: false, placement: 'DEFAULT', auth: { member_id: portal!.memberId } });
      expect(result.profile).toMatchObject({ ID: '3', ADMIN: false });
      expect(result.refreshed.auth.access_token).not.toBe(result.init.auth.access_token);
      expect(result.refreshed.profile).toMatchObject({ ID: '3' });
      expect(result.resized).toEqual({ width: 640, height: 900 });
    } finally {
      await browser.close();
      pageServer.close();
    }
  });
});
