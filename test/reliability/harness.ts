/**
 * The reliability suite's rig: the emulator in this process, the app as real processes
 * (`node dist/src/main.js`, what `npm start` runs) on one database behind a round-robin TCP balancer (what an
 * operator puts in front of several instances), streams of workflows, and the summary line:
 * what the emulator's queue server sent, what the app acknowledged, what the portal got back.
 */
import { randomBytes } from 'node:crypto';
import { createServer, connect, type Server, type Socket } from 'node:net';
import type { Emulator } from '@b24-automation/emulator';
import { internalTypeOf } from '@b24-automation/emulator';
import type { WorkflowRuntime } from '@b24-automation/emulator';
import { freePort, spawnApp, waitFor, type Spawned } from '../support/process.ts';
import type { AddressInfo } from 'node:net';
import { applicationFor } from '../support/stack.ts';

export const SOAK = process.env.SOAK === '1';

/** Round-robin over the backends that accept a connection; a dead one is skipped. */
export async function startBalancer(backends: number[]): Promise<{ port: number; close(): Promise<void> }> {
  let next = 0;
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    client.pause();
    const tryBackend = (left: number) => {
      if (left === 0) return client.destroy();
      const port = backends[next++ % backends.length]!;
      const upstream = connect(port, '127.0.0.1');
      upstream.once('connect', () => {
        sockets.add(upstream);
        upstream.on('close', () => sockets.delete(upstream));
        client.pipe(upstream).pipe(client);
        client.resume();
        upstream.on('error', () => client.destroy());
        client.on('error', () => upstream.destroy());
      });
      upstream.once('error', () => {
        if (!upstream.readyState || upstream.connecting) tryBackend(left - 1);
      });
    };
    tryBackend(backends.length);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    port,
    close: () =>
      new Promise((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

export interface Instance {
  index: number;
  port: number;
  run: Spawned;
}

export interface Cluster {
  appUrl: string;
  clientId: string;
  instances: Instance[];
  /** kill -9 one instance and start it again once it is gone (the balancer skips it meanwhile) */
  killAndRestart(index: number, downMs?: number): Promise<void>;
  /** One more process on the same database and settings, with `env` on top, outside the balancer (no calls come to it): a process that only runs the queue. */
  startExtra(env: Record<string, string>): Promise<Instance>;
  stop(): Promise<void>;
}

export async function startCluster(options: {
  emulator: Emulator;
  emulatorUrl: string;
  databaseUrl: string;
  processes: number;
  env?: Record<string, string>;
}): Promise<Cluster> {
  const ports = await Promise.all(Array.from({ length: options.processes }, () => freePort()));
  // a copy: processes started later (startExtra) stay outside the balancer
  const balancer = await startBalancer([...ports]);
  const appUrl = `http://127.0.0.1:${balancer.port}`;
  const clientId = `local.${randomBytes(5).toString('hex')}.reliability`;
  const clientSecret = randomBytes(16).toString('hex');
  const env = (port: number) => ({
    PORT: String(port),
    HOST: '127.0.0.1',
    APP_BASE_URL: appUrl,
    DATABASE_URL: options.databaseUrl,
    B24_CLIENT_ID: clientId,
    B24_CLIENT_SECRET: clientSecret,
    B24_OAUTH_URL: `${options.emulatorUrl}/oauth/token/`,
    TOKEN_ENCRYPTION_KEY: sharedKey,
    LOG_LEVEL: process.env.RELIABILITY_LOG_LEVEL ?? 'warn',
    ...options.env,
  });
  const sharedKey = randomBytes(32).toString('hex');
  const instances: Instance[] = [];
  const start = async (index: number, extraEnv: Record<string, string> = {}) => {
    const port = ports[index] ?? (ports[index] = await freePort());
    const run = spawnApp({ ...env(port), ...extraEnv });
    instances[index] = { index, port, run };
    await waitFor(async () => (await fetch(`http://127.0.0.1:${port}/readyz`)).ok, 90_000, `instance ${index} ready`).catch((error) => {
      console.log(run.stdout().slice(-2000), run.stderr().slice(-2000));
      throw error;
    });
    return instances[index]!;
  };
  // The first one applies the migrations; the others start on a migrated database.
  await start(0);
  await Promise.all(ports.slice(1).map((_, i) => start(i + 1)));
  const control = options.emulator;
  options.emulator.state.applications.set(clientId, { ...applicationFor(appUrl, clientId, clientSecret), version: 1, code: clientId });
  return {
    appUrl,
    clientId,
    instances,
    startExtra: (extraEnv) => start(instances.length, extraEnv),
    async killAndRestart(index, downMs = 500) {
      const instance = instances[index]!;
      instance.run.child.kill('SIGKILL');
      await instance.run.exited;
      await new Promise((resolve) => setTimeout(resolve, downMs));
      await start(index);
    },
    async stop() {
      await Promise.all(
        instances.map(async (instance) => {
          instance.run.child.kill('SIGTERM');
          const timer = setTimeout(() => instance.run.child.kill('SIGKILL'), 20_000);
          await instance.run.exited;
          clearTimeout(timer);
        }),
      );
      await balancer.close();
    },
  };
}

/** Installs the app on portals (headless) and waits until each has its robots registered. */
export async function installOn(emulator: Emulator, clientId: string, members: string[], parallel = 8): Promise<void> {
  const queue = [...members];
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      for (let member = queue.shift(); member; member = queue.shift()) {
        const portal = emulator.state.portals.get(member)!;
        await emulator.state.lifecycle.install(portal, clientId, { mode: 'headless' });
        await waitFor(async () => (portal.apps.get(clientId)?.robots.size ?? 0) > 0, 120_000, `robots registered on ${member}`);
      }
    }),
  );
}

/** A template of one hash_value step per portal (the robot does no REST: the answer is the traffic). */
export async function hashTemplate(emulatorUrl: string, member: string, clientId: string): Promise<number> {
  const response = await fetch(`${emulatorUrl}/_emulator/portals/${member}/templates`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ steps: [{ Type: internalTypeOf(clientId, 'hash_value'), Name: 'Hash', Properties: { value: 'reliability' }, Children: [] }], ownerClientId: clientId }),
  });
  return ((await response.json()) as { id: number }).id;
}

export { startWorkflow, inDriverSlot, eachInDriverSlot } from './driver.ts';

/**
 * Waits (bounded) until the queue server has sent `calls` and the portal has taken an answer for
 * every one the app acknowledged; returns either way, so the summary shows what is missing.
 */
export async function settle(emulator: Emulator, calls: number, timeoutMs = 180_000): Promise<void> {
  const { answers } = emulator.state.workflows as WorkflowRuntime;
  await waitFor(
    async () =>
      emulator.state.deliveries.length >= calls &&
      emulator.state.deliveries.filter((d) => d.status === 200).every((d) => (answers.get(d.eventToken!)?.eventSend ?? 0) >= 1),
    timeoutMs,
    'every acknowledged call answered',
  ).catch(() => undefined);
}

export { summarize, type Summary } from './summary.ts';
