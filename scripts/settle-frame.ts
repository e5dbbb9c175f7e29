/** Waiting for the app's frame in the portal page to settle before it is captured (tests and `npm run screenshots`). */
import type { Frame } from 'playwright-core';

/**
 * The app's frame once it has settled, as a person sees it: data shown (body[data-ready]), fonts
 * loaded, no transition running, and the portal page's iframe as tall as the frame's page and no
 * longer changing height (BX24.fitWindow is done), measured over successive animation frames.
 */
export async function settleFrame(frame: Frame): Promise<void> {
  await frame.waitForSelector('body[data-ready]');
  await frame.evaluate(() => document.fonts.ready.then(() => undefined));
  await frame.waitForFunction(() => document.getAnimations().every((animation) => animation.playState !== 'running'), undefined, { timeout: 10_000 });
  const iframe = await frame.frameElement();
  const deadline = Date.now() + 10_000;
  let last = -1;
  let steady = 0;
  while (steady < 3) {
    if (Date.now() > deadline) throw new Error(`the frame did not settle: ${last}px, still changing`);
    // two animation frames in the app's page: a size it asked for has reached the portal page by then
    const content = await frame.evaluate(() => new Promise<number>((resolve) => requestAnimationFrame(() => requestAnimationFrame(() => resolve(document.documentElement.scrollHeight)))));
    const box = (await iframe.boundingBox())?.height ?? 0;
    const height = box >= content - 1 ? box : -1;
    steady = height > 0 && height === last ? steady + 1 : 0;
    last = height;
  }
}
