/**
 * The install page's one job in the portal's frame: once the install is proven (body
 * data-finish="true"), tell the portal the installer is done (the SDK's installFinish). Until
 * then the portal delivers no events to the app; after it, the portal opens the application.
 */
import { initializeB24Frame } from '@bitrix24/b24jssdk';

if (document.body.dataset.finish === 'true') {
  initializeB24Frame()
    .then((b24) => b24.installFinish())
    .catch(() => {
      // not in a portal's installer frame (opened directly, or already installed): nothing to finish
      document.body.dataset.finish = 'not-in-installer';
    });
}
