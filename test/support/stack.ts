/**
 * The whole system for end-to-end tests: the portal emulator on its own ports, a fresh
 * PostgreSQL database, the app (createApp) on a real Fastify listening on 127.0.0.1, the app
 * registered with the emulator. App and emulator meet only over HTTP. Logs are captured so a
 * test can read them.
 */
import { randomBytes } from 'node:crypto';
import { emulatorControl } from './emulator-control.ts';
import { Writable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { createApp, type App } from '../../src/app.ts';
import { createLogger } from '../../src/logger.ts';
import type { KeyRing } from '../../src/portals/token-cipher.ts';
import { buildServer } from '../../src/server.ts';
import type { ActivityNode, WorkflowInstance } from '../../src/emulator/contract.ts';
import { internalTypeOf } from '../../src/emulator/methods/robots.ts';
import { buildEmulator, type Emulator, type EmulatorOptions } from '../../src/emulator/server.ts';
import { freshDatabase, type FreshDatabase } from './db.ts';
import { reservePort } from './process.ts';

export interface StackOptions {
  emulator?: EmulatorOptions;
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
  install(memberId: string, mode?: 'frame' | 'headless'): Promise<{ applicationToken: string; tokens: Record<string, any>; frame: { status: number; body: string } | null }>;
  /** REST as the portal's admin through its incoming webhook; throws on an error answer */
  rest<T = any>(memberId: string, method: string, params?: Record<string, unknown>): Promise<T>;
  /** a template whose steps are our handlers by code (Properties as given); returns its id */
  templateWith(memberId: string, steps: Array<{ code: string; name?: string; properties?: Record<string, unknown> } | ActivityNode>): Promise<number>;
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
    const emulator = await buildEmulator({ portals: 2, ...options.emulator });
    const emulatorUrl = await emulator.listen();
    stops.push(() => emulator.close());
    if (process.env.NODE_EXTRA_CA_CERTS !== emulator.caFile) {
      throw new Error(`this process does not trust the emulator's CA ${emulator.caFile}: run it through vitest (test/support/global-setup.ts) or call runTrustingEmulatorCa() (src/emulator/tls.ts) first`);
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

    const control = emulatorControl(emulatorUrl);
    await control('POST', '/_emulator/applications', applicationFor(appUrl, clientId, clientSecret));

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
      control: control as Stack['control'],
      install: (member, mode = 'headless') => control<any>('POST', `/_emulator/portals/${member}/apps/${clientId}/install`, { mode }),
      rest: rest as Stack['rest'],
      async templateWith(member, steps) {
        const nodes = steps.map((step, i): ActivityNode =>
          'Type' in step
            ? step
            : { Type: internalTypeOf(clientId, step.code), Name: step.name ?? `A${i + 1}_${step.code}`, Properties: step.properties ?? {}, Children: [] },
        );
        const { id } = await control<{ id: number }>('POST', `/_emulator/portals/${member}/templates`, { steps: nodes, ownerClientId: clientId });
        return id;
      },
      async runWorkflow(member, templateId, documentId = ['crm', 'CCrmDocumentDeal', 'DEAL_1'], timeoutMs = 30_000) {
        const { id } = await control<{ id: string }>('POST', `/_emulator/portals/${member}/workflows`, { templateId, documentId });
        return control<WorkflowInstance>('GET', `/_emulator/portals/${member}/workflows/${id}?wait=${timeoutMs}`);
      },
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
