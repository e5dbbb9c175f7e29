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

/** Runs a TypeScript entry point; a variable given as undefined in `env` is left unset. */
export function spawnTs(script: string, env: Record<string, string | undefined>): Spawned {
  // node with tsx as a loader: no wrapper process between the test's signals and the program.
  const child = spawn(process.execPath, ['--import', 'tsx', script], { cwd: ROOT, env: { ...inheritedEnv(), ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (err += d));
  const exited = once(child, 'exit').then(([code]) => code as number | null);
  return { child, stdout: () => out, stderr: () => err, exited };
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
