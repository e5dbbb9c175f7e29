/**
 * End-to-end stage for robot tests: a fresh PostgreSQL database, the app (createApp) on a real
 * Fastify listening on 127.0.0.1, the portal emulator on its own ports, the app registered with
 * the emulator and installed on one portal. App and emulator meet only over HTTP.
 * (A stop-gap until test/support offers the same; see the issue #6 report.)
 */
import pino from 'pino';
import { createApp, type App } from '../../src/app.ts';
import type { ActivityNode, WorkflowInstance } from '../../src/emulator/contract.ts';
import { internalTypeOf } from '../../src/emulator/methods/robots.ts';
import { buildEmulator, type Emulator } from '../../src/emulator/server.ts';
import { buildServer } from '../../src/server.ts';
import { createHash } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { freshDatabase, type FreshDatabase } from '../support/db.ts';
import { freePort, waitFor } from '../support/process.ts';

export interface Stage {
  emulator: Emulator;
  emulatorUrl: string;
  memberId: string;
  /** the portal's admin webhook: REST as user 1 (administrator), for setting up and checking */
  webhook: string;
  app: App;
  appUrl: string;
  /** REST on the emulated portal through the admin webhook; throws on an error answer */
  rest<T = any>(method: string, params?: Record<string, unknown>): Promise<T>;
  /** the emulator's control API (JSON) */
  control(verb: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, body?: unknown): Promise<any>;
  /** A template of these steps, added as a portal admin would (for DEALs unless told). */
  addTemplate(steps: Step[], documentType?: DocumentType): Promise<number>;
  /** Starts a workflow as user 1 (or `userId`) and returns its id without waiting. */
  startWorkflow(templateId: number, documentId: DocumentId, options?: { parameters?: Record<string, unknown>; userId?: number }): Promise<string>;
  workflow(id: string, waitMs?: number): Promise<WorkflowInstance | null>;
  /** Runs one workflow whose template is this robot's step alone, to its end. */
  runRobot(code: string, properties: Record<string, unknown>, documentId: DocumentId): Promise<RobotRun>;
  stop(): Promise<void>;
}

export type DocumentId = [string, string, string];
export type DocumentType = [string, string, string];
export type Step = Pick<ActivityNode, 'Type' | 'Name' | 'Properties'>;

export interface RobotRun {
  workflow: WorkflowInstance;
  /** what the robot returned (bizproc.event.send RETURN_VALUES, as the step kept them) */
  returned: Record<string, any>;
  /** the step's lines in the workflow log (bizproc.activity.log and the answer's LOG_MESSAGE) */
  log: string[];
}

export const deal = (n: number): DocumentId => ['crm', 'CCrmDocumentDeal', `DEAL_${n}`];
export const DEAL_TYPE: DocumentType = ['crm', 'CCrmDocumentDeal', 'DEAL'];

/** A step of one of this app's robots, as the designer stores it. */
export function robotStep(code: string, properties: Record<string, unknown>, name = 'A1'): Step {
  return { Type: internalTypeOf(CLIENT_ID, code), Name: name, Properties: properties };
}

/** A workflow task step (ApproveActivity, ReviewActivity, RequestInformation[Optional]Activity). */
export function taskStep(type: string, users: number[], name: string, extra: Record<string, unknown> = {}): Step {
  return { Type: type, Name: name, Properties: { Users: users.map((u) => `user_${u}`), Name: name, ...extra } };
}

const CLIENT_ID = 'local.robots.test';
const CLIENT_SECRET = 'robots-test-secret';

export async function startStage(): Promise<Stage> {
  const stops: Array<() => Promise<void>> = [];
  const stop = async () => {
    for (const part of stops.reverse()) await part().catch(() => undefined);
  };
  try {
    const emulator = await buildEmulator({ portals: 1, rateLimit: { drainPerSec: 50, maxBurst: 500 } });
    const emulatorUrl = await emulator.listen();
    stops.push(() => emulator.close());

    const database: FreshDatabase = await freshDatabase();
    stops.push(() => database.drop());

    const port = await freePort();
    const appUrl = `http://127.0.0.1:${port}`;
    const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
    const app = await createApp(
      {
        appBaseUrl: appUrl,
        clientId: CLIENT_ID,
        clientSecret: CLIENT_SECRET,
        appCode: CLIENT_ID,
        oauthUrl: `${emulatorUrl}/oauth/token/`,
        bx24Url: '//api.bitrix24.com/api/v1/',
        tokenKeys: keyRing(),
        rateLimit: { drainPerSec: 50, capacity: 400 },
        workerConcurrency: 4,
      },
      database.db,
      logger,
    );
    stops.push(() => app.stop());
    const server: FastifyInstance = await buildServer({ logger, notReady: database.db.notReady, routes: app.routes });
    await server.listen({ port, host: '127.0.0.1' });
    stops.push(() => server.close());

    await control(emulatorUrl, 'POST', '/_emulator/applications', {
      clientId: CLIENT_ID,
      clientSecret: CLIENT_SECRET,
      appUrl,
      installUrl: `${appUrl}/install`,
      eventUrl: `${appUrl}/events`,
    });
    const [portal] = (await control(emulatorUrl, 'GET', '/_emulator/state')).portals as Array<{ memberId: string; webhookUrl: string }>;
    const memberId = portal!.memberId;
    await control(emulatorUrl, 'POST', `/_emulator/portals/${memberId}/apps/${CLIENT_ID}/install`, { mode: 'headless' });
    // ONAPPINSTALL is handled before the emulator's POST returns; registration follows it.
    await waitFor(
      async () => {
        const described = (await control(emulatorUrl, 'GET', '/_emulator/state')).portals[0];
        const installed = described.apps.find((a: { clientId: string }) => a.clientId === CLIENT_ID);
        return installed && installed.robots.length >= app.catalog.size;
      },
      30_000,
      'the app to register its robots',
    );

    const webhook = portal!.webhookUrl;
    const ctl = (verb: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, body?: unknown) => control(emulatorUrl, verb, path, body);
    const addTemplate = async (steps: Step[], documentType: DocumentType = DEAL_TYPE) =>
      (await ctl('POST', `/_emulator/portals/${memberId}/templates`, { steps, documentType })).id as number;
    const startWorkflow: Stage['startWorkflow'] = async (templateId, documentId, options = {}) =>
      (await ctl('POST', `/_emulator/portals/${memberId}/workflows`, { templateId, documentId, parameters: options.parameters, userId: options.userId }))
        .id as string;
    const workflow: Stage['workflow'] = (id, waitMs = 0) => ctl('GET', `/_emulator/portals/${memberId}/workflows/${id}${waitMs ? `?wait=${waitMs}` : ''}`);
    return {
      emulator,
      emulatorUrl,
      memberId,
      webhook,
      app,
      appUrl,
      rest: (method, params = {}) => rest(webhook, method, params),
      control: ctl,
      addTemplate,
      startWorkflow,
      workflow,
      async runRobot(code, properties, documentId) {
        const step = robotStep(code, properties);
        const templateId = await addTemplate([step], [documentId[0], documentId[1], documentId[2].replace(/_\d+$/, '')]);
        const id = await startWorkflow(templateId, documentId);
        const done = await workflow(id, 60_000);
        if (!done || done.status === 'running') throw new Error(`workflow ${id} of ${code} did not finish within 60 s`);
        return {
          workflow: done,
          returned: done.returnValues[step.Name] ?? {},
          log: done.log.filter((line) => line.activity === step.Name).map((line) => line.message),
        };
      },
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

export async function rest<T = any>(base: string, method: string, params: Record<string, unknown> = {}): Promise<T> {
  const response = await fetch(`${base}${method}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(params) });
  const body = (await response.json()) as { result?: T; error?: string; error_description?: string };
  if (!response.ok || body.error) throw new Error(`${method}: ${body.error} (${body.error_description ?? ''})`);
  return body.result as T;
}

async function control(base: string, verb: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, body?: unknown): Promise<any> {
  const response = await fetch(`${base}${path}`, {
    method: verb,
    ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${verb} ${path}: ${response.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

function keyRing() {
  const key = createHash('sha256').update('robots-test-key').digest();
  return { current: { id: 't', key }, all: new Map([['t', key]]) };
}
