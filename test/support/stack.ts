/**
 * The whole system for end-to-end tests: the portal emulator on its own ports, a fresh
 * PostgreSQL database, the app (createApp) on a real Fastify listening on 127.0.0.1, the app
 * registered with the emulator. App and emulator meet only over HTTP. Logs are captured so a
 * test can read them.
 */
import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { startEmulator, type Emulator, type InstallAnswer, type StartOptions, type TemplateStep, type WorkflowInstance } from '@b24-automation/emulator';
import type { FastifyInstance } from 'fastify';
import { createApp, type App } from '../../src/app.ts';
import { createLogger } from '../../src/logger.ts';
import type { KeyRing } from '../../src/portals/token-cipher.ts';
import { buildServer } from '../../src/server.ts';
import { freshDatabase, type FreshDatabase } from './db.ts';
import { reservePort } from './process.ts';

export interface StackOptions {
  emulator?: StartOptions;
  workerConcurrency?: number;
  answerBatchSize?: number;
  rateLimit?: { drainPerSec: number; capacity: number };
  logLevel?: string;
  /** an existing database (several app instances on one database) */
  database?: FreshDatabase;
}

export interface Stack {
  emulator: Emulator;
  emulatorUrl: string;
  database: FreshDatabase;
  app: App;
  server: FastifyInstance;
  appUrl: string;
  clientId: string;
  clientSecret: string;
  tokenKeys: KeyRing;
  /** every log line the app wrote, as text */
  logs(): string;
  /** a portal's member id (seeded portals 0, 1, …) */
  memberId(index?: number): string;
  /** JSON call to the emulator's control API */
  control<T = any>(method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, body?: unknown): Promise<T>;
  install(memberId: string, mode?: 'frame' | 'headless'): Promise<InstallAnswer>;
  /** REST as the portal's admin through its incoming webhook; throws on an error answer */
  rest<T = any>(memberId: string, method: string, params?: Record<string, unknown>): Promise<T>;
  /** a template whose steps are our handlers by code (Properties as given); returns its id */
  templateWith(memberId: string, steps: TemplateStep[]): Promise<number>;
  runWorkflow(memberId: string, templateId: number, documentId?: [string, string, string], timeoutMs?: number): Promise<WorkflowInstance>;
  stop(): Promise<void>;
}

/** The app as registered in the partner area: its page, install page, event URL and scopes. */
export function applicationFor(appUrl: string, clientId: string, clientSecret: string) {
  return {
    clientId,
    clientSecret,
    appUrl: `${appUrl}/app`,
    installUrl: `${appUrl}/install`,
    eventUrl: `${appUrl}/events`,
    scopes: ['bizproc', 'task', 'user_basic', 'department', 'crm', 'placement'],
  };
}

export function testKeyRing(): KeyRing {
  const key = randomBytes(32);
  return { current: { id: 'test', key }, all: new Map([['test', key]]) };
}

export async function startStack(options: StackOptions = {}): Promise<Stack> {
  const stops: Array<() => Promise<void>> = [];
  const stop = async () => {
    for (const part of stops.reverse()) await part().catch(() => undefined);
    stops.length = 0;
  };
  try {
    const running = await startEmulator({ portals: 2, ...options.emulator });
    const { server: emulator, baseUrl: emulatorUrl } = running;
    stops.push(() => running.stop());
    if (process.env.NODE_EXTRA_CA_CERTS !== running.caFile) {
      throw new Error(`this process does not trust the emulator's CA ${running.caFile}: run it through vitest (test/support/global-setup.ts) or call runTrustingEmulatorCa() (@b24-automation/emulator) first`);
    }

    const database = options.database ?? (await freshDatabase());
    if (!options.database) stops.push(() => database.drop());

    let captured = '';
    const sink = new Writable({
      write(chunk, _encoding, done) {
        captured += chunk.toString();
        done();
      },
    });
    const logger = createLogger(options.logLevel ?? process.env.TEST_LOG_LEVEL ?? 'debug', sink);
    const { port, release } = await reservePort();
    const appUrl = `http://127.0.0.1:${port}`;
    const clientId = `local.${randomBytes(6).toString('hex')}.test`;
    const clientSecret = randomBytes(16).toString('hex');
    const tokenKeys = testKeyRing();
    const app = await createApp(
      {
        appBaseUrl: appUrl,
        clientId,
        clientSecret,
        appCode: clientId,
        oauthUrl: `${emulatorUrl}/oauth/token/`,
        tokenKeys,
        rateLimit: options.rateLimit ?? { drainPerSec: 2, capacity: 40 },
        workerConcurrency: options.workerConcurrency ?? 4,
        answerBatchSize: options.answerBatchSize,
      },
      database.db,
      logger,
    );
    stops.push(() => app.stop());
    const server = await buildServer({ logger, notReady: database.db.notReady, routes: app.routes });
    await release();
    await server.listen({ port, host: '127.0.0.1' });
    stops.push(() => server.close());

    await running.registerApplication(applicationFor(appUrl, clientId, clientSecret));

    const memberId = (index = 0) => [...emulator.state.portals.keys()][index]!;
    const rest = async <T>(member: string, method: string, params: Record<string, unknown> = {}): Promise<T> => {
      const portal = emulator.state.portals.get(member)!;
      const [code, hook] = [...portal.webhooks.entries()][0]!;
      const response = await fetch(`${portal.clientEndpoint}${hook.userId}/${code}/${method}.json`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(params),
      });
      const answer = (await response.json()) as { result?: T; error?: string; error_description?: string };
      if (answer.error) throw new Error(`${method}: ${answer.error} ${answer.error_description ?? ''}`);
      return answer.result as T;
    };

    return {
      emulator,
      emulatorUrl,
      database,
      app,
      server,
      appUrl,
      clientId,
      clientSecret,
      tokenKeys,
      logs: () => captured,
      memberId,
      control: running.control as Stack['control'],
      install: (member, mode = 'headless') => running.install(member, clientId, { mode }),
      rest: rest as Stack['rest'],
      templateWith: (member, steps) => running.addTemplate(member, clientId, steps),
      runWorkflow: (member, templateId, documentId, timeoutMs) => running.runWorkflow(member, templateId, { documentId, timeoutMs }),
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
