/**
 * The reliability suite's one line per scenario, counted from both sides: what the emulator's
 * queue server sent and heard back (its deliveries), what the portal took (event.send per event
 * token: received, and taken into effect), what our database holds (handler_calls,
 * pending_answers), and the portal's request statistics (503s, token refreshes).
 *
 *   reliability <scenario>: sent=N acknowledged=N answered=N duplicated=0 lost=0 5xx=0 refreshes/portal=max:N | …details
 *
 * - acknowledged: handler calls the app answered 200 (a call is acknowledged only once stored);
 *   stored: rows in handler_calls — a superset when a process died between commit and answer.
 * - answered: acknowledged or stored calls whose event.send the portal took.
 * - duplicated: event tokens for which more than one event.send took effect. Must be 0.
 *   resent-after-unknown-outcome: event tokens the portal received event.send for more than
 *   once — a batch sent again because its first outcome could not be recorded (a kill, an
 *   outage, a lost reply). A portal answers such a repeat `true` and changes nothing, so it is
 *   harmless, but bounded: at most one batch per kill or outage.
 * - lost: acknowledged or stored, never answered, and neither held (its answer waits in
 *   pending_answers for a portal that needs its admin) nor recorded failed with a reason.
 * - 5xx: the app's 5xx answers to handler calls (not counting 503 NOT_STORED, the deliberate
 *   refusal before acknowledgement while the database is down: not-stored-503) plus portal
 *   503 QUERY_LIMIT_EXCEEDED earned by our traffic (injected faults subtracted: portal-503).
 */
import type { Emulator } from '@b24-automation/emulator';
import type { WorkflowRuntime } from '@b24-automation/emulator';
import type { PrismaClient } from '../../src/generated/prisma/client.ts';

export interface Summary {
  sent: number;
  acknowledged: number;
  /** rows in handler_calls for these portals */
  stored: number;
  /** stored but not acknowledged (the process died after committing, before answering 200) */
  storedUnacknowledged: number;
  /** calls we owe an answer: acknowledged or stored */
  owed: number;
  refused: number;
  answered: number;
  held: number;
  failedWithReason: number;
  /** never answered, but recorded failed with a reason (e.g. the portal refused the answer) */
  undeliveredWithReason: number;
  duplicated: number;
  resentAfterUnknownOutcome: number;
  lost: number;
  /** the app's 5xx to handler calls other than 503 NOT_STORED */
  appErrors5xx: number;
  notStored503: number;
  /** portal 503 answers to our requests, injected faults subtracted */
  rateLimited503: number;
  /** errors the emulator was told to inject and did, by kind (`503`, `429`, `drop`, `delay`…) */
  injected: Record<string, number>;
  /** appErrors5xx + rateLimited503 */
  fiveXx: number;
  refreshes: { min: number; max: number };
}

/**
 * What the portal did with the event.send calls for one event token: how many it received and
 * how many took effect (the first one that found its step waiting; every later one is a no-op).
 */
export function eventSends(entry: { eventSend: number; eventSendReceived: number } | undefined): { received: number; tookEffect: number } {
  return { received: entry?.eventSendReceived ?? 0, tookEffect: entry?.eventSend ?? 0 };
}

export async function summarize(scenario: string, emulator: Emulator, prisma: PrismaClient, members: string[]): Promise<Summary> {
  const inScope = new Set(members);
  const deliveries = emulator.state.deliveries.filter((d) => inScope.has(d.memberId));
  const acknowledged = deliveries.filter((d) => d.status === 200);
  const { answers } = emulator.state.workflows as WorkflowRuntime;
  const answerOf = (token: string) => eventSends(answers.get(token)).tookEffect;

  const rows = await prisma.handlerCall.findMany({
    where: { portal: { memberId: { in: members } } },
    select: { eventToken: true, status: true, error: true, _count: { select: { answers: true } } },
  });
  const storedTokens = new Set(rows.map((r) => r.eventToken));
  const acknowledgedTokens = new Set(acknowledged.map((d) => d.eventToken!));
  // Every call the portal may be waiting on because of us: acknowledged, or stored (and so run).
  const owed = new Set([...acknowledgedTokens, ...storedTokens]);
  const row = new Map(rows.map((r) => [r.eventToken, r]));

  const sentTokens = deliveries.map((d) => d.eventToken!);
  const duplicated = new Set(sentTokens.filter((t) => answerOf(t) > 1)).size;
  const resent = new Set(sentTokens.filter((t) => eventSends(answers.get(t)).received > 1)).size;
  let answered = 0;
  let held = 0;
  let undelivered = 0;
  let lost = 0;
  for (const token of owed) {
    if (answerOf(token) >= 1) answered += 1;
    else if ((row.get(token)?._count.answers ?? 0) > 0) held += 1;
    else if (row.get(token)?.status === 'failed' || row.get(token)?.status === 'timed_out') {
      if (row.get(token)!.error) undelivered += 1;
      else lost += 1;
    } else lost += 1;
  }
  const failedWithReason = rows.filter((r) => (r.status === 'failed' || r.status === 'timed_out') && r.error).length;

  const stats = emulator.state.stats.snapshot(emulator.state.grants.refreshes) as Record<string, { byStatus: Record<string, number>; refreshes: number }>;
  const fired = emulator.state.faults.fired;
  const injected: Record<string, number> = {};
  for (const m of members) for (const [kind, n] of Object.entries(fired.get(m) ?? {})) injected[kind] = (injected[kind] ?? 0) + n;
  const portal503 = members.reduce((sum, m) => sum + (stats[m]?.byStatus['503'] ?? 0) - (fired.get(m)?.['503'] ?? 0), 0);
  const refreshes = members.map((m) => stats[m]?.refreshes ?? 0);
  const appErrors5xx = deliveries.filter((d) => (d.status ?? 0) >= 500 && d.status !== 503).length;

  const summary: Summary = {
    sent: deliveries.length,
    acknowledged: acknowledged.length,
    stored: rows.length,
    storedUnacknowledged: [...storedTokens].filter((t) => !acknowledgedTokens.has(t)).length,
    owed: owed.size,
    refused: deliveries.filter((d) => d.status !== 200).length,
    answered,
    held,
    failedWithReason,
    undeliveredWithReason: undelivered,
    duplicated,
    resentAfterUnknownOutcome: resent,
    lost,
    appErrors5xx,
    notStored503: deliveries.filter((d) => d.status === 503).length,
    rateLimited503: portal503,
    injected,
    fiveXx: appErrors5xx + portal503,
    refreshes: { min: Math.min(...refreshes), max: Math.max(...refreshes) },
  };
  const injectedText = Object.entries(injected)
    .map(([kind, n]) => `${kind}:${n}`)
    .join(',');
  console.log(
    `reliability ${scenario}: sent=${summary.sent} acknowledged=${summary.acknowledged} answered=${summary.answered} ` +
      `duplicated=${summary.duplicated} lost=${summary.lost} 5xx=${summary.fiveXx} refreshes/portal=max:${summary.refreshes.max} | ` +
      `stored=${summary.stored} stored-unacknowledged=${summary.storedUnacknowledged} refused-before-ack=${summary.refused} ` +
      `held-for-later=${summary.held} failed-with-reason=${summary.failedWithReason} undelivered-with-reason=${summary.undeliveredWithReason} ` +
      `resent-after-unknown-outcome=${summary.resentAfterUnknownOutcome} app-5xx=${summary.appErrors5xx} not-stored-503=${summary.notStored503} ` +
      `portal-503=${summary.rateLimited503} injected=${injectedText || 'none'} refreshes/portal=${summary.refreshes.min}..${summary.refreshes.max} ` +
      `(${members.length} portal${members.length === 1 ? '' : 's'})`,
  );
  return summary;
}
