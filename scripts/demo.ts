/**
 * `npm run demo`: the whole thing in one process, on the embedded database, with nothing to set
 * up. Starts the portal emulator and the app, installs the app through the install frame as an
 * admin would, uploads a workflow template whose steps use every robot in handlers/, starts it
 * on a deal and follows each call: arriving, its work (the workflow log), its answer. Exits 0
 * only if every robot answered as expected.
 *
 * The emulated portals are HTTPS with the emulator's own CA, and the app trusts it the only way
 * app code may: NODE_EXTRA_CA_CERTS, which Node reads when the process starts. So the demo first
 * makes sure it runs in a process started with it (runTrustingEmulatorCa runs it again if not),
 * and only then imports the app and the emulator.
 */
import { runTrustingEmulatorCa } from '@b24-automation/emulator';

await runTrustingEmulatorCa();

const [{ addTemplate, CLIENT_ID, everyRobotSteps, robotActivities, robotsWithoutStep, startShowcase, startWorkflow }, { createLogger }] = await Promise.all([
  import('./showcase.ts'),
  import('../src/logger.ts'),
]);

const say = (line: string) => process.stdout.write(`${line}\n`);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const logger = createLogger(process.env.DEMO_LOG_LEVEL ?? 'warn');
let stop = async () => undefined as unknown;
let exitCode = 1;

try {
  say('Starting the portal emulator and the app (embedded PostgreSQL in a temporary folder)…');
  const showcase = await startShowcase(logger);
  stop = showcase.stop;
  const { app, db, emulator } = showcase;
  say(`  emulator ${showcase.emulatorUrl}, app ${showcase.appUrl}`);
  const portal = [...emulator.state.portals.values()][0]!;

  say(`\nInstalling the app on portal ${portal.domain} (the admin opens the install frame)…`);
  const client = await showcase.install(portal);
  const installation = portal.apps.get(CLIENT_ID)!;
  say(`  ✓ tokens proven with app.info and stored encrypted; events bound: ${[...installation.events.keys()].join(', ')}`);
  say(`  ✓ registered ${installation.robots.size} robots and ${installation.activities.size} actions: ${[...installation.robots.keys()].join(', ')}`);

  say('\nPreparing work for the robots on deal DEAL_1…');
  const followUp = await addTemplate(client, 'Follow-up', [{ Type: 'LogActivity', Name: 'Note', Properties: { Text: 'Follow-up started for {=Template:Reason}' } }]);
  const approval = await addTemplate(client, 'Approval', [{ Type: 'ApproveActivity', Name: 'Approve', Properties: { Users: ['user_1'], Name: 'Approve the deal' } }]);
  const review = await addTemplate(client, 'Review', [{ Type: 'ReviewActivity', Name: 'Review', Properties: { Users: ['user_4'], Name: 'Review the deal' } }]);
  await startWorkflow(client, approval, 'DEAL_1');
  await startWorkflow(client, review, 'DEAL_1');
  say(`  templates Follow-up #${followUp}, Approval #${approval} (a task for user 1), Review #${review} (a task for user 4); both waiting on DEAL_1`);

  const steps = everyRobotSteps(portal, { followUp, review });
  const missing = robotsWithoutStep(app, steps);
  if (missing.length > 0) throw new Error(`no demo step for ${missing.join(', ')}: add one to scripts/showcase.ts`);

  const main = await addTemplate(client, 'Every robot', robotActivities(steps));
  say(`  template "Every robot" #${main} uploaded with bizproc.workflow.template.add: ${steps.map((s) => s.code).join(' → ')}`);

say('\nStarting "Every robot" on DEAL_1…');
  const workflowId = await startWorkflow(client, main, 'DEAL_1');
  const seenCalls = new Map<bigint, string>();
  let logSeen = 0;
  const deadline = Date.now() + 90_000;
  for (;;) {
    const instance = portal.workflows.instances.get(workflowId)!;
    const calls = await db.prisma.handlerCall.findMany({ where: { workflowId }, orderBy: { id: 'asc' } });
    for (const call of calls) {
      const shown = seenCalls.get(call.id);
      if (!shown) {
        say(`→ ${call.code}: call #${call.id} stored and acknowledged`);
        seenCalls.set(call.id, 'received');
      }
      if (call.answeredAt && seenCalls.get(call.id) !== 'answered') {
        const values = Object.entries((call.returnValues ?? {}) as Record<string, unknown>).map(([k, v]) => `${k}=${String(v).slice(0, 48)}`);
        say(`  ${call.error ? '✗' : '✓'} answered through bizproc.event.send: ${values.join(', ') || '(no values)'}`);
        seenCalls.set(call.id, 'answered');
      }
    }
    for (const line of instance.log.slice(logSeen)) say(`    log ${line.activity}: ${line.message}`);
    logSeen = instance.log.length;
    if (instance.status !== 'running') break;
    if (Date.now() > deadline) throw new Error('the workflow did not finish within 90 s');
    await sleep(150);
  }

  const instance = portal.workflows.instances.get(workflowId)!;
  say(`\nWorkflow ${workflowId}: ${instance.status}`);
  let failures = 0;
  for (const step of steps) {
    const values = instance.returnValues[step.name];
    const problem = !values ? 'no answer' : values.error ? `error: ${String(values.error)}` : step.expect(values);
    if (problem) failures += 1;
    say(`  ${problem ? '✗' : '✓'} ${step.code.padEnd(24)} ${problem ?? 'as expected'}`);
  }
  if (instance.status !== 'completed') failures += 1;
  say(failures === 0 ? `\nEvery robot (${steps.length}) answered as expected.` : `\n${failures} problem(s).`);
  exitCode = failures === 0 ? 0 : 1;
  if (process.argv.includes('--keep')) {
    // Leave everything running so a person can look at the app's pages as the portal shows them.
    const page = (user: number, lang?: string) => showcase.pageUrl(portal, user, lang);
    say(`\nThe app's pages, as the portal opens them (Ctrl-C to stop):\n  as the admin:   ${page(1)}\n  as an employee: ${page(3)}\n  in Russian:     ${page(1, 'ru')}`);
    say(`The portal's certificate is signed by the emulator's CA ${emulator.caFile}: import it into the browser or accept the warning.`);
    await new Promise((resolve) => process.once('SIGINT', resolve));
  }
} catch (error) {
  say(`\ndemo failed: ${(error as Error).message}`);
  exitCode = 1;
} finally {
  await stop();
}
process.exit(exitCode);
