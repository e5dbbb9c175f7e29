/**
 * How much work waits, read from the database when Prometheus scrapes (one statement): calls
 * stored but not yet run to the end, and answers not yet taken by their portal, with the age of
 * the oldest of each. Read from the tables every process shares, so each process reports the
 * whole deployment's queue (aggregate with max(), not sum()).
 */
import { Gauge, Registry } from 'prom-client';
import type { PrismaClient } from '../generated/prisma/client.ts';

interface DepthRow {
  queue: 'calls' | 'answers';
  depth: number;
  oldest: number | null;
}

const DEPTH_SQL = `
  SELECT 'calls' AS queue, count(*)::int AS depth, extract(epoch FROM now() - min(received_at))::float8 AS oldest
  FROM handler_calls WHERE finished_at IS NULL
  UNION ALL
  SELECT 'answers', count(*)::int, extract(epoch FROM now() - min(created_at))::float8 FROM pending_answers`;

/** A registry holding the two gauges, both filled from one query per scrape. */
export function queueDepthRegistry(prisma: PrismaClient): Registry {
  const registry = new Registry();
  let sample: { at: number; rows: Promise<DepthRow[]> } | null = null;
  // Both gauges are collected in one scrape: the second reuses the first one's answer.
  const rows = () => {
    if (!sample || Date.now() - sample.at > 1_000) sample = { at: Date.now(), rows: prisma.$queryRawUnsafe<DepthRow[]>(DEPTH_SQL) };
    return sample.rows;
  };
  const fill = async (gauge: Gauge<'queue'>, value: (row: DepthRow) => number) => {
    gauge.reset();
    try {
      for (const row of await rows()) gauge.set({ queue: row.queue }, value(row));
    } catch {
      // database unreachable: no sample (readiness says why); the rest of the scrape still answers
    }
  };
  new Gauge({
    name: 'b24_queue_depth',
    help: 'Work waiting in the shared database: calls not yet run to the end, answers not yet taken by the portal',
    labelNames: ['queue'] as const,
    registers: [registry],
    async collect() {
      await fill(this, (row) => row.depth);
    },
  });
  new Gauge({
    name: 'b24_queue_oldest_seconds',
    help: 'Age of the oldest waiting call or answer (0 when none waits)',
    labelNames: ['queue'] as const,
    registers: [registry],
    async collect() {
      await fill(this, (row) => row.oldest ?? 0);
    },
  });
  return registry;
}
