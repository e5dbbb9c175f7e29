/**
 * The emulator's portals are HTTPS, as Bitrix24's are, and clients trust them only through the
 * emulator's CA (NODE_EXTRA_CA_CERTS, set by test/support/global-setup.ts): the official SDK's
 * B24Hook and B24OAuth work unchanged, plain http to an https port gets nowhere, a process
 * without the CA is refused, and a portal created as `protocol: 'http'` still works.
 */
import { execFile } from 'node:child_process';
import { emulatorControl } from '../src/control-client.ts';
import { sdkFromGrant } from './support/sdk.ts';
import { X509Certificate } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkServerIdentity, connect, type DetailedPeerCertificate } from 'node:tls';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { B24Hook } from '@bitrix24/b24jssdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describePortal } from '../src/control.ts';
import { buildEmulator, type Emulator } from '../src/server.ts';
import { emulatorTls, removeTlsFiles, spkiSha256 } from '../src/tls.ts';

const CLIENT = { clientId: 'local.tls.test', clientSecret: 'tls-secret' };
const run = promisify(execFile);

/** `node -e` fetching a URL; prints "ok <status>" or the error's cause code. */
async function fetchFromNode(url: string, env: Record<string, string | undefined>) {
  const script = `fetch(${JSON.stringify(url)}).then((r) => console.log('ok', r.status), (e) => console.log(e.cause?.code ?? e.message))`;
  const { stdout } = await run(process.execPath, ['-e', script], { env: { PATH: process.env.PATH, ...env } });
  return stdout.trim();
}

describe('the emulator over HTTPS', () => {
  let emulator: Emulator;
  let base: string;
  let member: string;

  const control = emulatorControl(() => base);
  const portal = (memberId = member) => emulator.state.portals.get(memberId)!;

  beforeAll(async () => {
    emulator = await buildEmulator({ portals: 1 });
    base = await emulator.listen();
    member = [...emulator.state.portals.keys()][0]!;
    await control('POST', '/_emulator/applications', { ...CLIENT, appUrl: 'http://127.0.0.1:9/app' });
    await control('POST', `/_emulator/portals/${member}/apps/${CLIENT.clientId}/install`, { mode: 'headless' });
  });
  afterAll(() => emulator?.close());

  it('serves the portal, its OAuth server and the control API over https with the CA of EMULATOR_CA_FILE', async () => {
    expect(base).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect(portal().clientEndpoint).toBe(`https://${portal().domain}/rest/`);
    expect(emulator.caFile).toBe(process.env.EMULATOR_CA_FILE);
    expect(process.env.NODE_EXTRA_CA_CERTS).toBe(emulator.caFile);

    const [host, port] = portal().domain.split(':') as [string, string];
    const peer = await new Promise<DetailedPeerCertificate>((resolve, reject) => {
      const socket = connect({ host, port: Number(port) }, () => {
        resolve(socket.getPeerCertificate(true));
        socket.end();
      });
      socket.on('error', reject);
    });
    expect(String(peer.subjectaltname).split(', ').sort()).toEqual(['DNS:localhost', 'IP Address:0:0:0:0:0:0:0:1', 'IP Address:127.0.0.1']);
    expect(checkServerIdentity('localhost', peer)).toBeUndefined();
    expect(checkServerIdentity('127.0.0.1', peer)).toBeUndefined();
    const ca = new X509Certificate(readFileSync(emulator.caFile));
    expect(new X509Certificate(peer.raw).verify(ca.publicKey)).toBe(true);
    // the chain carries the CA, so Chromium can match the CA's key (--ignore-certificate-errors-spki-list)
    expect(new X509Certificate(peer.issuerCertificate.raw).fingerprint256).toBe(ca.fingerprint256);
    expect(spkiSha256(ca.toString())).toMatch(/^[A-Za-z0-9+/]{43}=$/);
  });

  it("the official SDK's B24Hook calls a method through the portal's webhook over https", async () => {
    const { webhookUrl } = describePortal(emulator.state, portal());
    expect(webhookUrl.startsWith('https://')).toBe(true);
    const hook = B24Hook.fromWebhookUrl(webhookUrl, { restrictionParams: { maxRetries: 1 } });
    hook.offClientSideWarning();
    const response = await hook.actions.v2.call.make({ method: 'profile' });
    expect(response.isSuccess).toBe(true);
    expect(response.getData()!.result).toMatchObject({ ID: '1', ADMIN: true });
  });

  it('B24OAuth calls REST and refreshes its token through the https OAuth server', async () => {
    const t = await control('POST', `/_emulator/portals/${member}/apps/${CLIENT.clientId}/tokens`, { userId: 1 });
    expect(t.client_endpoint).toBe(portal().clientEndpoint);
    expect(t.server_endpoint).toBe(`${base}/rest/`);
    const b24 = sdkFromGrant(t, CLIENT);
    const appInfo = await b24.actions.v2.call.make({ method: 'app.info' });
    expect(appInfo.getData()!.result).toMatchObject({ CODE: CLIENT.clientId, INSTALLED: true });

    await control('POST', `/_emulator/portals/${member}/expire-tokens`);
    const refreshesBefore = (await control('GET', '/_emulator/stats'))[member]?.refreshes ?? 0;
    const profile = await b24.actions.v2.call.make({ method: 'profile' });
    expect(profile.getData()!.result).toMatchObject({ ID: '1' });
    expect((await control('GET', '/_emulator/stats'))[member].refreshes).toBe(refreshesBefore + 1);
  });

  it('plain http to an https portal port gets no answer', async () => {
    const { webhookUrl } = describePortal(emulator.state, portal());
    expect((await fetch(`${webhookUrl}profile.json`)).status).toBe(200);
    await expect(fetch(`${webhookUrl.replace('https://', 'http://')}profile.json`)).rejects.toThrow();
  });

  it('a process started without NODE_EXTRA_CA_CERTS is refused with a certificate error; with it, it gets through', async () => {
    const url = `${describePortal(emulator.state, portal()).webhookUrl}profile.json`;
    expect(await fetchFromNode(url, {})).toBe('SELF_SIGNED_CERT_IN_CHAIN');
    expect(await fetchFromNode(url, { NODE_EXTRA_CA_CERTS: emulator.caFile })).toBe('ok 200');
  });

  it("a portal created with protocol 'http' (on premise) is served over plain http, and says so in its frame", async () => {
    const [plain] = await emulator.state.addPortals(1, { protocol: 'http' });
    expect(plain!.clientEndpoint).toBe(`http://${plain!.domain}/rest/`);
    const { webhookUrl } = describePortal(emulator.state, plain!);
    const answer = (await (await fetch(`${webhookUrl}profile.json`)).json()) as { result: { ID: string } };
    expect(answer.result).toMatchObject({ ID: '1' });

    await control('POST', `/_emulator/portals/${plain!.memberId}/apps/${CLIENT.clientId}/install`, { mode: 'headless' });
    const framePage = async (origin: string) => (await fetch(`${origin}/marketplace/app/${CLIENT.clientId}/?user=1`)).text();
    const plainPage = await framePage(`http://${plain!.domain}`);
    expect(plainPage).toContain('PROTOCOL=0');
    expect(plainPage).toContain(`name="${plain!.domain}|0|`);
    const securePage = await framePage(`https://${portal().domain}`);
    expect(securePage).toContain('PROTOCOL=1');
    expect(securePage).toContain(`name="${portal().domain}|1|`);
  });
});

describe('the CA files', () => {
  const dir = mkdtempSync(join(tmpdir(), 'emulator-ca-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('are made once and reused by a process started later, which serves a certificate of the same CA', async () => {
    const caFile = join(dir, 'ca.pem');
    const started = performance.now();
    const made = await emulatorTls({ caFile });
    const madeMs = Math.round(performance.now() - started);
    expect(existsSync(caFile) && existsSync(join(dir, 'ca.key.pem')) && existsSync(join(dir, 'ca.server.pem'))).toBe(true);
    expect(readFileSync(caFile, 'utf8')).toBe(made.caCert);
    expect(new X509Certificate(made.caCert).ca).toBe(true);

    const script = `const t = performance.now(); const { emulatorTls } = await import('./src/tls.ts');
      const loaded = performance.now(); const tls = await emulatorTls({ caFile: ${JSON.stringify(caFile)} });
      console.log(JSON.stringify({ ms: Math.round(performance.now() - loaded), caCert: tls.caCert, cert: tls.cert }));`;
    const { stdout } = await run(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: fileURLToPath(new URL('..', import.meta.url)), env: { PATH: process.env.PATH } });
    const reused = JSON.parse(stdout) as { ms: number; caCert: string; cert: string };
    expect(reused.caCert).toBe(made.caCert);
    expect(reused.cert).toBe(made.cert);
    console.log(`emulator CA and server certificate: made in ${madeMs} ms, reused by another process in ${reused.ms} ms`);

    removeTlsFiles(caFile);
    expect(existsSync(caFile) || existsSync(join(dir, 'ca.key.pem')) || existsSync(join(dir, 'ca.server.pem'))).toBe(false);
  });
});
