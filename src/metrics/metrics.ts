/**
 * The app's Prometheus metrics: one registry for the process, and one recording function per
 * thing counted, so each site in the code is one line. Labels are small fixed sets (reasons,
 * outcomes, methods of ours); never a token, a portal or anything a request chose.
 * Exposed by exposition.ts, only when configured.
 */
import { Counter, Histogram, Registry } from 'prom-client';

export const registry = new Registry();

const acknowledged = new Counter({
  name: 'b24_handler_calls_acknowledged_total',
  help: 'Robot and action calls stored and acknowledged with 200 (duplicate: an event_token already stored)',
  labelNames: ['duplicate'] as const,
  registers: [registry],
});

/** Why a handler call was not acknowledged (handler-route.ts). */
export type CallRefusal = 'unknown_handler' | 'invalid_call' | 'unauthenticated' | 'not_installed' | 'not_stored';
const refused = new Counter({
  name: 'b24_handler_calls_refused_total',
  help: 'Robot and action calls answered with an error and not stored, by reason',
  labelNames: ['reason'] as const,
  registers: [registry],
});

const answersSent = new Counter({
  name: 'b24_answers_sent_total',
  help: 'Answers the portal took (bizproc.event.send, bizproc.activity.log)',
  labelNames: ['method'] as const,
  registers: [registry],
});

const answersFailed = new Counter({
  name: 'b24_answers_failed_total',
  help: 'Answers the portal refused or that did not get through: retried later, or dropped for good',
  labelNames: ['method', 'outcome'] as const,
  registers: [registry],
});

const answerLag = new Histogram({
  name: 'b24_call_answer_lag_seconds',
  help: 'From a call stored to its answer taken by the portal (bizproc.event.send)',
  buckets: [0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300, 900, 3600],
  registers: [registry],
});

const portalRequests = new Counter({
  name: 'b24_portal_requests_total',
  help: 'REST requests to portals, by outcome (service_unavailable: the portal answered 503)',
  labelNames: ['outcome'] as const,
  registers: [registry],
});

export type RefreshOutcome = 'refreshed' | 'refused' | 'failed';
const tokenRefreshes = new Counter({
  name: 'b24_token_refreshes_total',
  help: 'OAuth token refreshes: refreshed, refused for good (an admin must open the app), failed (tried again later)',
  labelNames: ['outcome'] as const,
  registers: [registry],
});

export type IdentityCheck = 'portal_request' | 'frame';
/** Why a sender was not proven: a fixed set, never the value the request carried. */
export type IdentityRefusal = 'malformed_member_id' | 'unknown_portal_or_token' | 'no_auth' | 'not_installed' | 'invalid_token' | 'not_admin';
const identityRefusals = new Counter({
  name: 'b24_identity_refusals_total',
  help: 'Requests whose sender could not be proven: portal requests (events, handler calls) and frame pages',
  labelNames: ['check', 'reason'] as const,
  registers: [registry],
});

export type LifecycleEvent = 'install' | 'update' | 'uninstall';
const lifecycle = new Counter({
  name: 'b24_lifecycle_events_total',
  help: 'App installs, updates and uninstalls on portals',
  labelNames: ['event'] as const,
  registers: [registry],
});

const ANSWER_METHODS = new Set(['bizproc.event.send', 'bizproc.activity.log']);
const methodLabel = (method: string) => (ANSWER_METHODS.has(method) ? method : 'other');

/** A portal request's outcome from the error it ended with (PortalCallError: status and code). */
function requestOutcome(error: { status?: unknown; code?: unknown }): string {
  const status = typeof error.status === 'number' ? error.status : -1;
  const code = String(error.code ?? '');
  if (code === 'PORTAL_UNAVAILABLE') return 'portal_unavailable';
  if (status === 503) return 'service_unavailable';
  if (status === 429 || code === 'QUERY_LIMIT_EXCEEDED' || code === 'OPERATION_TIME_LIMIT') return 'rate_limited';
  if (status === 401 || code === 'expired_token' || code === 'invalid_token') return 'unauthorized';
  if (status === 0) return 'network_error';
  if (status >= 500) return 'server_error';
  if (status >= 300 && status < 400) return 'redirect';
  return 'refused';
}

export const metrics = {
  callAcknowledged(duplicate: boolean): void {
    acknowledged.inc({ duplicate: String(duplicate) });
  },
  callRefused(reason: CallRefusal): void {
    refused.inc({ reason });
  },
  /** An answer the portal took; for a call's answer, how long after the call was stored (`receivedMs`: epoch ms). */
  answerSent(method: string, receivedMs?: number | null): void {
    answersSent.inc({ method: methodLabel(method) });
    if (method === 'bizproc.event.send' && typeof receivedMs === 'number') answerLag.observe(Math.max(0, Date.now() - receivedMs) / 1000);
  },
  /** The answers of one batch the portal took: outcomes in the answers' order. */
  batchAnswered(answers: ReadonlyArray<{ method: string; receivedMs?: number | null }>, outcomes: ReadonlyArray<{ ok: boolean }>): void {
    answers.forEach((answer, index) => {
      if (outcomes[index]?.ok) metrics.answerSent(answer.method, answer.receivedMs);
    });
  },
  answerFailed(method: string, dropped: boolean): void {
    answersFailed.inc({ method: methodLabel(method), outcome: dropped ? 'dropped' : 'retried' });
  },
  portalRequestSucceeded(): void {
    portalRequests.inc({ outcome: 'ok' });
  },
  /** Counts the failure and hands the error back, for `throw metrics.portalRequestFailed(error)`. */
  portalRequestFailed<E extends Error>(error: E): E {
    portalRequests.inc({ outcome: requestOutcome(error as { status?: unknown; code?: unknown }) });
    return error;
  },
  tokenRefresh(outcome: RefreshOutcome): void {
    tokenRefreshes.inc({ outcome });
  },
  identityRefused(check: IdentityCheck, reason: IdentityRefusal): void {
    identityRefusals.inc({ check, reason });
  },
  lifecycle(event: LifecycleEvent): void {
    lifecycle.inc({ event });
  },
};
