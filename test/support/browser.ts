/**
 * Debian's headless Chromium driven by playwright-core, as the stack notes say it works here:
 * no sandbox (root), no background networking (the machine's network is closed), a fresh profile.
 * It trusts the emulator's CA and nothing more: certificate errors are ignored only for chains
 * carrying the CA's key (the emulator's servers send the CA with their certificate).
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { chromium, type Browser, type Frame, type Page } from 'playwright-core';
import { spkiSha256 } from '@b24-automation/emulator';
import { ROOT } from './process.ts';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const SCREENSHOTS = `${ROOT}artifacts/screenshots`;

export async function launchBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM}: apt-get install -y chromium (or set CHROMIUM_PATH)`);
  mkdirSync(SCREENSHOTS, { recursive: true });
  const caFile = process.env.EMULATOR_CA_FILE;
  if (!caFile) throw new Error('EMULATOR_CA_FILE is not set: run the browser tests through vitest (test/support/global-setup.ts makes the CA)');
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [`--ignore-certificate-errors-spki-list=${spkiSha256(readFileSync(caFile, 'utf8'))}`, '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

/** The app's frame inside a portal page, once the app says it is ready (body[data-ready], or the `ready` selector). */
export async function appFrame(page: Page, appUrl: string, ready = 'body[data-ready]'): Promise<Frame> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const frame = page.frames().find((f) => f.url().startsWith(appUrl));
    if (frame) {
      await frame.waitForSelector(ready, { timeout: Math.max(1, deadline - Date.now()) });
      return frame;
    }
    if (Date.now() > deadline) throw new Error(`the portal page never opened ${appUrl} in its frame`);
    await page.waitForTimeout(100);
  }
}

export async function screenshot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: `${SCREENSHOTS}/${name}.png`, fullPage: true });
}
