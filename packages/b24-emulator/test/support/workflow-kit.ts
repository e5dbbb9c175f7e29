/**
 * What the workflow-side emulator tests share: an emulator on a real port, apps installed on its
 * portal, REST calls through the official SDK or as raw HTTP (to read a body exactly), and a
 * handler server that records what the queue server POSTs.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import qs from 'qs';
import { startEmulator, type Emulator } from '../../src/index.ts';
import { sdkCaller, sdkFromGrant } from './sdk.ts';

export interface App {
  clientId: string;
  clientSecret: string;
}

export interface Kit {
  emulator: Emulator;
  base: string;
  member: string;
  control: (method: string, path: string, body?: unknown) => Promise<any>;
  /** a REST caller through the SDK: `{result, total}` or `{error, status}` */
  sdk: (app: App, userId?: number) => Promise<(method: string, params?: Record<string, unknown>) => Promise<any>>;
  /** a REST call as raw HTTP: the status and the body as the portal wrote it */
  raw: (app: App, userId: number, method: string, params: Record<string, unknown>) => Promise<{ status: number; body: any }>;
  close: () => Promise<void>;
}

export async function startKit(apps: Array<App & { appUrl?: string }>): Promise<Kit> {
  const running = await startEmulator({ portals: 1, rateLimit: { drainPerSec: 500, maxBurst: 5000 } });
  const { server: emulator, baseUrl: base, control } = running;
  const member = running.portals[0]!.memberId;
  const tokens = (app: App, userId: number) => running.token(member, app.clientId, userId);
  for (const app of apps) {
    await running.registerApplication({ clientId: app.clientId, clientSecret: app.clientSecret, appUrl: app.appUrl ?? 'http://127.0.0.1:9/app' });
    await running.install(member, app.clientId);
  }
  const sdk = async (app: App, userId = 1) => {
    const t = await tokens(app, userId);
    return sdkCaller(sdkFromGrant({ ...t, user_id: userId, member_id: member }, app), { withTotal: true });
  };
  const raw = async (app: App, userId: number, method: string, params: Record<string, unknown>) => {
    const t = await tokens(app, userId);
    const response = await fetch(`${t.client_endpoint}${method}.json`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ...params, auth: t.access_token }) });
    return { status: response.status, body: await response.json() };
  };
  return { emulator, base, member, control, sdk, raw, close: () => running.stop() };
}

/** A handler server: records each POST's body (qs-parsed, as an app reads it) and answers 200. */
export async function startHandlerServer(): Promise<{ url: string; calls: Array<Record<string, any>>; close: () => Promise<void> }> {
  const calls: Array<Record<string, any>> = [];
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (c: Buffer) => chunks.push(c));
    request.on('end', () => {
      calls.push(qs.parse(Buffer.concat(chunks).toString('utf8'), { depth: 5 }) as Record<string, any>);
      response.writeHead(200).end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, calls, close: () => new Promise((resolve) => server.close(() => resolve())) };
}
