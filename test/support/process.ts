/** Running the real entry points as child processes, the way an operator does. */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface Spawned {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<number | null>;
}

/** What every spawned program inherits: the shell basics and the trust in the emulator's CA (global-setup.ts). */
export function inheritedEnv(): Record<string, string | undefined> {
  const { PATH, HOME, NODE_EXTRA_CA_CERTS, EMULATOR_CA_FILE } = process.env;
  return { PATH, HOME, NODE_EXTRA_CA_CERTS, EMULATOR_CA_FILE };
}

/** What `npm start` runs: the server as `npm run build` compiled it (global-setup.ts builds it). */
export const APP_ENTRY = 'dist/src/main.js';

/**
 * Runs the app as `npm start` does; a variable given as undefined in `env` is left unset.
 * APP_NODE_ARGS (space-separated) goes to node before the entry: flags NODE_OPTIONS refuses, such
 * as `--cpu-prof --cpu-prof-dir=/tmp/prof` to profile the app under a bench.
 */
export function spawnApp(env: Record<string, string | undefined>): Spawned {
  const nodeArgs = process.env.APP_NODE_ARGS?.split(' ').filter(Boolean) ?? [];
  return spawnNode([...nodeArgs, APP_ENTRY], env);
}

/** Runs a TypeScript entry point (a CLI, a script, a test's helper) through tsx, the workspace's packages as sources (tsconfig's customConditions). */
export function spawnTs(script: string, env: Record<string, string | undefined>): Spawned {
  return spawnNode(['--conditions=b24-automation-source', '--import', 'tsx', script], env);
}

function spawnNode(args: string[], env: Record<string, string | undefined>): Spawned {
  // node itself, no npm or shell between the test's signals and the program.
  const child = spawn(process.execPath, args, { cwd: ROOT, env: { ...inheritedEnv(), ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (err += d));
  const exited = once(child, 'exit').then(([code]) => code as number | null);
  return { child, stdout: () => out, stderr: () => err, exited };
}

/**
 * A port held by this process until `release()`: for a server whose address must be known before
 * it can listen (the app's own URL is part of its settings). Between freePort() and a listen
 * seconds later another test process could take the port (seen: EADDRINUSE with two vitest
 * processes); held, the window is the moment between release and listen.
 */
export async function reservePort(): Promise<{ port: number; release: () => Promise<void> }> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  return {
    port,
    release: async () => {
      server.close();
      await once(server, 'close');
    },
  };
}

export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  server.close();
  await once(server, 'close');
  return port;
}

export async function waitFor<T>(probe: () => Promise<T | undefined | null | false>, timeoutMs = 60_000, what = 'condition'): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    try {
      const value = await probe();
      if (value) return value;
    } catch {
      // not yet
    }
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * POSTs a body declared as `declaredLength` bytes but writes only its first chunk, then waits for
 * the answer: how a client meets a server that refuses an oversized body from its headers.
 */
export async function postDeclaringLength(url: string, contentType: string, declaredLength: number): Promise<number> {
  const { request } = await import('node:http');
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', headers: { 'content-type': contentType, 'content-length': declaredLength } }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.write('event=ONAPPINSTALL&data=');
  });
}
