/**
 * `npm run screenshots`: the Bitrix24 Market card's screenshots. Starts the portal emulator and
 * the app (as `npm run demo` does), on portals seeded with realistic invented people and deals
 * (one in English, one in Russian: a screenshot's texts must match its description's language),
 * fills them with work — templates, workflows run through every robot, a failed call, tasks
 * waiting for the admin — then opens each page as the portal's slider shows it (the emulator's
 * portal page, as the admin) in Chromium and writes 1280×720 PNGs to artifacts/market/.
 *
 * Exits non-zero if a page reported a script error, a request of the page's own failed, or a
 * view never filled.
 */
import type { Frame, Page } from 'playwright-core';
import { runTrustingEmulatorCa, type Portal } from '@b24-automation/emulator';

await runTrustingEmulatorCa();

const [{ mkdirSync, readFileSync }, { fileURLToPath }, { chromium }, showcaseModule, { settleFrame }, { spkiSha256 }, { createLogger }] = await Promise.all([
  import('node:fs'),
  import('node:url'),
  import('playwright-core'),
  import('./showcase.ts'),
  import('./settle-frame.ts'),
  import('@b24-automation/emulator'),
  import('../src/logger.ts'),
]);
const { addTemplate, CLIENT_ID, everyRobotSteps, robotActivities, robotsWithoutStep, startShowcase, startWorkflow } = showcaseModule;
type Showcase = Awaited<ReturnType<typeof startShowcase>>;

const OUT = fileURLToPath(new URL('../artifacts/market/', import.meta.url));
const VIEWPORT = { width: 1280, height: 720 };
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const TABS = ['status', 'calls', 'workflows', 'tasks', 'journal'] as const;
const say = (line: string) => process.stdout.write(`${line}\n`);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The demo data's words in each screenshot language. */
const WORDS = {
  en: {
    followUp: 'Follow-up call',
    approval: 'Discount approval',
    approve: 'Approve the discount',
    review: 'Contract review',
    reviewTask: 'Review the contract',
    main: 'New deal onboarding',
    checksum: 'Export checksum',
    note: 'Follow-up planned: {=Template:Reason}',
    reason: 'Reason',
    approved: 'Approved: the discount is within policy',
    stopped: 'Replaced by the signed contract',
  },
  ru: {
    followUp: 'Повторный звонок',
    approval: 'Согласование скидки',
    approve: 'Согласуйте скидку',
    review: 'Проверка договора',
    reviewTask: 'Проверьте договор',
    main: 'Запуск новой сделки',
    checksum: 'Контрольная сумма выгрузки',
    note: 'Запланирован звонок: {=Template:Reason}',
    reason: 'Причина',
    approved: 'Согласовано: скидка в пределах политики',
    stopped: 'Заменён подписанным договором',
  },
} as const;
type Lang = keyof typeof WORDS;

/** The work a portal shows: every robot run on three deals, a failed call, two tasks for the admin. */
async function fill(showcase: Showcase, portal: Portal, lang: Lang): Promise<{ settings: { templateId: number; activity: string } }> {
  const words = WORDS[lang];
  const client = await showcase.install(portal);
  const followUp = await addTemplate(client, words.followUp, [{ Type: 'LogActivity', Name: 'Note', Properties: { Text: words.note } }], {
    Reason: { Name: words.reason, Type: 'string', Required: 1, Multiple: 0 },
  });
  const approval = await addTemplate(client, words.approval, [{ Type: 'ApproveActivity', Name: 'Approve', Properties: { Users: ['user_1'], Name: words.approve } }]);
  const review = await addTemplate(client, words.review, [{ Type: 'ReviewActivity', Name: 'Review', Properties: { Users: ['user_4'], Name: words.reviewTask } }]);
  const steps = everyRobotSteps(portal, { followUp, review }, words);
  const missing = robotsWithoutStep(showcase.app, steps);
  if (missing.length > 0) throw new Error(`no demo step for ${missing.join(', ')}: add one to scripts/showcase.ts`);
  const main = await addTemplate(client, words.main, robotActivities(steps));
  const checksum = await addTemplate(client, words.checksum, robotActivities([{ code: 'hash_value', name: 'Checksum', properties: { value: 'deals-2025-q1.csv', algorithm: 'crc32' }, expect: () => null }]));

  const started: string[] = [];
  for (const dealCode of ['DEAL_1', 'DEAL_3', 'DEAL_4']) {
    await startWorkflow(client, approval, dealCode);
    await startWorkflow(client, review, dealCode);
    started.push(await startWorkflow(client, main, dealCode));
  }
  started.push(await startWorkflow(client, checksum, 'DEAL_2'));
  await until(() => started.every((id) => portal.workflows.instances.get(id)?.status !== 'running'), 120_000, `${lang}: the workflows finishing`);
  const failed = started.filter((id) => portal.workflows.instances.get(id)?.status !== 'completed');
  if (failed.length > 0) throw new Error(`${lang}: workflows ${failed.join(', ')} did not complete`);
  // Left waiting: the admin's tasks, and running workflows on the Workflows tab.
  await startWorkflow(client, approval, 'DEAL_2');
  await startWorkflow(client, approval, 'DEAL_5');
  const calls = await showcase.db.prisma.handlerCall.groupBy({ by: ['status'], _count: true });
  say(`  ${lang}: portal ${portal.domain} — ${calls.map((c) => `${c._count} ${c.status}`).join(', ')} calls so far`);
  return { settings: { templateId: main, activity: 'StartFollowUp' } };
}

async function until(condition: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(150);
  }
}


async function main(): Promise<number> {
  const began = Date.now();
  const logger = createLogger(process.env.DEMO_LOG_LEVEL ?? 'warn');
  say('Starting the portal emulator and the app with showcase portals (en, ru)…');
  const showcase = await startShowcase(logger, { portals: 0 });
  const browserProblems: string[] = [];
  try {
    const [en] = await showcase.emulator.state.addPortals(1, { people: 'showcase', languageId: 'en' });
    const [ru] = await showcase.emulator.state.addPortals(1, { people: 'showcase', languageId: 'ru' });
    const portals = { en: en!, ru: ru! };
    const settings = { en: await fill(showcase, portals.en, 'en'), ru: await fill(showcase, portals.ru, 'ru') };

    mkdirSync(OUT, { recursive: true });
    const caFile = showcase.emulator.caFile;
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      // trusts the emulator's CA and nothing more (certificate errors ignored only for chains with its key)
      args: [`--ignore-certificate-errors-spki-list=${spkiSha256(readFileSync(caFile, 'utf8'))}`, '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    const written: string[] = [];
    try {
      const open = async (url: string, frameUrl: string, label: string): Promise<{ page: Page; frame: Frame }> => {
        const page = await browser.newPage({ viewport: VIEWPORT, colorScheme: 'light' });
        page.on('pageerror', (error) => browserProblems.push(`${label}: ${error.message}`));
        page.on('requestfailed', (request) => browserProblems.push(`${label}: ${request.url()} failed (${request.failure()?.errorText})`));
        page.on('response', (response) => {
          if (response.status() >= 400) browserProblems.push(`${label}: ${response.url()} answered ${response.status()}`);
        });
        await page.goto(url);
        await until(() => page.frames().some((f) => f.url().startsWith(frameUrl)), 30_000, `${label}: the app's frame`);
        const frame = page.frames().find((f) => f.url().startsWith(frameUrl))!;
        await frame.waitForSelector('body[data-ready="1"]', { timeout: 30_000 });
        return { page, frame };
      };
      const shot = async (page: Page, frame: Frame, name: string) => {
        // clicks scroll the portal page; the card shows the slider from its top
        await page.evaluate(() => window.scrollTo(0, 0));
        await settleFrame(frame);
        const path = `${OUT}${name}.png`;
        await page.screenshot({ path, fullPage: false });
        written.push(path);
      };
      const tab = async (frame: Frame, name: (typeof TABS)[number]) => {
        const view = frame.locator(`main[data-view="${name}"]`);
        // a click that lands while a closing side panel still covers the tabs is lost: click again
        await until(
          async () => {
            await frame.locator('#tabs [role="tab"]').nth(TABS.indexOf(name)).click({ timeout: 5_000 });
            return view.isVisible();
          },
          30_000,
          `the ${name} tab`,
        );
      };

      for (const lang of ['en', 'ru'] as const) {
        const portal = portals[lang];
        const { page, frame } = await open(showcase.pageUrl(portal, 1, lang), `${showcase.appUrl}/app`, `app ${lang}`);
        await frame.waitForSelector('#robots [data-code]');
        await shot(page, frame, `${lang}-1-status`);

        await tab(frame, 'calls');
        await frame.waitForFunction(() => Number(document.querySelector('#chart')?.getAttribute('data-total')) > 0);
        await frame.waitForSelector('#calls [data-call]');
        await shot(page, frame, `${lang}-2-calls`);

        // find_user's call: its own requests (user.get, department.get) and the batch that answered it
        const findUser = await showcase.db.prisma.handlerCall.findFirstOrThrow({ where: { portal: { memberId: portal.memberId }, code: 'find_user' }, orderBy: { id: 'asc' } });
        await frame.click(`#calls [data-call="${findUser.id}"]`);
        await frame.waitForSelector(`#call-detail[data-call="${findUser.id}"]`);
        await frame.waitForFunction(() => Number(document.querySelector('#call-journal')?.getAttribute('data-loaded')) > 0);
        await shot(page, frame, `${lang}-3-call-side-panel`);
        await frame.press('#call-detail', 'Escape');
        await frame.waitForSelector('#call-detail', { state: 'detached' });

        await tab(frame, 'workflows');
        await frame.waitForSelector('[data-template]');
        await frame.waitForSelector('[data-workflow]');
        await shot(page, frame, `${lang}-4-workflows`);

        await tab(frame, 'tasks');
        await frame.waitForSelector('[data-task]');
        await shot(page, frame, `${lang}-5-my-tasks`);

        await tab(frame, 'journal');
        await frame.waitForSelector('#journal [data-journal]');
        // what an admin looks for here: the requests the portal refused, with the robot call that made them
        await frame.click('#journal-status');
        await frame.locator('[role="option"]').nth(1).click();
        await frame.click('#journal-apply');
        await frame.waitForFunction(() => {
          const rows = [...document.querySelectorAll('#journal [data-journal]')];
          return document.querySelector('#journal[data-loaded]') && rows.length > 0 && rows.every((r) => r.getAttribute('data-status') !== '200');
        });
        await frame.locator('#journal [data-journal]').first().click();
        await frame.waitForSelector('#journal .journal-payload .journal-error');
        await shot(page, frame, `${lang}-6-rest-journal`);
        await page.close();

        const { templateId, activity } = settings[lang].settings;
        const robotSettings = await open(
          `${portal.protocol}://${portal.domain}/marketplace/robot-settings/${CLIENT_ID}/${templateId}/${activity}/?user=1&lang=${lang}`,
          `${showcase.appUrl}/placement/start_workflow`,
          `settings ${lang}`,
        );
        await robotSettings.frame.waitForSelector('[data-parameter]');
        await shot(robotSettings.page, robotSettings.frame, `${lang}-7-robot-settings`);
        await robotSettings.page.close();
      }
    } finally {
      await browser.close();
    }
    if (browserProblems.length > 0) throw new Error(`the pages reported problems:\n  ${browserProblems.join('\n  ')}`);
    say(`\n${written.length} screenshots (${VIEWPORT.width}×${VIEWPORT.height}) in ${OUT}:`);
    for (const path of written) say(`  ${path.slice(OUT.length)}`);
    say(`in ${((Date.now() - began) / 1000).toFixed(1)} s`);
    return 0;
  } finally {
    await showcase.stop();
  }
}

let exitCode = 1;
try {
  exitCode = await main();
} catch (error) {
  say(`\nscreenshots failed: ${(error as Error).message}`);
}
process.exit(exitCode);
