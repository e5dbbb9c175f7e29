/**
 * Vitest globalSetup: the server built into dist/ (what the spawned apps run), and the emulator's CA, made once per run before the workers start. The workers
 * (pool `forks`) inherit this process's environment, so every test process — and every process a
 * test spawns (process.ts passes both variables on) — trusts the CA through NODE_EXTRA_CA_CERTS
 * alone, as an operator would configure it; the emulators the tests build reuse the same CA
 * through EMULATOR_CA_FILE instead of making their own.
 */
import { execFileSync } from 'node:child_process';
import { emulatorTls, removeTlsFiles } from '@b24-automation/emulator';
import { ROOT } from './process.ts';

export default async function setup(): Promise<() => void> {
  // The tests start the app as `npm start` does, from dist/: built from the sources of this run.
  execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json'], { cwd: ROOT, stdio: 'inherit' });
  const given = process.env.EMULATOR_CA_FILE;
  const started = performance.now();
  const { caFile } = await emulatorTls({ caFile: given });
  if (process.env.TLS_TIMING) console.log(`emulator CA ready in ${Math.round(performance.now() - started)} ms: ${caFile}`);
  process.env.EMULATOR_CA_FILE = caFile;
  process.env.NODE_EXTRA_CA_CERTS = caFile;
  return () => {
    if (!given) removeTlsFiles(caFile);
  };
}
