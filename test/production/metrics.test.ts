/**
 * /metrics after real robot calls: the app with the emulator (test/support/stack.ts), the
 * metrics on a listener of their own behind a token, scraped before and after; every counter
 * must have moved by what the test did, no more, no less.
 */
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMetricsServer } from '../../src/metrics/exposition.ts';
import { waitFor } from '../support/process.ts';
import { startStack, type Stack } from '../support/stack.ts';
import { scrape, type Samples } from './scrape.ts';

const FORM = { 'content-type': 'application/x-www-form-urlencoded' };
const CALLS = 6;

describe('metrics', () => {
  let stack: Stack;
  let metricsServer: FastifyInstance;
  let metricsUrl: string;
  let member: string;
  const token = randomBytes(24).toString('hex');
  const read = () => scrape(metricsUrl, token);
  const moved = (before: Samples, after: Samples) => (name: string, labels?: Record<string, string>) => after(name, labels) - before(name, labels);

  beforeAll(async () => {
    stack = await startStack({ emulator: { rateLimit: { drainPerSec: 20, maxBurst: 200 } }, rateLimit: { drainPerSec: 20, capacity: 150 } });
    metricsServer = await startMetricsServer({ port: 0, host: '127.0.0.1', token }, stack.database.db.prisma);
    metricsUrl = `http://127.0.0.1:${(metricsServer.server.address() as AddressInfo).port}/metrics`;
    member = stack.memberId(0);
  });
  afterAll(async () => {
    await metricsServer?.close();
    await stack?.stop();
  });

  it('is refused without the token, or with another one', async () => {
    expect((await fetch(metricsUrl)).status).toBe(401);
    expect((await fetch(metricsUrl, { headers: { authorization: `Bearer ${token}x` } })).status).toBe(401);
    expect((await fetch(metricsUrl, { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
  });

  it(`after an install and ${CALLS} robot calls (one answer batch refused with 503): acknowledged = answered = ${CALLS}`, async () => {
    const before = await read();
    await stack.install(member, 'headless');
    await stack.control('POST', '/_emulator/faults', { method: 'batch', memberId: member, remaining: 1, error: { code: 'SERVICE_UNAVAILABLE', status: 503 } });
    const templateId = await stack.templateWith(member, [{ code: 'hash_value', name: 'Hash', properties: { value: 'metrics' } }]);
    const workflows = await Promise.all(Array.from({ length: CALLS }, () => stack.runWorkflow(member, templateId)));
    expect(workflows.map((w) => w.status)).toEqual(workflows.map(() => 'completed'));
    // The portal moves on when it takes an answer; our bookkeeping (and its counters) a moment later.
    await waitFor(async () => (await stack.database.db.prisma.handlerCall.count({ where: { answeredAt: { not: null } } })) === CALLS);
    const after = await read();
    const delta = moved(before, after);

    expect(delta('b24_lifecycle_events_total', { event: 'install' })).toBe(1);
    expect(delta('b24_handler_calls_acknowledged_total', { duplicate: 'false' })).toBe(CALLS);
    expect(delta('b24_handler_calls_acknowledged_total', { duplicate: 'true' })).toBe(0);
    expect(delta('b24_answers_sent_total', { method: 'bizproc.event.send' })).toBe(CALLS);
    expect(delta('b24_call_answer_lag_seconds_count')).toBe(CALLS);
    expect(delta('b24_call_answer_lag_seconds_sum')).toBeGreaterThan(0);
    // The refused batch carried at least one answer; each was sent again and counted once as sent.
    expect(delta('b24_portal_requests_total', { outcome: 'service_unavailable' })).toBe(1);
    expect(delta('b24_answers_failed_total', { method: 'bizproc.event.send', outcome: 'retried' })).toBeGreaterThanOrEqual(1);
    expect(delta('b24_answers_failed_total', { method: 'bizproc.event.send', outcome: 'dropped' })).toBe(0);
    // The install's registration requests (bizproc.robot.add, event.bind, …) and the answer batches.
    expect(delta('b24_portal_requests_total', { outcome: 'ok' })).toBeGreaterThan(2);
    expect(delta('b24_token_refreshes_total', { outcome: 'refreshed' })).toBe(0);
    expect(after('b24_queue_depth', { queue: 'calls' })).toBe(0);
    expect(after('b24_queue_depth', { queue: 'answers' })).toBe(0);
    // Node's own metrics come along.
    expect(after('process_cpu_user_seconds_total')).toBeGreaterThan(0);
    expect(after('nodejs_heap_size_used_bytes')).toBeGreaterThan(0);
  });

  it('counts a token refresh, refused calls by reason and refused identity checks', async () => {
    const before = await read();
    await stack.control('POST', `/_emulator/portals/${member}/expire-tokens`);
    const templateId = await stack.templateWith(member, [{ code: 'find_user', name: 'FindUser', properties: { user: 'user_3' } }]);
    expect((await stack.runWorkflow(member, templateId)).status).toBe('completed');

    const call = (code: string, token: string) =>
      fetch(`${stack.appUrl}/handlers/${code}`, {
        method: 'POST',
        headers: FORM,
        body: new URLSearchParams({ workflow_id: 'wf-m', code, event_token: 'tok-m', 'document_id[0]': 'crm', 'document_id[1]': 'CCrmDocumentDeal', 'document_id[2]': 'DEAL_1', 'auth[member_id]': member, 'auth[application_token]': token }),
      });
    expect((await call('hash_value', 'not-the-token')).status).toBe(401);
    expect((await call('no_such_robot', 'not-the-token')).status).toBe(404);
    expect((await fetch(`${stack.appUrl}/api/status`)).status).toBe(401);
    await waitFor(async () => (await stack.database.db.prisma.handlerCall.count({ where: { answeredAt: { not: null } } })) === CALLS + 1);
    await stack.control('POST', `/_emulator/portals/${member}/apps/${stack.clientId}/uninstall`, { clean: false });
    await waitFor(async () => (await stack.database.db.prisma.portal.findFirst({ where: { memberId: member, state: 'uninstalled' } })) !== null);
    const delta = moved(before, await read());

    expect(delta('b24_token_refreshes_total', { outcome: 'refreshed' })).toBe(1);
    expect(delta('b24_handler_calls_acknowledged_total', { duplicate: 'false' })).toBe(1);
    expect(delta('b24_answers_sent_total', { method: 'bizproc.event.send' })).toBe(1);
    expect(delta('b24_handler_calls_refused_total', { reason: 'unauthenticated' })).toBe(1);
    expect(delta('b24_handler_calls_refused_total', { reason: 'unknown_handler' })).toBe(1);
    expect(delta('b24_identity_refusals_total', { check: 'portal_request', reason: 'unknown_portal_or_token' })).toBe(1);
    expect(delta('b24_identity_refusals_total', { check: 'frame', reason: 'no_auth' })).toBe(1);
    expect(delta('b24_lifecycle_events_total', { event: 'uninstall' })).toBe(1);
  });
});
