/**
 * npm run bench:requests — REST requests per completed call, for each robot, counted from the
 * REST journal: every robot runs RUNS times (default 5) as a one-step workflow on the emulator,
 * one call at a time, and the journal lines between one call and the next are its requests —
 * the robot's own (journalled against the call) and its answers (`bizproc.activity.log`,
 * `bizproc.event.send` in batches). The journal is checked against the emulator's own count
 * before each reading. Also the settings page asking for the template list RUNS times.
 */
import type { ActivityNode } from '@b24-automation/emulator';
import { waitFor } from '../support/process.ts';
import { startStack } from '../support/stack.ts';

const RUNS = Number(process.env.RUNS ?? 5);
if (!Number.isInteger(RUNS) || RUNS < 1 || RUNS > 100) throw new Error('RUNS must be a whole number from 1 to 100');

const stack = await startStack({
  logLevel: 'warn',
  emulator: { rateLimit: { drainPerSec: 50, maxBurst: 500 } },
  rateLimit: { drainPerSec: 50, capacity: 400 },
});
const member = stack.memberId(0);
const prisma = stack.database.db.prisma;

/** the journal's line count for the portal, once it matches what the emulator received */
async function journalled(): Promise<number> {
  return waitFor(
    async () => {
      const stats = await stack.control<Record<string, { requests: number }>>('GET', '/_emulator/stats');
      const lines = await prisma.restJournalEntry.count({ where: { memberId: member } });
      return lines === (stats[member]?.requests ?? 0) ? lines + 1 : null;
    },
    20_000,
    'the journal to match the emulator',
  ).then((n) => n - 1);
}

try {
  await stack.install(member, 'headless');
  const node = (Type: string, Name: string, Properties: Record<string, unknown>): ActivityNode => ({ Type, Name, Properties, Children: [] });
  const followUp = await stack.templateWith(member, [node('LogActivity', 'Note', { Text: 'follow-up' })]);
  const review = await stack.templateWith(member, [node('ReviewActivity', 'Review', { Users: ['user_4'], Name: 'Review the deal' })]);
  const approval = await stack.templateWith(member, [node('ApproveActivity', 'Approve', { Users: ['user_1'], Name: 'Approve the deal' })]);
  const startOn = (templateId: number) => stack.control('POST', `/_emulator/portals/${member}/workflows`, { templateId, documentId: ['crm', 'CCrmDocumentDeal', 'DEAL_1'] });

  const robots: Array<{ code: string; properties: Record<string, unknown>; before?: () => Promise<unknown> }> = [
    { code: 'find_user', properties: { user: 'user_3' } },
    { code: 'hash_value', properties: { value: 'abc', algorithm: 'sha256' } },
    { code: 'start_workflow', properties: { template_id: followUp, document_id: 'DEAL_2' } },
    { code: 'stop_workflows', properties: { template_id: review, mode: 'terminate' }, before: () => startOn(review) },
    { code: 'delegate_workflow_tasks', properties: { from_user: 'user_4', to_user: 'user_5' }, before: () => startOn(review) },
    { code: 'complete_workflow_tasks', properties: { user: 'user_1', decision: 'approve' }, before: () => startOn(approval) },
    { code: 'approve_task', properties: { task_id: 1 } },
    { code: 'delegate_task', properties: { task_id: 4, user: 'user_2' } },
  ];
  const missing = [...stack.app.catalog.keys()].filter((code) => !robots.some((r) => r.code === code));
  if (missing.length > 0) throw new Error(`no run for ${missing.join(', ')}: add one to test/bench/requests-per-call.ts`);

  const rows: Array<{ robot: string; first: number; next: number; own: number; answers: number; total: number }> = [];
  for (const robot of robots) {
    const templateId = await stack.templateWith(member, [{ code: robot.code, name: 'Step', properties: robot.properties }]);
    const perCall: Array<{ own: number; answers: number }> = [];
    for (let run = 0; run < RUNS; run += 1) {
      await robot.before?.();
      const start = await journalled();
      const lastBefore = await prisma.restJournalEntry.findFirst({ where: { memberId: member }, orderBy: { id: 'desc' }, select: { id: true } });
      const workflow = await stack.runWorkflow(member, templateId);
      if (workflow.status !== 'completed') throw new Error(`${robot.code}: the workflow ended ${workflow.status}`);
      await waitFor(async () => (await prisma.handlerCall.count({ where: { answeredAt: null } })) === 0, 20_000, 'every call answered');
      const end = await journalled();
      const own = await prisma.restJournalEntry.count({ where: { memberId: member, id: { gt: lastBefore?.id ?? 0n }, callId: { not: null } } });
      perCall.push({ own, answers: end - start - own });
    }
    const mean = (pick: (c: { own: number; answers: number }) => number) => perCall.reduce((sum, c) => sum + pick(c), 0) / perCall.length;
    const own = mean((c) => c.own);
    const answers = mean((c) => c.answers);
    const rest = perCall.slice(1);
    rows.push({
      robot: robot.code,
      first: perCall[0]!.own,
      next: rest.length ? rest.reduce((sum, c) => sum + c.own, 0) / rest.length : perCall[0]!.own,
      own,
      answers,
      total: own + answers,
    });
  }

  // the settings page's template list, asked for RUNS times by an admin
  const token = (await stack.control('POST', `/_emulator/portals/${member}/apps/${stack.clientId}/tokens`, { userId: 1 })).access_token as string;
  const before = await journalled();
  for (let run = 0; run < RUNS; run += 1) {
    const response = await fetch(`${stack.appUrl}/api/templates`, { headers: { authorization: `Bearer ${token}`, 'x-b24-member-id': member } });
    if (response.status !== 200) throw new Error(`GET /api/templates: ${response.status}`);
  }
  const pageRequests = (await journalled()) - before;

  const fmt = (n: number) => (Number.isInteger(n) ? String(n) : n.toFixed(2));
  console.log(`REST requests per completed call (${RUNS} calls per robot, one at a time)\n`);
  console.log('| robot | own, first call | own, next calls | answers | total per call |');
  console.log('| --- | --- | --- | --- | --- |');
  for (const r of rows) console.log(`| \`${r.robot}\` | ${fmt(r.first)} | ${fmt(r.next)} | ${fmt(r.answers)} | ${fmt(r.total)} |`);
  console.log(`\nGET /api/templates ×${RUNS}: ${pageRequests} requests to the portal (frame token check included)`);
  console.log(JSON.stringify({ runs: RUNS, robots: Object.fromEntries(rows.map((r) => [r.robot, { first: r.first, next: r.next, answers: r.answers, total: r.total }])), templatesPage: pageRequests }));
} finally {
  await stack.stop();
}
