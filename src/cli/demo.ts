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
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ActivityNode } from '../emulator/contract.ts';
import { runTrustingEmulatorCa } from '../emulator/tls.ts';

await runTrustingEmulatorCa();

const [{ createApp }, { openDatabase }, { internalTypeOf }, { buildEmulator }, { sequentialTemplate, writeBpt }, { createLogger }, { buildServer }] = await Promise.all([
  import('../app.ts'),
  import('../db/database.ts'),
  import('../emulator/methods/robots.ts'),
  import('../emulator/server.ts'),
  import('../emulator/workflow/bpt.ts'),
  import('../logger.ts'),
  import('../server.ts'),
]);

const say = (line: string) => process.stdout.write(`${line}\n`);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Every robot's demo step: its property values and what its answer must show. */
interface DemoStep {
  code: string;
  name: string;
  properties: Record<string, unknown>;
  expect: (values: Record<string, unknown>) => string | null;
}

const CLIENT_ID = 'local.demo.app';
const dataDir = mkdtempSync(join(tmpdir(), 'b24-demo-'));
const logger = createLogger(process.env.DEMO_LOG_LEVEL ?? 'warn');
const stops: Array<() => Promise<unknown>> = [];
let exitCode = 1;

try {
  say('Starting the portal emulator and the app (embedded PostgreSQL in a temporary folder)…');
  const emulator = await buildEmulator({ portals: 1, rateLimit: { drainPerSec: 10, maxBurst: 50 } });
  const emulatorUrl = await emulator.listen();
  stops.push(() => emulator.close());
  const db = await openDatabase({ dataDir }, logger);
  stops.push(() => db.close());

  const server0 = await buildServer({ logger, notReady: db.notReady });
  await server0.listen({ port: 0, host: '127.0.0.1' });
  const port = (server0.server.address() as { port: number }).port;
  await server0.close();
  const appUrl = `http://127.0.0.1:${port}`;
  const clientSecret = randomBytes(16).toString('hex');
  const key = randomBytes(32);
  const app = await createApp(
    {
      appBaseUrl: appUrl,
      clientId: CLIENT_ID,
      clientSecret,
      appCode: CLIENT_ID,
      oauthUrl: `${emulatorUrl}/oauth/token/`,
      bx24Url: `${emulatorUrl}/api/v1/`,
      tokenKeys: { current: { id: 'demo', key }, all: new Map([['demo', key]]) },
      rateLimit: { drainPerSec: 10, capacity: 40 },
      workerConcurrency: 4,
    },
    db,
    logger,
  );
  stops.push(() => app.stop());
  const server = await buildServer({ logger, notReady: db.notReady, routes: app.routes });
  await server.listen({ port, host: '127.0.0.1' });
  stops.push(() => server.close());
  say(`  emulator ${emulatorUrl}, app ${appUrl}`);

  const control = async <T = any>(method: string, path: string, body?: unknown): Promise<T> => {
    const response = await fetch(`${emulatorUrl}/_emulator${path}`, body === undefined ? { method } : { method, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    if (!response.ok) throw new Error(`emulator ${path}: ${response.status} ${await response.text()}`);
    return response.json() as Promise<T>;
  };
  const portal = [...emulator.state.portals.values()][0]!;
  const member = portal.memberId;

  say(`\nInstalling the app on portal ${portal.domain} (the admin opens the install frame)…`);
  await control('POST', '/applications', { clientId: CLIENT_ID, clientSecret, appUrl: `${appUrl}/app`, installUrl: `${appUrl}/install` });
  const install = await control<{ frame: { status: number } }>('POST', `/portals/${member}/apps/${CLIENT_ID}/install`, { mode: 'frame' });
  if (install.frame.status !== 200) throw new Error(`the install page answered ${install.frame.status}`);
  await control('POST', `/portals/${member}/apps/${CLIENT_ID}/install-finish`);
  const stored = (await app.store.findByMemberId(member))!;
  const installation = portal.apps.get(CLIENT_ID)!;
  say(`  ✓ tokens proven with app.info and stored encrypted; events bound: ${[...installation.events.keys()].join(', ')}`);
  say(`  ✓ registered ${installation.robots.size} robots and ${installation.activities.size} actions: ${[...installation.robots.keys()].join(', ')}`);

  say('\nPreparing work for the robots on deal DEAL_1…');
  const client = await app.clients.forPortal(stored.id);
  const addTemplate = (name: string, steps: Array<Pick<ActivityNode, 'Type' | 'Name' | 'Properties'>>) =>
    client.call<number>('bizproc.workflow.template.add', {
      DOCUMENT_TYPE: ['crm', 'CCrmDocumentDeal', 'DEAL'],
      NAME: name,
      TEMPLATE_DATA: [`${name}.bpt`, writeBpt({ TEMPLATE: sequentialTemplate(steps, name) }).toString('base64')],
    });
  const start = (templateId: number) => client.call<string>('bizproc.workflow.start', { TEMPLATE_ID: templateId, DOCUMENT_ID: ['crm', 'CCrmDocumentDeal', 'DEAL_1'] });
  const followUp = await addTemplate('Follow-up', [{ Type: 'LogActivity', Name: 'Note', Properties: { Text: 'Follow-up started for {=Template:Reason}' } }]);
  const approval = await addTemplate('Approval', [{ Type: 'ApproveActivity', Name: 'Approve', Properties: { Users: ['user_1'], Name: 'Approve the deal' } }]);
  const review = await addTemplate('Review', [{ Type: 'ReviewActivity', Name: 'Review', Properties: { Users: ['user_4'], Name: 'Review the deal' } }]);
  await start(approval);
  await start(review);
  say(`  templates Follow-up #${followUp}, Approval #${approval} (a task for user 1), Review #${review} (a task for user 4); both waiting on DEAL_1`);

  const steps: DemoStep[] = [
    { code: 'find_user', name: 'FindUser', properties: { user: 'user_3' }, expect: (v) => (v.manager === 'user_2' ? null : `manager ${String(v.manager)}, expected user_2`) },
    {
      code: 'hash_value',
      name: 'Hash',
      properties: { value: '{=FindUser:email}', algorithm: 'sha256' },
      expect: (v) => (v.hash === createHash('sha256').update(String(portal.users.get(3)!.email)).digest('hex') ? null : `hash ${String(v.hash)}`),
    },
    { code: 'start_workflow', name: 'StartFollowUp', properties: { template_id: followUp, document_id: 'DEAL_2', parameters: 'Reason={=FindUser:name}' }, expect: (v) => (v.workflow_id ? null : 'no workflow_id') },
    { code: 'complete_workflow_tasks', name: 'Complete', properties: { user: 'user_1', decision: 'approve', comment: 'Approved in the demo' }, expect: (v) => (Number(v.completed) >= 1 ? null : `completed ${String(v.completed)}`) },
    { code: 'delegate_workflow_tasks', name: 'Delegate', properties: { from_user: 'user_4', to_user: 'user_5' }, expect: (v) => (Number(v.delegated) >= 1 ? null : `delegated ${String(v.delegated)}`) },
    { code: 'approve_task', name: 'ApproveTask', properties: { task_id: 1 }, expect: (v) => (String(v.status) === '5' ? null : `status ${String(v.status)}`) },
    { code: 'delegate_task', name: 'DelegateTask', properties: { task_id: 4, user: '{=FindUser:manager}' }, expect: (v) => (v.responsible === 'user_2' ? null : `responsible ${String(v.responsible)}`) },
    { code: 'stop_workflows', name: 'Stop', properties: { template_id: review, mode: 'terminate', status: 'Stopped by the demo' }, expect: (v) => (Number(v.stopped) >= 1 ? null : `stopped ${String(v.stopped)}`) },
  ];
  const missing = [...app.catalog.keys()].filter((code) => !steps.some((s) => s.code === code));
  if (missing.length > 0) throw new Error(`no demo step for ${missing.join(', ')}: add one to src/cli/demo.ts`);

  const main = await addTemplate(
    'Every robot',
    steps.map((s) => ({ Type: internalTypeOf(CLIENT_ID, s.code), Name: s.name, Properties: s.properties })),
  );
  say(`  template "Every robot" #${main} uploaded with bizproc.workflow.template.add: ${steps.map((s) => s.code).join(' → ')}`);

  say('\nStarting "Every robot" on DEAL_1…');
  const workflowId = await start(main);
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
    const page = (user: number) => `${portal.protocol}://${portal.domain}/marketplace/app/${CLIENT_ID}/?user=${user}`;
    say(`\nThe app's pages, as the portal opens them (Ctrl-C to stop):\n  as the admin:   ${page(1)}\n  as an employee: ${page(3)}\n  in Russian:     ${page(1)}&lang=ru`);
    say(`The portal's certificate is signed by the emulator's CA ${emulator.caFile}: import it into the browser or accept the warning.`);
    await new Promise((resolve) => process.once('SIGINT', resolve));
  }
} catch (error) {
  say(`\ndemo failed: ${(error as Error).message}`);
  exitCode = 1;
} finally {
  for (const stop of stops.reverse()) await stop().catch(() => undefined);
  rmSync(dataDir, { recursive: true, force: true });
}
process.exit(exitCode);
