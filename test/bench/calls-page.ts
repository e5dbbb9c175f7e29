/**
 * `npm run bench:calls`: how fast the calls page answers with a million calls in the table.
 * One portal gets CALLS_ROWS calls (default 1,000,000) spread over 60 days, eight robots and every
 * status; a second portal gets a tenth as many, so the portal filter does real work. Then the
 * page's own requests are timed over HTTP with a real frame token (verified once, then cached,
 * as in use): newest page, filters by robot / status / dates, a deep page by cursor, and one call.
 * Figures, not pass/fail; the last line is JSON.
 */
import { startStack } from '../support/stack.ts';
import { runTrustingEmulatorCa } from '@b24-automation/emulator';

// the emulator is HTTPS: this process must start trusting its CA (NODE_EXTRA_CA_CERTS)
await runTrustingEmulatorCa();

const ROWS = Number(process.env.CALLS_ROWS ?? 1_000_000);
const RUNS = Number(process.env.CALLS_RUNS ?? 40);
const CODES = ['approve_task', 'complete_workflow_tasks', 'delegate_task', 'delegate_workflow_tasks', 'find_user', 'hash_value', 'start_workflow', 'stop_workflows'];

const stack = await startStack({ logLevel: 'warn', workerConcurrency: 0 });
try {
  const [portalA, portalB] = [stack.memberId(0), stack.memberId(1)];
  await stack.install(portalA, 'headless');
  await stack.install(portalB, 'headless');
  const prisma = stack.database.db.prisma;
  const portals = await prisma.portal.findMany({ select: { id: true, memberId: true } });
  const idOf = (member: string) => portals.find((p) => p.memberId === member)!.id;

  const fill = async (portalId: number, rows: number) => {
    const started = performance.now();
    const chunk = 250_000;
    for (let offset = 0; offset < rows; offset += chunk) {
      const count = Math.min(chunk, rows - offset);
      // Statuses as a live table has them: mostly answered, some failed or timed out, a few in flight.
      await prisma.$executeRawUnsafe(`
        INSERT INTO handler_calls (portal_id, code, event_token, workflow_id, document_id, document_type, properties,
          use_subscription, timeout_seconds, status, attempts, error, received_at, started_at, finished_at, answered_at)
        SELECT ${portalId}, (ARRAY[${CODES.map((c) => `'${c}'`).join(',')}])[1 + (g % ${CODES.length})], 'bench-' || ${portalId} || '-' || g, 'wf-' || g,
          ARRAY['crm','CCrmDocumentDeal','DEAL_' || (g % 5000)], ARRAY['crm','CCrmDocumentDeal','DEAL'], '{"value":"x"}'::jsonb,
          true, 0,
          (CASE WHEN g % 50 = 0 THEN 'failed' WHEN g % 97 = 0 THEN 'timed_out' WHEN g % 1000 = 1 THEN 'running' ELSE 'answered' END)::"CallStatus",
          1, CASE WHEN g % 50 = 0 THEN 'bench failure' END,
          ts, ts, ts + interval '40 ms', ts + interval '300 ms'
        FROM generate_series(${offset + 1}, ${offset + count}) AS g,
             LATERAL (SELECT now() - (g::double precision / ${rows}) * interval '60 days' AS ts) AS t`);
    }
    return performance.now() - started;
  };
  const fillMs = (await fill(idOf(portalA), ROWS)) + (await fill(idOf(portalB), Math.round(ROWS / 10)));
  await prisma.$executeRawUnsafe('ANALYZE handler_calls');
  const total = await prisma.handlerCall.count();
  console.log(`table: ${total.toLocaleString('en')} calls (${ROWS.toLocaleString('en')} on the measured portal), filled in ${(fillMs / 1000).toFixed(1)} s`);

  const { access_token: token } = await stack.control('POST', `/_emulator/portals/${portalA}/apps/${stack.clientId}/tokens`, { userId: 1 });
  const get = async (path: string) => {
    const response = await fetch(`${stack.appUrl}${path}`, { headers: { authorization: `Bearer ${token}`, 'x-b24-member-id': portalA } });
    if (!response.ok) throw new Error(`${path}: ${response.status} ${await response.text()}`);
    return response.json() as Promise<any>;
  };
  await get('/api/calls?limit=50');

  const tenDaysAgo = new Date(Date.now() - 10 * 86_400_000).toISOString();
  const nineDaysAgo = new Date(Date.now() - 9 * 86_400_000).toISOString();
  let cursor: string = (await get('/api/calls?limit=50')).next;
  for (let i = 0; i < 200; i += 1) cursor = (await get(`/api/calls?limit=50&before=${cursor}`)).next;
  const someCall = (await get('/api/calls?limit=1&status=failed')).items[0].id;
  const cases: Array<[string, string]> = [
    ['newest 50', '/api/calls?limit=50'],
    ['by robot', '/api/calls?limit=50&code=find_user'],
    ['failed only', '/api/calls?limit=50&status=failed'],
    ['robot + status', '/api/calls?limit=50&code=hash_value&status=failed'],
    ['one day, 10 days ago', `/api/calls?limit=50&from=${tenDaysAgo}&to=${nineDaysAgo}`],
    ['page 202 by cursor', `/api/calls?limit=50&before=${cursor}`],
    ['running (rare)', '/api/calls?limit=50&status=running'],
    ['one call', `/api/calls/${someCall}`],
    ['hourly chart (48 h)', '/api/stats/hourly?hours=48'],
  ];
  const figures: Record<string, { p50: number; p95: number; max: number }> = {};
  console.log(`\n${'request'.padEnd(24)}${'p50 ms'.padStart(9)}${'p95 ms'.padStart(9)}${'max ms'.padStart(9)}   (${RUNS} runs each, over HTTP)`);
  for (const [name, path] of cases) {
    await get(path);
    const times: number[] = [];
    for (let i = 0; i < RUNS; i += 1) {
      const started = performance.now();
      await get(path);
      times.push(performance.now() - started);
    }
    times.sort((a, b) => a - b);
    const at = (p: number) => Math.round(times[Math.min(times.length - 1, Math.floor(p * times.length))]! * 10) / 10;
    figures[name] = { p50: at(0.5), p95: at(0.95), max: at(1) };
    console.log(`${name.padEnd(24)}${String(figures[name].p50).padStart(9)}${String(figures[name].p95).padStart(9)}${String(figures[name].max).padStart(9)}`);
  }
  console.log(JSON.stringify({ bench: 'calls-page', rows: total, measuredPortalRows: ROWS, runs: RUNS, figures }));
} finally {
  await stack.stop();
}
