/**
 * What `npm run demo` and `npm run screenshots` share: the portal emulator and the app in one
 * process on the embedded database (in a temporary folder), the app installed through the
 * install frame as an admin would, templates uploaded with `bizproc.workflow.template.add`, and
 * the demo's steps that use every robot in handlers/.
 *
 * Import it only from a process that trusts the emulator's CA (runTrustingEmulatorCa first): the
 * app reaches the HTTPS portals with Node's own certificate checks.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { createApp, type App } from '../src/app.ts';
import { openDatabase, type Database } from '../src/db/database.ts';
import { buildEmulator, internalTypeOf, sequentialTemplate, writeBpt, type ActivityNode, type Emulator, type EmulatorOptions, type Portal } from '@b24-automation/emulator';
import type { PortalClient } from '../src/portals/portal-client.ts';
import { buildServer } from '../src/server.ts';

export const CLIENT_ID = 'local.demo.app';
export const DEAL_TYPE: [string, string, string] = ['crm', 'CCrmDocumentDeal', 'DEAL'];
export const deal = (code: string): [string, string, string] => ['crm', 'CCrmDocumentDeal', code];

export type Step = Pick<ActivityNode, 'Type' | 'Name' | 'Properties'>;

export interface Showcase {
  emulator: Emulator;
  emulatorUrl: string;
  app: App;
  appUrl: string;
  db: Database;
  /** JSON call to the emulator's control API */
  control<T = any>(method: string, path: string, body?: unknown): Promise<T>;
  /** Installs the app on a portal through its install frame and the frame's installFinish; the app's REST client for it. */
  install(portal: Portal): Promise<PortalClient>;
  /** The address a signed-in user of the portal opens the app at. */
  pageUrl(portal: Portal, user: number, lang?: string): string;
  stop(): Promise<void>;
}

/** The emulator and the app, listening on 127.0.0.1; `stop()` closes both and removes the database. */
export async function startShowcase(logger: Logger, emulatorOptions: EmulatorOptions = {}): Promise<Showcase> {
  const dataDir = mkdtempSync(join(tmpdir(), 'b24-demo-'));
  const stops: Array<() => Promise<unknown>> = [async () => rmSync(dataDir, { recursive: true, force: true })];
  const stop = async () => {
    for (const part of stops.reverse()) await part().catch(() => undefined);
    stops.length = 0;
  };
  try {
    const emulator = await buildEmulator({ portals: 1, rateLimit: { drainPerSec: 10, maxBurst: 50 }, ...emulatorOptions });
    const emulatorUrl = await emulator.listen();
    stops.push(() => emulator.close());
    const db = await openDatabase({ dataDir }, logger);
    stops.push(() => db.close());

    // The app's handler URLs are built from its address, so it needs its port before it starts.
    const probe = await buildServer({ logger, notReady: db.notReady });
    await probe.listen({ port: 0, host: '127.0.0.1' });
    const port = (probe.server.address() as { port: number }).port;
    await probe.close();
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

    const control = async <T = any>(method: string, path: string, body?: unknown): Promise<T> => {
      const response = await fetch(`${emulatorUrl}/_emulator${path}`, body === undefined ? { method } : { method, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      if (!response.ok) throw new Error(`emulator ${path}: ${response.status} ${await response.text()}`);
      return response.json() as Promise<T>;
    };
    await control('POST', '/applications', { clientId: CLIENT_ID, clientSecret, appUrl: `${appUrl}/app`, installUrl: `${appUrl}/install` });

    return {
      emulator,
      emulatorUrl,
      app,
      appUrl,
      db,
      control,
      async install(portal) {
        const install = await control<{ frame: { status: number } }>('POST', `/portals/${portal.memberId}/apps/${CLIENT_ID}/install`, { mode: 'frame' });
        if (install.frame.status !== 200) throw new Error(`the install page answered ${install.frame.status}`);
        await control('POST', `/portals/${portal.memberId}/apps/${CLIENT_ID}/install-finish`);
        const stored = await app.store.findByMemberId(portal.memberId);
        if (!stored) throw new Error(`the app did not store portal ${portal.domain}`);
        return app.clients.forPortal(stored.id);
      },
      pageUrl: (portal, user, lang) => `${portal.protocol}://${portal.domain}/marketplace/app/${CLIENT_ID}/?user=${user}${lang ? `&lang=${lang}` : ''}`,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** Uploads a deal template of sequential steps (and its parameters, .bpt format) as the app (bizproc.workflow.template.add); its id. */
export function addTemplate(client: PortalClient, name: string, steps: Step[], parameters: Record<string, unknown> = {}): Promise<number> {
  return client.call<number>('bizproc.workflow.template.add', {
    DOCUMENT_TYPE: DEAL_TYPE,
    NAME: name,
    TEMPLATE_DATA: [`${name}.bpt`, writeBpt({ TEMPLATE: sequentialTemplate(steps, name), PARAMETERS: parameters }).toString('base64')],
  });
}

/** Starts a template on a deal (bizproc.workflow.start); the workflow's id. */
export function startWorkflow(client: PortalClient, templateId: number, dealCode: string): Promise<string> {
  return client.call<string>('bizproc.workflow.start', { TEMPLATE_ID: templateId, DOCUMENT_ID: deal(dealCode) });
}

/** A robot's step in the demo's template: its property values and what its answer must show. */
export interface RobotStep {
  code: string;
  name: string;
  properties: Record<string, unknown>;
  expect: (values: Record<string, unknown>) => string | null;
}

/**
 * One step per robot, in an order where each has work: the templates `followUp` (started by
 * start_workflow) and `review` (whose running workflows stop_workflows stops) must exist, and
 * user 1 and user 4 must have waiting workflow tasks on the deal the template runs on.
 */
export function everyRobotSteps(
  portal: Portal,
  templates: { followUp: number; review: number },
  words: { approved: string; stopped: string } = { approved: 'Approved in the demo', stopped: 'Stopped by the demo' },
): RobotStep[] {
  return [
    { code: 'find_user', name: 'FindUser', properties: { user: 'user_3' }, expect: (v) => (v.manager === 'user_2' ? null : `manager ${String(v.manager)}, expected user_2`) },
    {
      code: 'hash_value',
      name: 'Hash',
      properties: { value: '{=FindUser:email}', algorithm: 'sha256' },
      expect: (v) => (v.hash === createHash('sha256').update(String(portal.users.get(3)!.email)).digest('hex') ? null : `hash ${String(v.hash)}`),
    },
    { code: 'start_workflow', name: 'StartFollowUp', properties: { template_id: templates.followUp, document_id: 'DEAL_2', parameters: 'Reason={=FindUser:name}' }, expect: (v) => (v.workflow_id ? null : 'no workflow_id') },
    { code: 'complete_workflow_tasks', name: 'Complete', properties: { user: 'user_1', decision: 'approve', comment: words.approved }, expect: (v) => (Number(v.completed) >= 1 ? null : `completed ${String(v.completed)}`) },
    { code: 'delegate_workflow_tasks', name: 'Delegate', properties: { from_user: 'user_4', to_user: 'user_5' }, expect: (v) => (Number(v.delegated) >= 1 ? null : `delegated ${String(v.delegated)}`) },
    { code: 'approve_task', name: 'ApproveTask', properties: { task_id: 1 }, expect: (v) => (String(v.status) === '5' ? null : `status ${String(v.status)}`) },
    { code: 'delegate_task', name: 'DelegateTask', properties: { task_id: 4, user: '{=FindUser:manager}' }, expect: (v) => (v.responsible === 'user_2' ? null : `responsible ${String(v.responsible)}`) },
    { code: 'stop_workflows', name: 'Stop', properties: { template_id: templates.review, mode: 'terminate', status: words.stopped }, expect: (v) => (Number(v.stopped) >= 1 ? null : `stopped ${String(v.stopped)}`) },
  ];
}

/** The steps as the template's activities of this app's robots. */
export function robotActivities(steps: RobotStep[]): Step[] {
  return steps.map((s) => ({ Type: internalTypeOf(CLIENT_ID, s.code), Name: s.name, Properties: s.properties }));
}

/** Codes of the catalog's robots the steps leave out (a new robot needs a demo step). */
export function robotsWithoutStep(app: App, steps: RobotStep[]): string[] {
  return [...app.catalog.keys()].filter((code) => !steps.some((s) => s.code === code));
}
