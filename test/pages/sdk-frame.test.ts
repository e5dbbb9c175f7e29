/**
 * The emulator's portal page speaks the core's frame protocol (applayout.js) well enough for a
 * page that loads nothing but the official SDK's B24Frame: a tiny test page (sdk-frame/, bundled
 * by vite as the app's pages are, served over HTTPS from a static server of its own) opened in the
 * portal page in Chromium initializes, reads the portal's language and the user's auth, calls
 * `profile` as the signed-in user over the SDK's REST client, refreshes its auth, resizes its frame
 * and sets the portal's title; each is checked through the portal page and the emulator.
 * Then the protocol's edges, posted by hand from inside the frame: the object form of a command,
 * the core's split of a string whose JSON holds colons, silence for a foreign appSid or an
 * unknown command, and a message from another origin dropped.
 */
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Frame, Page } from 'playwright-core';
import { build } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildEmulator, type Emulator } from '@b24-automation/emulator';
import { emulatorTls } from '@b24-automation/emulator';
import { emulatorControl } from '@b24-automation/emulator';
import { appFrame, launchBrowser } from '../support/browser.ts';

const SOURCE = fileURLToPath(new URL('./sdk-frame/', import.meta.url));
const TYPES: Record<string, string> = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.map': 'application/json' };

/** The bundled test page over HTTPS; the portal POSTs its form to the page's URL, so any method gets the page. */
async function servePage(root: string): Promise<{ server: Server; url: string }> {
  const tls = await emulatorTls();
  const server = createServer({ key: tls.key, cert: tls.cert }, (request, response) => {
    const path = new URL(request.url ?? '/', 'https://x').pathname;
    const file = path.startsWith('/assets/') ? normalize(join(root, path)) : join(root, 'index.html');
    if (!file.startsWith(root)) return void response.writeHead(404).end();
    try {
      const body = readFileSync(file);
      response.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream', 'cache-control': 'no-store' }).end(body);
    } catch {
      response.writeHead(404).end();
    }
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, url: `https://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

describe('a page on the official SDK alone (B24Frame) in the emulated portal page', () => {
  let emulator: Emulator;
  let browser: Browser;
  let pageServer: Server;
  let pageUrl: string;
  let outDir: string;
  let member: string;
  const clientId = 'local.sdkframe.test';
  const consoleErrors: string[] = [];

  beforeAll(async () => {
    outDir = await mkdtemp(join(tmpdir(), 'sdk-frame-'));
    await build({ root: SOURCE, configFile: false, logLevel: 'warn', base: '/', build: { outDir, emptyOutDir: true, target: 'es2022', modulePreload: false } });
    const served = await servePage(outDir);
    pageServer = served.server;
    pageUrl = `${served.url}/sdk-page/`;
    emulator = await buildEmulator({ portals: 1 });
    const control = emulatorControl(await emulator.listen());
    member = [...emulator.state.portals.keys()][0]!;
    await control('POST', '/_emulator/applications', { clientId, clientSecret: 'sdk-frame-secret', appUrl: pageUrl, scopes: ['user_basic'] });
    await control('POST', `/_emulator/portals/${member}/apps/${clientId}/install`, { mode: 'headless' });
    browser = await launchBrowser();
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await emulator?.close();
    pageServer?.close();
    if (outDir) await rm(outDir, { recursive: true, force: true });
  });

  const portal = () => emulator.state.portals.get(member)!;
  const open = async (user: number, lang: string): Promise<{ page: Page; frame: Frame }> => {
    const page = await browser.newPage();
    page.on('console', (message) => {
      if (message.type() === 'error' && message.location().url.startsWith(new URL(pageUrl).origin)) consoleErrors.push(`${message.text()} (${message.location().url})`);
    });
    page.on('pageerror', (error) => consoleErrors.push(`uncaught: ${error.message}`));
    await page.goto(`${portal().protocol}://${portal().domain}/marketplace/app/${clientId}/?user=${user}&lang=${lang}`);
    return { page, frame: await appFrame(page, pageUrl, 'body[data-state]') };
  };

  it('initializes, reads the language and auth, calls profile as the user, refreshes, resizes its frame and sets the title', async () => {
    const { page, frame } = await open(3, 'de');
    const result = JSON.parse((await frame.textContent('#result'))!);
    expect(await frame.getAttribute('body', 'data-state'), result.error).toBe('done');
    const name = await frame.evaluate(() => window.name);
    expect(name).toBe(`${portal().domain}|1|${result.init.appSid}`);

    expect(result.init).toMatchObject({ lang: 'de', isAdmin: false, placement: 'DEFAULT', auth: { member_id: member, domain: `https://${portal().domain}` } });
    // the auth the frame got is the signed-in user's, for this application
    const grant = emulator.state.grants.byAccessToken(result.init.auth.access_token);
    expect(grant).toMatchObject({ userId: 3, clientId, memberId: member });
    // REST over the SDK's frame client, as that user, before and after the SDK's refreshAuth
    expect(result.profile).toMatchObject({ ID: '3', ADMIN: false });
    expect(result.refreshed.auth.access_token).not.toBe(result.init.auth.access_token);
    expect(emulator.state.grants.byAccessToken(result.refreshed.auth.access_token)).toMatchObject({ userId: 3, clientId });
    expect(result.refreshed.profile).toMatchObject({ ID: '3' });

    // resizeWindow answers the layout's new size, and the portal page shows the frame at it
    expect(result.resized).toEqual({ width: 640, height: 777 });
    const box = await page.evaluate(() => {
      const frameElement = document.querySelector('iframe')!;
      const rect = frameElement.parentElement!.getBoundingClientRect();
      return { layout: { width: rect.width, height: rect.height }, frame: frameElement.getBoundingClientRect().height };
    });
    expect(box).toEqual({ layout: { width: 640, height: 777 }, frame: 777 });
    expect(await page.title()).toBe('Set by the SDK: a:b');
    expect(result.titled).toEqual({ title: 'Set by the SDK: a:b' });
    // a DEFAULT placement has no commands or events of its own
    expect(result.interface).toEqual({ command: [], event: [] });
    expect(consoleErrors).toEqual([]);
    await page.close();
  });

  it('a frame opened by an administrator is told so; the language follows the portal user', async () => {
    const { page, frame } = await open(1, 'ru');
    const result = JSON.parse((await frame.textContent('#result'))!);
    expect(result.init).toMatchObject({ lang: 'ru', isAdmin: true });
    expect(emulator.state.grants.byAccessToken(result.init.auth.access_token)).toMatchObject({ userId: 1 });
    expect(consoleErrors).toEqual([]);
    await page.close();
  });

  it('answers the object form and a string whose JSON holds colons; a foreign appSid, an unknown command or another origin gets nothing', async () => {
    const { page, frame } = await open(3, 'en');
    const appSid = await frame.evaluate(() => window.name.split('|')[2]!);
    // Each probe is followed by a getInitData the portal answers at once: the portal handles messages
    // in order, so by the time that answer is in, any answer to the probe would be too.
    const answers = await frame.evaluate(
      async ({ sid, portalOrigin }) => {
        const seen: string[] = [];
        const listener = (event: MessageEvent) => {
          if (event.origin === portalOrigin && typeof event.data === 'string') seen.push(event.data.split(':')[0]!);
        };
        window.addEventListener('message', listener);
        const settled = (callback: string) =>
          new Promise<void>((resolve) => {
            const check = () => (seen.includes(callback) ? resolve() : setTimeout(check, 20));
            check();
          });
        parent.postMessage(`getInitData:wrong-sid-probe:not-${sid}`, portalOrigin);
        parent.postMessage(`noSuchCommand:{"a":1}:unknown-probe:${sid}`, portalOrigin);
        parent.postMessage({ method: 'setTitle', params: { title: 'object form' }, callback: 'object-probe', appSid: sid }, portalOrigin);
        parent.postMessage(`setTitle:{"title":"x:y:z"}:colon-probe:${sid}`, portalOrigin);
        parent.postMessage(`getInitData:last:${sid}`, portalOrigin);
        await settled('last');
        window.removeEventListener('message', listener);
        return seen;
      },
      { sid: appSid, portalOrigin: `https://${portal().domain}` },
    );
    expect(answers).toEqual(['object-probe', 'colon-probe', 'last']);
    expect(await page.title()).toBe('x:y:z');

    // The same command with the right appSid from another origin (a frame of localhost, not the
    // app's 127.0.0.1) is dropped. A listener added now runs after the portal's own for the same
    // message, so once it has seen the message the portal has handled it (setTitle is synchronous).
    await page.evaluate(() => {
      const seen: string[] = [];
      Object.assign(window, { seen });
      window.addEventListener('message', (event) => seen.push(String(event.data)));
    });
    const foreignOrigin = new URL(pageUrl).origin.replace('127.0.0.1', 'localhost');
    await page.evaluate((url) => document.body.append(Object.assign(document.createElement('iframe'), { src: url })), `${foreignOrigin}/elsewhere/`);
    const foreign = await appFrame(page, foreignOrigin, 'body[data-state]');
    await foreign.evaluate(({ sid, portalOrigin }) => parent.postMessage(`setTitle:{"title":"foreign"}:foreign-probe:${sid}`, portalOrigin), { sid: appSid, portalOrigin: `https://${portal().domain}` });
    await page.waitForFunction(() => (window as unknown as { seen: string[] }).seen.some((data) => data.includes('foreign-probe')));
    expect(await page.title()).toBe('x:y:z');
    expect(consoleErrors).toEqual([]);
    await page.close();
  });
});
