/**
 * The app's pages in a real browser, inside the emulator's portal page (the BX24 library, the
 * frame's POSTed auth, postMessage), against the app's real API and the emulator's real REST.
 * Screenshots of each page go to artifacts/screenshots/.
 */
/// <reference path="../../public/src/bx24.d.ts" />
import type { Browser, Frame, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { internalTypeOf } from '../../src/emulator/methods/robots.ts';
import { sequentialTemplate, writeBpt } from '../../src/emulator/workflow/bpt.ts';
import { appFrame, launchBrowser, screenshot } from '../support/browser.ts';
import { waitFor } from '../support/process.ts';
import { startStack, type Stack } from '../support/stack.ts';

describe("the app's pages in the Bitrix24 frame", () => {
  let stack: Stack;
  let browser: Browser;
  let portalA: string;
  let portalB: string;
  const bptPath = `${process.env.TMPDIR ?? '/tmp'}/pages-test-${process.pid}.bpt`;

  const domainOf = (member: string) => stack.emulator.state.portals.get(member)!.domain;
  const originOf = (member: string) => `https://${domainOf(member)}`;
  const openApp = async (member: string, user: number, lang = 'en'): Promise<{ page: Page; frame: Frame }> => {
    const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    page.on('pageerror', (error) => console.log(`page error (${member}, user ${user}): ${error.message}`));
    await page.goto(`${originOf(member)}/marketplace/app/${stack.clientId}/?user=${user}&lang=${lang}`);
    return { page, frame: await appFrame(page, stack.appUrl) };
  };
  const tab = async (frame: Frame, name: string) => {
    await frame.click(`nav button[data-tab="${name}"]`);
    await frame.waitForSelector(`main[data-view="${name}"]`);
  };
  const calls = () => stack.database.db.prisma.handlerCall;

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
  afterAll(async () => {
    await browser?.close();
    await stack?.stop();
  });

  it('an admin sees the robots, uploads a template, runs workflows, sees calls, retries a failed one, completes a task and terminates a workflow', async () => {
    const { page, frame } = await openApp(portalA, 1);
    expect(await frame.textContent('#portal-state')).toBe('installed');
    const robots = await frame.$$eval('#robots tr', (rows) => rows.map((r) => [r.getAttribute('data-code'), r.lastElementChild!.textContent]));
    expect(robots.map(([code]) => code).sort()).toEqual([...stack.app.catalog.keys()].sort());
    expect(robots.every(([, state]) => state === 'registered')).toBe(true);
    await frame.waitForSelector('#chart svg');
    await screenshot(page, 'status-admin-en');

    await tab(frame, 'workflows');
    await frame.fill('#new-template-name', 'Deal check from the page');
    await frame.setInputFiles('#new-template-file', bptPath);
    await frame.click('#new-template-add');
    await frame.waitForSelector('#new-template-note.ok');
    const templateId = Number(/#(\d+)/.exec((await frame.textContent('#new-template-note'))!)![1]);
    const portal = stack.emulator.state.portals.get(portalA)!;
    expect(portal.workflows.templates.get(templateId)?.ownerClientId).toBe(stack.clientId);
    const row = `tr[data-template="${templateId}"]`;
    await frame.waitForSelector(`${row} .badge`);
    for (const _ of [1, 2]) {
      await frame.fill(`${row} .document-id`, 'DEAL_1');
      await frame.click(`${row} .start`);
      await frame.waitForSelector(`${row} .note.ok`);
      await frame.evaluate((selector) => (document.querySelector(`${selector} .note`)!.className = 'note'), row);
    }
    await waitFor(async () => (await calls().count({ where: { status: { in: ['answered', 'failed'] } } })) === 4, 30_000, 'four calls finished');
    await screenshot(page, 'workflows-admin-en');

    await tab(frame, 'calls');
    await frame.waitForSelector('#calls tr[data-call]');
    expect(await frame.$$eval('#calls tr[data-call]', (rows) => rows.length)).toBe(4);
    await frame.selectOption('#filter-status', 'failed');
    await frame.click('#filter-apply');
    await frame.waitForFunction(() => [...document.querySelectorAll('#calls tr[data-call]')].every((r) => r.getAttribute('data-status') === 'failed'));
    expect(await frame.$$eval('#calls tr[data-call]', (rows) => rows.length)).toBe(2);
    await frame.click('#calls tr[data-call]');
    expect(await frame.textContent('#call-error')).toContain('crc32');
    const failedId = await frame.getAttribute('#calls tr[data-call]', 'data-call');
    await screenshot(page, 'calls-detail-admin-en');
    const retriedAt = new Date();
    await frame.click('#retry');
    await frame.waitForSelector('#call-detail .note.ok');
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

    await tab(frame, 'tasks');
    await frame.waitForSelector('.card[data-task]');
    expect(await frame.$$eval('.card[data-task]', (cards) => cards.length)).toBe(2);
    await screenshot(page, 'tasks-admin-en');
    const taskId = Number(await frame.getAttribute('.card[data-task]', 'data-task'));
    await frame.fill(`.card[data-task="${taskId}"] .task-comment`, 'Looks right');
    await frame.click(`.card[data-task="${taskId}"] .task-approve`);
    await frame.waitForSelector(`.card[data-task="${taskId}"] .note.ok`);
    const task = portal.workflows.bizprocTasks.get(taskId)!;
    expect(task.status).toBe(1);
    await waitFor(async () => portal.workflows.instances.get(task.workflowId)?.status === 'completed', 10_000, 'the approved workflow completed');

    await tab(frame, 'workflows');
    await frame.waitForSelector('tr[data-workflow]');
    const running = await frame.$$eval('tr[data-workflow]', (rows) => rows.map((r) => r.getAttribute('data-workflow')!));
    expect(running).toHaveLength(1);
    expect(running[0]).not.toBe(task.workflowId);
    await frame.fill(`tr[data-workflow="${running[0]}"] .terminate-message`, 'Stopped from the app page');
    await frame.click(`tr[data-workflow="${running[0]}"] .terminate`);
    await frame.waitForSelector(`tr[data-workflow="${running[0]}"] .note.ok`);
    expect(portal.workflows.instances.get(running[0]!)?.status).toBe('terminated');
    await frame.waitForSelector('#running td.muted');
    await screenshot(page, 'workflows-after-admin-en');
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
    const statuses = await frame.evaluate(async (id) => {
      const auth = window.BX24!.getAuth() as { access_token: string; member_id: string };
      const headers = { authorization: `Bearer ${auth.access_token}`, 'x-b24-member-id': auth.member_id };
      const post = (path: string) => fetch(path, { method: 'POST', headers }).then((r) => r.status);
      return [await post(`/api/calls/${id}/retry`), await post('/api/registration/sync'), await fetch('/api/templates', { headers }).then((r) => r.status)];
    }, failed.id.toString());
    expect(statuses).toEqual([403, 403, 403]);
    await screenshot(page, 'workflows-non-admin-en');
    await page.close();
  });

  it("portal B's admin sees none of portal A's calls", async () => {
    const { page, frame } = await openApp(portalB, 1);
    await tab(frame, 'calls');
    await frame.waitForSelector('#calls td.muted:not(:empty)');
    await frame.waitForFunction(() => !document.querySelector('#calls')!.textContent!.includes('…'));
    expect(await frame.$$eval('#calls tr[data-call]', (rows) => rows.length)).toBe(0);
    expect(await calls().count({ where: { portal: { memberId: portalA } } })).toBeGreaterThan(0);
    await screenshot(page, 'calls-portal-b-en');
    await page.close();
  });

  it('follows the portal language: Russian and German', async () => {
    for (const [lang, title] of [
      ['ru', 'Роботы автоматизации'],
      ['de', 'Automatisierungsroboter'],
    ] as const) {
      const { page, frame } = await openApp(portalA, 1, lang);
      expect(await frame.textContent('#title')).toBe(title);
      await screenshot(page, `status-admin-${lang}`);
      await tab(frame, 'calls');
      await frame.waitForSelector('#calls tr[data-call]');
      await screenshot(page, `calls-admin-${lang}`);
      await page.close();
    }
  });

  it("a robot's settings open in the app's settings page and are saved into the template", async () => {
    const templateId = await stack.templateWith(portalA, [{ code: 'start_workflow', name: 'StartOther', properties: { template_id: '1' } }]);
    const page = await browser.newPage({ viewport: { width: 900, height: 700 } });
    await page.goto(`${originOf(portalA)}/marketplace/robot-settings/${stack.clientId}/${templateId}/StartOther/?user=1`);
    const frame = await appFrame(page, `${stack.appUrl}/placement/start_workflow`);
    expect(await frame.inputValue('#prop-template_id')).toBe('1');
    await frame.fill('#prop-template_id', '');
    await frame.click('#settings-save');
    await frame.waitForSelector('#settings-note.bad');
    await frame.fill('#prop-template_id', '7');
    await frame.fill('#prop-document_id', 'DEAL_3');
    await frame.click('#settings-save');
    await frame.waitForSelector('#settings-note.ok');
    const node = stack.emulator.state.portals.get(portalA)!.workflows.templates.get(templateId)!.template[0]!.Children[0]!;
    expect(node.Properties).toMatchObject({ template_id: '7', document_id: 'DEAL_3' });
    await screenshot(page, 'robot-settings-en');
    await page.close();
  });
});
