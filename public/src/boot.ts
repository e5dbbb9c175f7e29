/**
 * Starts a page in the portal's frame: the SDK's B24Frame handshake, the user's time zone, then the Vue app
 * on Bitrix24's UI kit. The body says data-ready="1" once the first view is shown (or "error").
 */
import b24UiPlugin from '@bitrix24/b24ui-nuxt/vue-plugin';
import { createApp, type Component } from 'vue';
import './styles.css';
import { PAGE, type PageContext } from './context.ts';
import { openFrame } from './frame.ts';
import { translator } from './i18n.ts';
import { fitFrameToContent } from './portal.ts';
import { followPortalTheme } from './theme.ts';
import { portalClock } from './time.ts';

export async function boot(root: Component): Promise<void> {
  const mountPoint = document.getElementById('app')!;
  followPortalTheme();
  try {
    const frame = await openFrame();
    const t = translator(frame.lang);
    document.documentElement.lang = frame.lang;
    const me = await frame.api<{ userId: number; isAdmin: boolean; timeZone: string; timeZoneOffset: number }>('/api/me');
    const context: PageContext = {
      frame,
      t,
      clock: portalClock(frame.lang, { timeZone: me.timeZone, offsetSeconds: me.timeZoneOffset }),
      user: { id: me.userId, isAdmin: me.isAdmin },
    };
    const app = createApp(root);
    app.use(b24UiPlugin);
    app.provide(PAGE, context);
    app.mount(mountPoint);
    void fitFrameToContent();
  } catch (error) {
    const message = document.createElement('p');
    message.id = 'fatal';
    message.className = 'p-4 text-red-600';
    message.textContent = (error as Error).message;
    mountPoint.replaceChildren(message);
    document.body.dataset.ready = 'error';
  }
}

/** Marks the page ready for whoever waits on it (the portal's tests): the first view is on screen. */
export function markReady(): void {
  document.body.dataset.ready = '1';
}
