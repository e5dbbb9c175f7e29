/**
 * A page that knows nothing of Bitrix24 but the official SDK's B24Frame: what it learns and what
 * its calls answer goes into #result (JSON) for the test to read, body[data-state] says how far it
 * got. Bundled by vite, as the app's pages are (test/pages/sdk-frame.test.ts).
 */
import { initializeB24Frame } from '@bitrix24/b24jssdk';

const result: Record<string, unknown> = {};
const show = (state: string) => {
  document.getElementById('result')!.textContent = JSON.stringify(result);
  document.body.dataset.state = state;
};

try {
  const b24 = await initializeB24Frame();
  const first = b24.auth.getAuthData();
  result.init = { lang: b24.getLang(), appSid: b24.getAppSid(), isAdmin: b24.auth.isAdmin, placement: b24.placement.placement, options: b24.placement.options, auth: first };
  const profile = await b24.actions.v2.call.make<Record<string, unknown>>({ method: 'profile' });
  result.profile = profile.getData()?.result;
  const refreshed = await b24.auth.refreshAuth();
  const again = await b24.actions.v2.call.make<Record<string, unknown>>({ method: 'profile' });
  result.refreshed = { auth: refreshed, profile: again.getData()?.result };
  result.resized = await b24.parent.resizeWindow(640, 777);
  result.titled = await b24.parent.setTitle('Set by the SDK: a:b');
  result.interface = await b24.placement.getInterface();
  show('done');
} catch (error) {
  result.error = String(error);
  show('error');
}
