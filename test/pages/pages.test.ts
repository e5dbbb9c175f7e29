/**
 * The app's pages in a real browser, inside the emulator's portal page (the SDK's B24Frame, the
 * frame's POSTed auth, the core's postMessage protocol, the portal's user and CRM dialogs), against the app's real
 * API and the emulator's real REST, in the portal's light and dark themes. Screenshots of every
 * page in en and ru, light and dark, go to artifacts/screenshots/. At 1280 and 1440 px wide (the
 * Market's moderation) no page scrolls sideways, the frame never scrolls inside, and none of the
 * page's own files fails to load, and the app's frame logs no console error.
 */
import type { Browser, ConsoleMessage, Frame, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { internalTypeOf } from '@b24-automation/emulator';
import { eventTokenDigest } from '../../src/portals/rest-journal.ts';
import { sequentialTemplate, writeBpt } from '@b24-automation/emulator';
import { axeViolations } from '../support/axe.ts';
import { appFrame, launchBrowser, screenshot, settleFrame } from '../support/browser.ts';
import { waitFor } from '../support/process.ts';
import { startStack, type Stack } from '../support/stack.ts';

/** The main page's tabs in order; the journal is an administrator's only. */
const TABS = ['status', 'calls', 'workflows', 'tasks', 'journal'] as const;
type Tab = (typeof TABS)[number];
type Theme = 'light' | 'dark';

describe("the app's pages in the Bitrix24 frame", () => {
  let stack: Stack;
  let browser: Browser;
  let portalA: string;
  let portalB: string;
  /** Content-Security-Policy violations any page reported: the built pages must need none. */
  const violations: string[] = [];
  const bptPath = `${process.env.TMPDIR ?? '/tmp'}/pages-test-${process.pid}.bpt`;

  const domainOf = (member: string) => stack.emulator.state.portals.get(member)!.domain;
  const originOf = (member: string) => `${stack.emulator.state.portals.get(member)!.protocol}://${domainOf(member)}`;
  // The theme: the portal page's own (?theme=) and the browser's preferred color scheme, which is
  // what the app's page can follow (the frame protocol has no theme command).
  /** Requests for the app's own files and API that failed or answered an error, on any page. */
  const ownFailures: string[] = [];
  /** Uncaught script errors on any page (the Market refuses JavaScript errors). */
  const pageErrors: string[] = [];
  /** Console errors in the app's frame (a refused storage, a failed script): there must be none. */
  const consoleErrors: string[] = [];
  /** The auth the app's frame sends to the app's API (from the portal, through the SDK), per portal page. */
  const frameAuth = new WeakMap<Page, { authorization: string; 'x-b24-member-id': string }>();
  const newPage = async (label: string, theme: Theme, viewport = { width: 1200, height: 900 }) => {
    const page = await browser.newPage({ viewport, colorScheme: theme });
    page.on('requestfailed', (request) => {
      if (request.url().startsWith(stack.appUrl)) ownFailures.push(`${label}: ${request.url()} ${request.failure()?.errorText}`);
    });
    page.on('response', (response) => {
      if (response.url().startsWith(stack.appUrl) && response.status() >= 400 && !response.url().includes('/api/')) ownFailures.push(`${label}: ${response.url()} ${response.status()}`);
    });
    page.on('pageerror', (error) => pageErrors.push(`${label}: ${error.message}`));
    page.on('console', (message: ConsoleMessage) => {
      if (/Content.Security.Policy/i.test(message.text())) violations.push(`${label}: ${message.text()}`);
      // an error the app's pages log (Vue's render errors land here, not in pageerror)
      else if (message.type() === 'error' && message.location().url.startsWith(stack.appUrl)) consoleErrors.push(`${label}: ${message.text()} (${message.location().url})`);
    });
    page.on('request', (request) => {
      const headers = request.headers();
      if (request.url().startsWith(`${stack.appUrl}/api/`) && headers.authorization) {
        frameAuth.set(page, { authorization: headers.authorization, 'x-b24-member-id': headers['x-b24-member-id'] ?? '' });
      }
    });
    return page;
  };
  const openApp = async (member: string, user: number, lang = 'en', theme: Theme = 'light', viewport?: { width: number; height: number }): Promise<{ page: Page; frame: Frame }> => {
    const page = await newPage(`${member}, user ${user}, ${lang}, ${theme}`, theme, viewport);
    await page.goto(`${originOf(member)}/marketplace/app/${stack.clientId}/?user=${user}&lang=${lang}&theme=${theme}`);
    return { page, frame: await appFrame(page, stack.appUrl) };
  };
  const openSettings = async (templateId: number, activity: string, lang = 'en', theme: Theme = 'light', viewport = { width: 900, height: 700 }) => {
    const page = await newPage(`settings ${lang} ${theme}`, theme, viewport);
    await page.goto(`${originOf(portalA)}/marketplace/robot-settings/${stack.clientId}/${templateId}/${activity}/?user=1&lang=${lang}&theme=${theme}`);
    return { page, frame: await appFrame(page, `${stack.appUrl}/placement/start_workflow`) };
  };
  // The view is switched once <main> names it; it may still be empty (and so have no box) while
  // its data loads, so "attached", not "visible". The tab is chosen from the keyboard (focus, Enter),
  // as a keyboard user does: a mouse click can land beside it while the SDK's fitWindow is still
  // resizing the frame under the pointer.
  const tab = async (frame: Frame, name: Tab) => {
    const trigger = frame.locator('#tabs [role="tab"]').nth(TABS.indexOf(name));
    await trigger.focus();
    await trigger.press('Enter');
    await frame.locator(`main[data-view="${name}"]`).waitFor({ state: 'attached' });
  };
  /** Picks in the portal's dialog (the emulator's stand-in for the user and CRM dialogs). */
  const pickInPortal = async (page: Page, ids: string[], search?: string) => {
    await page.waitForSelector('#portal-dialog[open]');
    if (search !== undefined) {
      await page.fill('#portal-dialog-search', search);
      await page.waitForFunction((count) => document.querySelectorAll('#portal-dialog-list li').length === count, 1);
    }
    if (await page.isVisible('#portal-dialog-ok')) {
      for (const id of ids) await page.check(`#portal-dialog [data-pick="${id}"]`);
      await page.click('#portal-dialog-ok');
    } else {
      await page.click(`#portal-dialog [data-pick="${ids[0]}"]`);
    }
    await page.waitForSelector('#portal-dialog:not([open])', { state: 'attached' });
  };
  const chooseOption = async (frame: Frame, trigger: string, option: string) => {
    await frame.click(trigger);
    await frame.locator('[role="option"]', { hasText: option }).first().click();
  };
  const isDark = (frame: Frame) => frame.evaluate(() => document.documentElement.classList.contains('dark'));
  /** The frame is as tall as its page (the SDK's parent.fitWindow), so only the portal page scrolls. */
  const expectNoInnerScroll = async (frame: Frame) => {
    await frame.waitForFunction(() => document.documentElement.scrollHeight <= window.innerHeight + 1, undefined, { timeout: 10_000 });
  };
  /**
   * No scroll bar sideways: neither the portal page nor the frame's document is wider than its
   * window, and no element inside scrolls sideways (a table or a code block wider than its box).
   */
  const horizontalOverflow = async (page: Page, frame: Frame) => [
    ...(await page.evaluate(() => (document.documentElement.scrollWidth > document.documentElement.clientWidth ? ['portal page'] : []))),
    ...(await frame.evaluate(() => {
      const wide: string[] = [];
      if (document.documentElement.scrollWidth > document.documentElement.clientWidth) wide.push(`document ${document.documentElement.scrollWidth} > ${document.documentElement.clientWidth}`);
      for (const element of document.querySelectorAll<HTMLElement>('body *')) {
        const style = getComputedStyle(element);
        if (['auto', 'scroll'].includes(style.overflowX) && element.scrollWidth > element.clientWidth + 1 && element.clientWidth > 0) {
          wide.push(`${element.tagName.toLowerCase()}${element.id ? `#${element.id}` : ''}.${[...element.classList].slice(0, 3).join('.')} ${element.scrollWidth} > ${element.clientWidth}`);
        }
      }
      return wide;
    })),
  ];
  const calls = () => stack.database.db.prisma.handlerCall;
  const journal = () => stack.database.db.prisma.restJournalEntry;

  beforeAll(async () => {
    stack = await startStack({ emulator: { rateLimit: { drainPerSec: 20, maxBurst: 200 } }, rateLimit: { drainPerSec: 20, capacity: 150 }, logLevel: 'warn' });
    portalA = stack.memberId(0);
    portalB = stack.memberId(1);
    await stack.install(portalA, 'headless');
    await stack.install(portalB, 'headless');
    // The .bpt an admin uploads: our robots (one fails: an algorithm the robot does not know), then an approval for the admin.
    const steps = sequentialTemplate([
      { Type: internalTypeOf(stack.clientId, 'hash_value'), Name: 'HashIt', Properties: { value: 'page test' } },
      { Type: internalTypeOf(stack.clientId, 'hash_value'), Name: 'HashBadly', Properties: { value: 'x', algorithm: 'crc32' } },
      { Type: 'ApproveActivity', Name: 'Approve', Properties: { Users: ['user_1'], Name: 'Approve the deal' } },
    ]);
    const { writeFileSync } = await import('node:fs');
    writeFileSync(bptPath, writeBpt({ TEMPLATE: steps }));
    browser = await launchBrowser();
  }, 120_000);
  afterEach(() => {
    expect(consoleErrors.splice(0)).toEqual([]);
  });
  afterAll(async () => {
    await browser?.close();
    await stack?.stop();
  });

  it('an admin sees the robots, uploads a template, runs workflows, sees calls, retries a failed one, completes and delegates tasks and terminates a workflow', async () => {
    const { page, frame } = await openApp(portalA, 1);
    expect((await frame.textContent('#portal-state'))?.trim()).toBe('installed');
    // The frame's storage is refused here (a third-party frame), as a browser may refuse it: the
    // pages work without it and log nothing about it (afterEach: no console error).
    expect(await frame.evaluate(() => {
      try {
        return typeof window.localStorage.length === 'number' ? 'allowed' : 'none';
      } catch (error) {
        return (error as Error).name;
      }
    })).toBe('SecurityError');
    const robots = await frame.$$eval('#robots [data-code]', (cards) => cards.map((c) => [c.getAttribute('data-code'), c.getAttribute('data-registered')]));
    expect(robots.map(([code]) => code).sort()).toEqual([...stack.app.catalog.keys()].sort());
    expect(robots.filter(([, state]) => state !== 'yes')).toEqual([]);
    expect(await isDark(frame)).toBe(false);
    await expectNoInnerScroll(frame);
    // The calls chart is drawn before any call, with its axes and a line saying why it is empty.
    await tab(frame, 'calls');
    await frame.waitForSelector('#chart[data-total="0"] canvas');
    expect(await frame.isVisible('#chart-empty')).toBe(true);

    await tab(frame, 'workflows');
    await frame.fill('#new-template-name', 'Deal check from the page');
    await frame.setInputFiles('#new-template input[type="file"]', bptPath);
    await frame.click('#new-template-add');
    await frame.waitForSelector('#new-template[data-added]');
    const templateId = Number(await frame.getAttribute('#new-template', 'data-added'));
    const portal = stack.emulator.state.portals.get(portalA)!;
    expect(portal.workflows.templates.get(templateId)?.ownerClientId).toBe(stack.clientId);
    const row = `[data-template="${templateId}"]`;
    await frame.waitForSelector(`${row} .owned`);
    for (const started of [1, 2]) {
      // The document comes from the portal's CRM dialog (searched), not typed as a code.
      await frame.click(`${row} .pick-document`);
      await pickInPortal(page, ['D_1'], 'Deal #1');
      await frame.waitForSelector(`${row} [data-document="DEAL_1"]`);
      await frame.click(`${row} .start`);
      await frame.waitForFunction((count) => document.querySelectorAll('#running [data-workflow]').length === count, started);
    }
    await waitFor(async () => (await calls().count({ where: { status: { in: ['answered', 'failed'] } } })) === 4, 30_000, 'four calls finished');

    await tab(frame, 'calls');
    await frame.waitForSelector('#calls [data-call]');
    expect(await frame.$$eval('#calls [data-call]', (rows) => rows.length)).toBe(4);
    await chooseOption(frame, '#filter-status', 'failed');
    await frame.click('#filter-apply');
    await frame.waitForFunction(() => {
      const rows = [...document.querySelectorAll('#calls [data-call]')];
      return rows.length > 0 && rows.every((r) => r.getAttribute('data-status') === 'failed');
    });
    expect(await frame.$$eval('#calls [data-call]', (rows) => rows.length)).toBe(2);
    const failedId = await frame.getAttribute('#calls [data-call]', 'data-call');
    await frame.click('#calls [data-call]');
    await frame.waitForSelector(`#call-detail[data-call="${failedId}"]`);
    expect(await frame.textContent('#call-error')).toContain('crc32');
    const retriedAt = new Date();
    await frame.click('#retry');
    await frame.waitForSelector('.toast-ok');
    // The robot runs again (and fails again: its settings are still wrong), with the reason recorded anew.
    const rerun = await waitFor(
      async () => {
        const call = await calls().findUniqueOrThrow({ where: { id: BigInt(failedId!) } });
        return call.finishedAt && call.finishedAt >= retriedAt && call.status !== 'running' ? call : null;
      },
      30_000,
      'the retried call ran again',
    );
    expect(rerun.status).toBe('failed');
    expect(rerun.error).toContain('crc32');
    await frame.press('#call-detail', 'Escape');

    await tab(frame, 'tasks');
    await frame.waitForSelector('[data-task]');
    expect(await frame.$$eval('[data-task]', (cards) => cards.length)).toBe(2);
    const [taskId, otherTaskId] = (await frame.$$eval('[data-task]', (cards) => cards.map((c) => Number(c.getAttribute('data-task'))))) as [number, number];
    await frame.fill(`[data-task="${taskId}"] textarea`, 'Looks right');
    await frame.click(`[data-task="${taskId}"] .task-approve`);
    const task = portal.workflows.bizprocTasks.get(taskId)!;
    await waitFor(async () => task.status === 1, 10_000, 'the task was approved');
    await waitFor(async () => portal.workflows.instances.get(task.workflowId)?.status === 'completed', 10_000, 'the approved workflow completed');
    // The other task goes to Boris, picked in the portal's user dialog.
    await frame.waitForSelector(`[data-task="${otherTaskId}"] .task-delegate`);
    await frame.click(`[data-task="${otherTaskId}"] .task-delegate`);
    await pickInPortal(page, ['2']);
    await waitFor(async () => portal.workflows.bizprocTasks.get(otherTaskId)?.userIds.includes(2) === true, 10_000, 'the task was delegated to user 2');
    await frame.waitForSelector(`[data-task="${otherTaskId}"]`, { state: 'detached' });

    await tab(frame, 'workflows');
    await frame.waitForSelector('[data-workflow]');
    const running = await frame.$$eval('[data-workflow]', (rows) => rows.map((r) => r.getAttribute('data-workflow')!));
    expect(running).toHaveLength(1);
    expect(running[0]).not.toBe(task.workflowId);
    await frame.fill(`[data-workflow="${running[0]}"] .terminate-message input, [data-workflow="${running[0]}"] input.terminate-message`, 'Stopped from the app page');
    expect(portal.workflows.instances.get(running[0]!)?.status).toBe('running');
    await frame.click(`[data-workflow="${running[0]}"] .terminate`);
    await frame.waitForSelector('[data-confirm="no"]');
    // Asked first: cancelling leaves it running; confirming terminates it.
    await frame.click('[data-confirm="no"]');
    expect(portal.workflows.instances.get(running[0]!)?.status).toBe('running');
    await frame.click(`[data-workflow="${running[0]}"] .terminate`);
    await frame.click('[data-confirm="yes"]');
    await waitFor(async () => portal.workflows.instances.get(running[0]!)?.status === 'terminated', 10_000, 'the workflow was terminated');
    await frame.waitForSelector('#no-running');
    await page.close();
  });

  it('a user who is not an admin is refused the admin actions and sees no admin controls', async () => {
    const { page, frame } = await openApp(portalA, 3);
    expect(await frame.$('#repair')).toBeNull();
    await tab(frame, 'workflows');
    await frame.waitForSelector('#workflows-refused');
    expect(await frame.textContent('#workflows-refused')).toContain('administrator');
    const failed = await calls().findFirstOrThrow({ where: { status: 'failed' } });
    // The page offers no retry to this user; the API refuses it even when asked directly with the user's frame auth.
    const headers = frameAuth.get(page)!;
    expect(headers).toMatchObject({ authorization: expect.stringMatching(/^Bearer \S+$/), 'x-b24-member-id': portalA });
    const post = (path: string) => fetch(`${stack.appUrl}${path}`, { method: 'POST', headers }).then((r) => r.status);
    const get = (path: string) => fetch(`${stack.appUrl}${path}`, { headers }).then((r) => r.status);
    expect([await post(`/api/calls/${failed.id}/retry`), await post('/api/registration/sync'), await get('/api/templates')]).toEqual([403, 403, 403]);
    // The REST journal is the administrators': no tab, nothing in a call's panel, refused when asked directly.
    expect(await frame.$$eval('#tabs [role="tab"]', (tabs) => tabs.map((t) => t.textContent?.trim()))).toEqual(['Status', 'Calls', 'Workflows', 'My tasks']);
    expect([await get('/api/journal'), await get(`/api/journal?call=${failed.id}`)]).toEqual([403, 403]);
    await tab(frame, 'calls');
    await frame.click('#calls [data-call][data-status="failed"]');
    await frame.waitForSelector('#call-detail');
    expect(await frame.$('#retry')).toBeNull();
    expect(await frame.$('#call-journal')).toBeNull();
    await page.close();
  });

  it("auth the portal said has run out is renewed through the portal (the SDK's refreshAuth) before the page's next request", async () => {
    // This page's auth lives two seconds (AUTH_EXPIRES); what the portal mints on refresh, an hour.
    await stack.control('PUT', '/_emulator/config', { accessTokenTtlSec: 2 });
    const { page, frame } = await openApp(portalA, 1).finally(() => stack.control('PUT', '/_emulator/config', { accessTokenTtlSec: 3600 }));
    const first = frameAuth.get(page)!.authorization;
    // the SDK counts AUTH_EXPIRES from when it got the init data, before the page said it was ready
    const ready = Date.now();
    await frame.waitForFunction((at) => Date.now() > at, ready + 2100);
    await tab(frame, 'calls');
    const asked = page.waitForResponse((response) => response.url().startsWith(`${stack.appUrl}/api/calls?`));
    await frame.click('#filter-apply');
    expect((await asked).status()).toBe(200);
    const renewed = frameAuth.get(page)!.authorization;
    expect(renewed).not.toBe(first);
    const grant = stack.emulator.state.grants.byAccessToken(renewed.slice('Bearer '.length));
    expect(grant).toMatchObject({ userId: 1, memberId: portalA, clientId: stack.clientId });
    expect(grant!.accessExpiresAt).toBeGreaterThan(Date.now() + 60_000);
    // On a slow run a request can leave while the SDK still counts the auth as valid but after the
    // portal's own clock ran out: it is refused (401, which the browser logs) and renewed the same
    // way. Those refusals are this test's subject; any other console error still fails it.
    consoleErrors.splice(0, consoleErrors.length, ...consoleErrors.filter((line) => !/status of 401 \(Unauthorized\)/.test(line)));
    await page.close();
  });

  it('opened outside a portal (no frame around it), the page says to open it from the portal', async () => {
    const page = await newPage('outside a portal', 'light');
    await page.goto(`${stack.appUrl}/app`);
    await page.waitForSelector('body[data-ready="error"]');
    expect((await page.textContent('#fatal'))?.trim()).toBe('Open this page from your Bitrix24 portal.');
    await page.close();
  });

  it("portal B's admin sees none of portal A's calls", async () => {
    const { page, frame } = await openApp(portalB, 1);
    await tab(frame, 'calls');
    await frame.waitForSelector('#calls[data-loaded]');
    expect(await frame.$$eval('#calls [data-call]', (rows) => rows.length)).toBe(0);
    expect(await calls().count({ where: { portal: { memberId: portalA } } })).toBeGreaterThan(0);
    await screenshot(page, frame, 'calls-portal-b-en-light');
    await page.close();
  });

  it("an admin reads the REST journal: a call's requests and answering batches in its side panel, the portal's requests filtered and paged", async () => {
    const answered = await calls().findFirstOrThrow({ where: { portal: { memberId: portalA }, status: 'answered' }, orderBy: { id: 'asc' } });
    const forCall = { memberId: portalA, OR: [{ callId: answered.id }, { answersFor: { has: eventTokenDigest(answered.eventToken) } }] };
    // journal lines are written a second after their request: wait until the answer's batch is there
    await waitFor(async () => (await journal().count({ where: forCall })) > 0, 10_000, "the answered call's journal lines");
    const expected = await journal().findMany({ where: forCall, orderBy: { id: 'asc' }, select: { id: true, method: true } });

    const { page, frame } = await openApp(portalA, 1);
    await tab(frame, 'calls');
    await frame.click(`#calls [data-call="${answered.id}"]`);
    await frame.waitForSelector(`#call-detail[data-call="${answered.id}"] #call-journal[data-loaded]`);
    const shown = await frame.$$eval('#call-journal [data-journal]', (lines) => lines.map((l) => ({ id: l.getAttribute('data-journal'), method: l.getAttribute('data-method') })));
    expect(shown).toEqual(expected.map((line) => ({ id: line.id.toString(), method: line.method })));
    expect(shown.some((line) => line.method === 'batch')).toBe(true);
    // a line opens in full: its parameters, redacted
    await frame.click(`#call-journal [data-journal="${shown[0]!.id}"] .journal-toggle`);
    const params = await frame.textContent(`#call-journal [data-journal="${shown[0]!.id}"] .journal-params`);
    expect(params).toContain('[redacted]');
    expect(params).toMatch(/bizproc\.(event\.send|activity\.log)/);
    await frame.press('#call-detail', 'Escape');

    await tab(frame, 'journal');
    await frame.waitForSelector('#journal[data-loaded]');
    const newest = await journal().findMany({ where: { memberId: portalA }, orderBy: { id: 'desc' }, take: 100, select: { id: true } });
    expect(newest.length).toBeGreaterThan(50);
    const rowIds = () => frame.$$eval('#journal [data-journal]', (rows) => rows.map((r) => r.getAttribute('data-journal')!));
    const firstPage = await rowIds();
    // newest first, 50 a page; the lines written while the page loaded may come first
    expect(firstPage).toHaveLength(50);
    expect(firstPage.map(BigInt)).toEqual([...firstPage.map(BigInt)].sort((a, b) => (a > b ? -1 : a < b ? 1 : 0)));
    await frame.click('#journal-more');
    await frame.waitForFunction(() => document.querySelectorAll('#journal [data-journal]').length > 50);
    const twoPages = await rowIds();
    expect(new Set(twoPages).size).toBe(twoPages.length);
    expect(twoPages.slice(0, 50)).toEqual(firstPage);
    const before = BigInt(firstPage[49]!);
    const secondExpected = await journal().findMany({ where: { memberId: portalA, id: { lt: before } }, orderBy: { id: 'desc' }, take: 50, select: { id: true } });
    expect(twoPages.slice(50)).toEqual(secondExpected.map((line) => line.id.toString()));

    // filters: a method, then a status
    await frame.fill('#journal-method', 'batch');
    await frame.click('#journal-apply');
    await frame.waitForFunction(() => {
      const rows = [...document.querySelectorAll('#journal [data-journal]')];
      return document.querySelector('#journal[data-loaded]') && rows.length > 0 && rows.every((r) => r.getAttribute('data-method') === 'batch');
    });
    const batches = await journal().count({ where: { memberId: portalA, method: 'batch' } });
    expect(await frame.$$eval('#journal [data-journal]', (rows) => rows.length)).toBe(Math.min(50, batches));
    await frame.fill('#journal-method', '');
    await chooseOption(frame, '#journal-status', '200');
    await frame.click('#journal-apply');
    await frame.waitForFunction(() => {
      const rows = [...document.querySelectorAll('#journal [data-journal]')];
      return rows.length > 0 && rows.every((r) => r.getAttribute('data-status') === '200') && rows.some((r) => r.getAttribute('data-method') !== 'batch');
    });
    // a row opens its parameters and the portal's answer
    const first = await frame.getAttribute('#journal [data-journal]', 'data-journal');
    await frame.click(`#journal [data-journal="${first}"]`);
    await frame.waitForSelector(`#journal .journal-payload[data-line="${first}"] .journal-answer`);
    await page.close();
  });

  it('has no scroll bar at 1280 and 1440 px wide on any page, and every file of its own loads', async () => {
    const settingsTemplate = await stack.templateWith(portalA, [{ code: 'start_workflow', name: 'WideStart', properties: { template_id: '' } }]);
    for (const width of [1280, 1440]) {
      const viewport = { width, height: 720 };
      const { page, frame } = await openApp(portalA, 1, 'en', 'light', viewport);
      const views: Array<[string, () => Promise<unknown>]> = [
        ['status', async () => undefined],
        ['calls', async () => (await tab(frame, 'calls'), await frame.waitForSelector('#chart[data-total] canvas'), frame.waitForSelector('#calls [data-call]'))],
        ['call panel', async () => (await frame.click('#calls [data-call][data-status="failed"]'), frame.waitForSelector('#call-detail #call-journal[data-loaded]'))],
        ['workflows', async () => (await frame.press('#call-detail', 'Escape'), await tab(frame, 'workflows'), frame.waitForSelector('[data-template]'))],
        ['tasks', async () => (await tab(frame, 'tasks'), frame.waitForSelector('#tasks[data-loaded]', { state: 'attached' }))],
        ['journal', async () => (await tab(frame, 'journal'), frame.waitForSelector('#journal [data-journal]'))],
        ['journal line', async () => (await frame.click('#journal [data-method="batch"]'), frame.waitForSelector('#journal .journal-payload'))],
      ];
      for (const [name, show] of views) {
        await show();
        expect(await horizontalOverflow(page, frame), `${name} at ${width} px`).toEqual([]);
        if (name !== 'call panel') await expectNoInnerScroll(frame);
      }
      await page.close();
      const settings = await openSettings(settingsTemplate, 'WideStart', 'en', 'light', viewport);
      expect(await horizontalOverflow(settings.page, settings.frame), `robot settings at ${width} px`).toEqual([]);
      await expectNoInnerScroll(settings.frame);
      await settings.page.close();
    }
    expect(ownFailures).toEqual([]);
    expect(pageErrors).toEqual([]);
  });

  it("a robot's settings: the template from the portal's list, its parameters as a form, users and the document from the portal's dialogs, saved into the template", async () => {
    // A template of this document type with parameters of its own: a required user, several users, a text.
    const parameters = {
      Approver: { Name: 'Approver', Type: 'user', Required: 1, Multiple: 0 },
      Watchers: { Name: 'Watchers', Type: 'user', Required: 0, Multiple: 1 },
      Reason: { Name: 'Reason', Type: 'string', Required: 0, Multiple: 0 },
    };
    const bpt = writeBpt({ TEMPLATE: sequentialTemplate([]), PARAMETERS: parameters }).toString('base64');
    const { id: target } = await stack.control<{ id: number }>('POST', `/_emulator/portals/${portalA}/templates`, { bpt, name: 'Approval with parameters' });
    const templateId = await stack.templateWith(portalA, [{ code: 'start_workflow', name: 'StartOther', properties: { template_id: '' } }]);

    const { page, frame } = await openSettings(templateId, 'StartOther');
    expect(await frame.getAttribute('#prop-template_id', 'data-value')).toBe('');
    // The robot settings frame's own interface, as a frame asks for it (getInterface): setPropertyValue.
    const ownInterface = await frame.evaluate(
      (portalOrigin) =>
        new Promise((resolve) => {
          addEventListener('message', (event) => {
            if (event.origin === portalOrigin && String(event.data).startsWith('own-interface:')) resolve(JSON.parse(String(event.data).slice('own-interface:'.length)));
          });
          parent.postMessage(`getInterface:own-interface:${window.name.split('|')[2]}`, portalOrigin);
        }),
      originOf(portalA),
    );
    expect(ownInterface).toEqual({ command: ['setPropertyValue'], event: [] });
    // Nothing chosen: the required template is refused before anything is saved, said beside the
    // field, and the control is marked invalid and described by that message.
    await frame.click('#settings-save');
    await frame.waitForSelector('.toast-refused');
    const fieldMessage = async (control: string) => {
      const element = frame.locator(control);
      await frame.waitForSelector(`${control}[aria-invalid="true"]`);
      const ids = (await element.getAttribute('aria-describedby'))!.split(' ');
      return (await Promise.all(ids.map((id) => frame.locator(`[id="${id}"]`).innerText()))).join(' ');
    };
    expect(await fieldMessage('#prop-template_id button')).toContain('Choose the template the robot starts.');
    await chooseOption(frame, '#prop-template_id button', 'Approval with parameters');
    await frame.waitForSelector(`#prop-template_id[data-value="${target}"]`);
    await frame.waitForSelector('[data-parameter="Approver"]');
    // The template's required user is still empty: refused again, beside that parameter.
    await frame.click('#settings-save');
    await frame.waitForFunction(() => document.querySelectorAll('.toast-refused').length >= 1);
    expect(await fieldMessage('[data-parameter="Approver"] .pick-user')).toContain('The template needs this value.');
    const node = () => stack.emulator.state.portals.get(portalA)!.workflows.templates.get(templateId)!.template[0]!.Children[0]!;
    expect(node().Properties.template_id).toBe('');

    await frame.click('[data-parameter="Approver"] .pick-user');
    await pickInPortal(page, ['3']);
    await frame.waitForSelector('[data-parameter="Approver"] [data-users="3"]');
    await frame.click('[data-parameter="Watchers"] .pick-user');
    await pickInPortal(page, ['2', '4']);
    await frame.waitForSelector('[data-parameter="Watchers"] [data-users="2,4"]');
    await frame.fill('[data-parameter="Reason"] input', 'Because');
    await frame.click('#prop-document_id .pick-document');
    await pickInPortal(page, ['D_3'], 'Deal #3');
    await frame.waitForSelector('#prop-document_id [data-document="DEAL_3"]');
    await frame.click('#settings-save');
    await frame.waitForSelector('.toast-ok');
    expect(node().Properties).toMatchObject({ template_id: String(target), document_id: 'DEAL_3', parameters: 'Approver=user_3\nWatchers=user_2\nWatchers=user_4\nReason=Because' });
    await page.close();

    // Opened again, the saved values come back: the template, its users and the document, the
    // document by its title on the portal (a deal renamed meanwhile shows its new name).
    stack.emulator.state.portals.get(portalA)!.documents.get('DEAL_3')!.fields.TITLE = 'Signed with Northwind';
    const again = await openSettings(templateId, 'StartOther');
    await again.frame.waitForSelector(`#prop-template_id[data-value="${target}"]`);
    await again.frame.waitForSelector('[data-parameter="Watchers"] [data-users="2,4"]');
    expect(await again.frame.inputValue('[data-parameter="Reason"] input')).toBe('Because');
    // names, not codes: the robot's name as title, the users and the document by name
    expect((await again.frame.textContent('#title'))?.trim()).toBe('Start a workflow');
    expect(await again.frame.textContent('[data-parameter="Watchers"]')).not.toMatch(/user_\d/);
    await again.frame.waitForSelector('#prop-document_id :text("Signed with Northwind")');
    expect(await again.frame.textContent('#prop-document_id')).not.toContain('DEAL_3');
    expect(await again.frame.textContent('#settings')).not.toMatch(/Template ID|DEAL_15|module\|entity/);
    await again.page.close();

    // A template saved before that the portal no longer has is said beside the field.
    const gone = await stack.templateWith(portalA, [{ code: 'start_workflow', name: 'StartGone', properties: { template_id: '987654' } }]);
    const stale = await openSettings(gone, 'StartGone');
    await stale.frame.waitForSelector('#prop-template_id button[aria-invalid="true"]');
    expect(await stale.frame.textContent('#settings')).toContain('The template chosen before is no longer on the portal');
    await stale.page.close();
  });

  it('follows the portal language (en, ru, de) and theme (light, dark); every view passes axe (WCAG 2 A, AA) and has a screenshot that shows it, and the frame never scrolls inside', async () => {
    const titles = { en: 'Automation robots', ru: 'Роботы автоматизации', de: 'Automatisierungsroboter' } as const;
    // the settings page with everything chosen: a template with parameters, a user among them, a document
    const bpt = writeBpt({ TEMPLATE: sequentialTemplate([]), PARAMETERS: { Approver: { Name: 'Approver', Type: 'user', Required: 1, Multiple: 0 }, Reason: { Name: 'Reason', Type: 'string', Required: 0, Multiple: 0 } } }).toString('base64');
    const { id: target } = await stack.control<{ id: number }>('POST', `/_emulator/portals/${portalA}/templates`, { bpt, name: 'Follow-up with a reason' });
    const settingsTemplate = await stack.templateWith(portalA, [
      { code: 'start_workflow', name: 'ShotStart', properties: { template_id: String(target), document_id: 'DEAL_1', parameters: 'Approver=user_3\nReason=Because' } },
    ]);
    const consoleErrorsBefore = consoleErrors.length;
    /** Serious and critical axe violations on any view, in every language and theme. */
    const inaccessible: string[] = [];
    const views: string[] = [];
    for (const lang of ['en', 'ru', 'de'] as const) {
      for (const theme of ['light', 'dark'] as const) {
        if (lang === 'de' && theme === 'dark') continue;
        // de is checked for its texts only; en and ru for everything
        const check = async (page: Page, frame: Frame, view: string) => {
          await expectNoInnerScroll(frame);
          if (lang === 'de') return;
          await settleFrame(frame);
          inaccessible.push(...(await axeViolations(frame, `${view} ${lang} ${theme}`)));
          await screenshot(page, frame, `${view}-${lang}-${theme}`);
          views.push(`${view}-${lang}-${theme}`);
        };
        const { page, frame } = await openApp(portalA, 1, lang, theme);
        expect((await frame.textContent('#title'))?.trim()).toBe(titles[lang]);
        expect(await isDark(frame)).toBe(theme === 'dark');
        await frame.waitForSelector('#robots [data-code]');
        await check(page, frame, 'status');
        await tab(frame, 'calls');
        await frame.waitForSelector('#chart[data-total] canvas');
        await frame.waitForSelector('#calls [data-call]');
        await check(page, frame, 'calls');
        await frame.click('#calls [data-call][data-status="failed"]');
        await frame.waitForSelector('#call-detail #call-error');
        await frame.waitForSelector('#call-detail #call-journal[data-loaded]');
        if (lang !== 'de') {
          await settleFrame(frame);
          inaccessible.push(...(await axeViolations(frame, `call-detail ${lang} ${theme}`)));
          await screenshot(page, frame, `call-detail-${lang}-${theme}`);
        }
        await frame.press('#call-detail', 'Escape');
        await frame.waitForSelector('#call-detail', { state: 'detached' });
        await tab(frame, 'workflows');
        await frame.waitForSelector('[data-template]');
        await frame.waitForSelector('#running[data-loaded]', { state: 'attached' });
        await check(page, frame, 'workflows');
        await tab(frame, 'tasks');
        await frame.waitForSelector('#tasks[data-loaded]', { state: 'attached' });
        await check(page, frame, 'tasks');
        await tab(frame, 'journal');
        await frame.waitForSelector('#journal [data-journal]');
        await frame.click('#journal [data-method="batch"]');
        await frame.waitForSelector('#journal .journal-payload');
        await check(page, frame, 'journal');
        await page.close();

        const settings = await openSettings(settingsTemplate, 'ShotStart', lang, theme);
        expect(await isDark(settings.frame)).toBe(theme === 'dark');
        await settings.frame.waitForSelector('[data-parameter="Approver"] [data-users="3"]');
        await check(settings.page, settings.frame, 'robot-settings');
        await settings.page.close();
      }
    }
    expect(views).toHaveLength(6 * 4);
    expect(inaccessible, inaccessible.join('\n')).toEqual([]);
    expect(violations).toEqual([]);
    expect(ownFailures).toEqual([]);
    expect(pageErrors).toEqual([]);
    expect(consoleErrors.slice(consoleErrorsBefore)).toEqual([]);
  }, 300_000);
});
