/**
 * An emulator with one portal and an application installed on it, a receiver for the app's
 * events and handler calls, and three ways to talk to it: the control API, raw REST over fetch
 * (to see status, error texts and the exact JSON), and the official SDK.
 */
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startEmulator, type Emulator, type Grant } from '../../src/index.ts';
import { sdkCaller, sdkFromGrant } from './sdk.ts';

export interface App {
  clientId: string;
  clientSecret: string;
}

export interface Harness {
  emulator: Emulator;
  base: string;
  member: string;
  receiverUrl: string;
  received: Array<{ url: string; body: string }>;
  control(method: string, path: string, body?: unknown): Promise<any>;
  /** a fresh grant as a user of the portal for an installed app (the control API's answer) */
  token(app: App, userId?: number): Promise<Grant>;
  /** POST JSON to a REST URL: status and body as the portal sent them */
  rest(url: string, params?: Record<string, unknown>): Promise<{ status: number; body: any; text: string }>;
  /** the official SDK as a user: the method's result, or the error code and HTTP status */
  sdk(app: App, userId?: number): Promise<(method: string, params?: Record<string, unknown>) => Promise<{ result?: any; error?: string; status?: number }>>;
  close(): Promise<void>;
}

/** A plain HTTP server standing in for the app: records every request the emulator sends it. */
export async function startReceiver(): Promise<{ server: Server; url: string; received: Array<{ url: string; body: string }> }> {
  const received: Array<{ url: string; body: string }> = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      received.push({ url: req.url!, body });
      res.end('ok');
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, received };
}

export async function startHarness(app: App): Promise<Harness> {
  const { server: receiver, url: receiverUrl, received } = await startReceiver();
  const running = await startEmulator({ portals: 1 });
  const { server: emulator, baseUrl: base, control } = running;
  const member = running.portals[0]!.memberId;
  const token: Harness['token'] = (a, userId = 1) => running.token(member, a.clientId, userId);
  const rest: Harness['rest'] = async (url, params = {}) => {
    const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(params), redirect: 'manual' });
    const text = await response.text();
    // `text` (the JSON exactly as sent) stays out of equality checks on {status, body}
    return Object.defineProperty({ status: response.status, body: text ? JSON.parse(text) : null }, 'text', { value: text, enumerable: false }) as { status: number; body: any; text: string };
  };
  const sdk: Harness['sdk'] = async (a, userId = 1) => {
    const t = await token(a, userId);
    return sdkCaller(sdkFromGrant(t, a));
  };

  await running.registerApplication({ ...app, appUrl: `${receiverUrl}/app`, eventUrl: `${receiverUrl}/events` });
  await running.install(member, app.clientId);
  return {
    emulator,
    base,
    member,
    receiverUrl,
    received,
    control,
    token,
    rest,
    sdk,
    async close() {
      await running.stop();
      receiver.close();
    },
  };
}
