/**
 * The `b24-emulator` command line as a child process: its output, its exit code, and the ready
 * line it prints once it serves (or the reason it exited before).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import type { EmulatorSummary } from '../../src/index.ts';

export const PACKAGE_ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface CliRun {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  exited: Promise<number | null>;
  /** the first line of stdout, parsed; rejects if the process exits first */
  ready: Promise<EmulatorSummary>;
  /** SIGTERM, then its exit code */
  stop(): Promise<number | null>;
}

/** Runs `command` (an executable and its arguments) with only the environment given. */
export function runCli(command: [string, ...string[]], options: { cwd: string; env: Record<string, string | undefined> }): CliRun {
  const child = spawn(command[0], command.slice(1), { cwd: options.cwd, env: options.env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stderr!.on('data', (d) => (err += d));
  const exited = once(child, 'exit').then(([code]) => code as number | null);
  const ready = new Promise<EmulatorSummary>((resolve, reject) => {
    child.stdout!.on('data', (d) => {
      out += d;
      const end = out.indexOf('\n');
      if (end < 0) return;
      try {
        resolve(JSON.parse(out.slice(0, end)) as EmulatorSummary);
      } catch {
        reject(new Error(`b24-emulator's first line is not its ready line: ${out.slice(0, end)}`));
      }
    });
    void exited.then((code) => reject(new Error(`b24-emulator exited (${code}) before its ready line: ${err}`)));
  });
  ready.catch(() => undefined);
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    exited,
    ready,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
}

/** The command line from the package's sources (tsx), as `npm run emulator` starts it. */
export function runSourceCli(args: string[], env: Record<string, string | undefined> = {}): CliRun {
  const { PATH, HOME } = process.env;
  return runCli([process.execPath, '--import', 'tsx', 'src/cli.ts', ...args], { cwd: PACKAGE_ROOT, env: { PATH, HOME, ...env } });
}
