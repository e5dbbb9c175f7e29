/**
 * The install an administrator sees: the portal's page for an application not yet installed
 * opens our installer in its frame; the installer proves the install and calls installFinish
 * (the SDK's, on the core's frame protocol: setInstallFinish); the portal then reloads itself
 * with install_finished=Y into the application's main page, and the app's frame logs no console error. On a cloud portal (https,
 * APPLICATION_TOKEN in the installer's POST) and on an older on-premise one (http, no
 * APPLICATION_TOKEN until the install event, handler calls without document_type and
 * auth[refresh_token]); after it, a robot is answered on each.
 */
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appFrame, launchBrowser, screenshot } from '../support/browser.ts';
import { waitFor } from '../support/process.ts';
import { startStack, type Stack } from '../support/stack.ts';

describe('installing from the portal, in a browser, on a cloud and an on-premise portal', () => {
  let stack: Stack;
  let browser: Browser;
  let onPremise: string;

  beforeAll(async () => {
    stack = await startStack({ emulator: { portals: 1, rateLimit: { drainPerSec: 20, maxBurst: 200 } }, rateLimit: { drainPerSec: 20, capacity: 150 }, logLevel: 'warn' });
    const [created] = await stack.control<Array<{ memberId: string; kind: string; clientEndpoint: string }>>('POST', '/_emulator/portals', { count: 1, kind: 'on-premise' });
    expect(created).toMatchObject({ kind: 'on-premise', clientEndpoint: expect.stringMatching(/^http:\/\//) });
    onPremise = created!.memberId;
    browser = await launchBrowser();
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await stack?.stop();
  });

  const originOf = (member: string) => {
    const portal = stack.emulator.state.portals.get(member)!;
    return `${portal.protocol}://${portal.domain}`;
  };

  it('an employee opening the app before it is installed gets the portal’s notice, and nothing is installed', async () => {
    const response = await fetch(`${originOf(stack.memberId(0))}/marketplace/app/${stack.clientId}/?user=3`);
    expect(response.status).toBe(403);
    expect(await response.text()).toContain('not fully installed');
    expect(await stack.database.db.prisma.portal.count()).toBe(0);
  });

  for (const kind of ['cloud', 'on-premise'] as const) {
    it(`${kind}: the installer installs, calls installFinish, and the frame goes on to the app by itself`, async () => {
      const member = kind === 'cloud' ? stack.memberId(0) : onPremise;
      const page = await browser.newPage({ viewport: { width: 1280, height: 720 } });
      const consoleErrors: string[] = [];
      page.on('pageerror', (error) => consoleErrors.push(`uncaught: ${error.message}`));
      page.on('console', (message) => {
        if (message.type() === 'error' && message.location().url.startsWith(stack.appUrl)) consoleErrors.push(`${message.text()} (${message.location().url})`);
      });
      await page.goto(`${originOf(member)}/marketplace/app/${stack.clientId}/?user=1`);
      // No click anywhere: the installer finishes, the portal reloads, the main page comes up.
      const frame = await appFrame(page, `${stack.appUrl}/app`);
      await frame.waitForSelector('#portal-state');
      expect((await frame.textContent('#portal-state'))?.trim()).toBe('installed');
      // applayout.js setInstallFinish: the portal page goes to itself with install_finished=Y
      expect(new URL(page.url()).searchParams.get('install_finished')).toBe('Y');
      expect(consoleErrors).toEqual([]);
      await screenshot(page, frame, `installed-${kind}`);
      await page.close();

      const installation = stack.emulator.state.portals.get(member)!.apps.get(stack.clientId)!;
      expect(installation.installFinished).toBe(true);
      // The application token reached us: on-premise only through the install event.
      await waitFor(() => stack.app.store.applicationTokenMatches(member, installation.applicationToken), 30_000, 'the application token');
      const row = await stack.database.db.prisma.portal.findUniqueOrThrow({ where: { memberId: member } });
      expect(row.clientEndpoint.startsWith(kind === 'cloud' ? 'https://' : 'http://')).toBe(true);

      const templateId = await stack.templateWith(member, [{ code: 'hash_value', name: 'Hash', properties: { value: 'abc', algorithm: 'md5' } }]);
      const workflow = await stack.runWorkflow(member, templateId);
      expect(workflow.returnValues.Hash).toEqual({ hash: '900150983cd24fb0d6963f7d28e17f72' });
      const delivery = stack.emulator.state.deliveries.filter((d) => d.memberId === member).at(-1)!;
      const sent = new Set(delivery.fields.map(([name]) => name));
      expect(sent.has('document_type[0]')).toBe(kind === 'cloud');
      expect(sent.has('auth[refresh_token]')).toBe(kind === 'cloud');
    });
  }
});
