/**
 * Drives HTTP load with autocannon in a process of its own, so the load generator never shares
 * the event loop or the CPU accounting of the process it measures.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { ROOT } from '../support/process.ts';

export interface HttpLoad {
  url: string;
  /** form body; every `[<id>]` becomes a fresh id per request (autocannon's -I) */
  body: string;
  connections: number;
  durationSeconds: number;
  /** stop after this many requests instead (durationSeconds is then ignored) */
  amount?: number;
}

export interface HttpFigures {
  requests: number;
  perSecond: number;
  p50ms: number;
  p99ms: number;
  ok2xx: number;
  non2xx: number;
  errors: number;
}

export async function autocannon(load: HttpLoad): Promise<HttpFigures> {
  const args = ['--import', 'tsx', 'test/bench/autocannon-runner.ts', JSON.stringify(load)];
  const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (err += d));
  const [code] = await once(child, 'exit');
  if (code !== 0) throw new Error(`autocannon exited ${code}: ${err.slice(-2000)}`);
  const result = JSON.parse(out) as {
    requests: { total: number; average: number };
    latency: { p50: number; p99: number };
    '2xx': number;
    non2xx: number;
    errors: number;
    timeouts: number;
    duration: number;
  };
  return {
    requests: result.requests.total,
    perSecond: Math.round(result['2xx'] / result.duration),
    p50ms: result.latency.p50,
    p99ms: result.latency.p99,
    ok2xx: result['2xx'],
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
  };
}
