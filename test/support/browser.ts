/**
 * Debian's headless Chromium driven by playwright-core, as the stack notes say it works here:
 * no sandbox (root), no background networking (the machine's network is closed), a fresh profile.
 * It trusts the emulator's CA and nothing more: certificate errors are ignored only for chains
 * carrying the CA's key (the emulator's servers send the CA with their certificate).
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { chromium, type Browser, type Frame, type Page } from 'playwright-core';
import { settleFrame } from '../../scripts/settle-frame.ts';
import { spkiSha256 } from '@b24-automation/emulator';
import { ROOT } from './process.ts';

export { settleFrame };

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

/** What a capture shows of the app's frame, found in its pixels and in the frame's layout. */
export interface Capture {
  path: string;
  /** the frame's box in the capture */
  frame: { top: number; height: number };
  /** the bottom of the frame's lowest visible text or control, from the capture's top */
  contentBottom: number;
  /** the lowest pixel row inside the frame that is not one flat colour */
  lowestPainted: number;
  /** the longest run of flat rows between the frame's top and its content's bottom */
  longestFlatRun: number;
}

/**
 * A capture of the whole portal page with the app's frame in it, taken once the frame has
 * settled. It throws when the capture does not show the page: its title missing, or the frame's
 * lower part flat (painted before the frame had grown or the view had drawn).
 */
export async function screenshot(page: Page, frame: Frame, name: string): Promise<Capture> {
  await page.evaluate(() => window.scrollTo(0, 0));
  await settleFrame(frame);
  // Chromium's full-page capture leaves a frame of another origin blank below the window: the
  // window grows to the whole page instead, and the capture is of the window
  const viewport = page.viewportSize()!;
  const whole = await page.evaluate(() => document.documentElement.scrollHeight);
  if (whole > viewport.height) {
    await page.setViewportSize({ width: viewport.width, height: whole });
    await settleFrame(frame);
  }
  try {
    return await capture(page, frame, name);
  } finally {
    if (whole > viewport.height) await page.setViewportSize(viewport);
  }
}

async function capture(page: Page, frame: Frame, name: string): Promise<Capture> {
  const title = frame.locator('#title');
  if (!(await title.isVisible()) || !(await title.innerText()).trim()) throw new Error(`${name}: the page's title is not shown`);
  const box = (await (await frame.frameElement()).boundingBox())!;
  const contentBottom = await frame.evaluate(() => {
    let bottom = 0;
    for (const element of document.body.querySelectorAll<HTMLElement>('*')) {
      const rect = element.getBoundingClientRect();
      if (rect.height === 0 || rect.width === 0 || getComputedStyle(element).visibility === 'hidden') continue;
      const ownText = [...element.childNodes].some((node) => node.nodeType === Node.TEXT_NODE && node.textContent!.trim());
      if (ownText || ['INPUT', 'BUTTON', 'CANVAS', 'TEXTAREA', 'SELECT'].includes(element.tagName)) bottom = Math.max(bottom, Math.min(rect.bottom, window.innerHeight));
    }
    return bottom;
  });
  const path = `${SCREENSHOTS}/${name}.png`;
  const png = await page.screenshot({ path });
  const flat = await flatRows(page, png, Math.round(box.x), Math.round(box.x + box.width));
  const top = Math.round(box.y);
  const bottom = Math.min(flat.length, Math.round(box.y + box.height));
  let lowestPainted = -1;
  let longestFlatRun = 0;
  let run = 0;
  for (let row = top; row < bottom; row += 1) {
    if (!flat[row]) lowestPainted = row;
    if (row < top + contentBottom) {
      run = flat[row] ? run + 1 : 0;
      longestFlatRun = Math.max(longestFlatRun, run);
    }
  }
  const shown = { path, frame: { top, height: Math.round(box.height) }, contentBottom: top + Math.round(contentBottom), lowestPainted, longestFlatRun };
  // the lowest text or control must be painted, and no half of the content's height is flat
  if (lowestPainted < shown.contentBottom - 48 || longestFlatRun > contentBottom / 2) {
    throw new Error(`${name}: the capture does not show the whole page (${JSON.stringify(shown)})`);
  }
  return shown;
}

/** Per pixel row of a PNG, between columns x0 and x1: true where the row is one colour (within a small tolerance). */
async function flatRows(page: Page, png: Buffer, x0: number, x1: number): Promise<boolean[]> {
  // a blank page of its own: no Content-Security-Policy of the portal stops it decoding a data: image
  const scratch = await page.context().browser()!.newPage();
  try {
    return await scratch.evaluate(
      async ({ data, x0, x1 }) => {
        const image = new Image();
        image.src = `data:image/png;base64,${data}`;
        await image.decode();
        const canvas = new OffscreenCanvas(image.width, image.height);
        const context = canvas.getContext('2d')!;
        context.drawImage(image, 0, 0);
        const left = Math.max(0, x0);
        const width = Math.max(1, Math.min(image.width, x1) - left);
        const pixels = context.getImageData(left, 0, width, image.height).data;
        const rows: boolean[] = [];
        for (let y = 0; y < image.height; y += 1) {
          const at = y * width * 4;
          let flat = true;
          for (let x = 1; x < width && flat; x += 1) {
            for (let c = 0; c < 3; c += 1) if (Math.abs(pixels[at + x * 4 + c]! - pixels[at + c]!) > 12) flat = false;
          }
          rows.push(flat);
        }
        return rows;
      },
      { data: png.toString('base64'), x0, x1 },
    );
  } finally {
    await scratch.close();
  }
}
