/**
 * The queue server under a burst: many workflows started at once reach a handler over a bounded
 * set of kept-alive connections, every call delivered once, and a call's `sentAt` is when a
 * connection took it (not when it joined the wait for one).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { internalTypeOf } from '../src/methods/robots.ts';
import { sequentialTemplate, writeBpt } from '../src/workflow/bpt.ts';
import { QUEUE_SERVER_CONNECTIONS } from '../src/workflow/queue-server.ts';
import { startKit, type Kit } from './support/workflow-kit.ts';

const BURST = 300;

describe('the queue server under a burst', () => {
  let kit: Kit;
  let server: Server;
  let url: string;
  const app = { clientId: 'local.wf.burst', clientSecret: 's' };
  const received: string[] = [];
  let connections = 0;
  let inFlight = 0;
  let mostInFlight = 0;
  /** the handler holds each call this long, so calls pile up behind the connections */
  const holdMs = 20;

  beforeAll(async () => {
    server = createServer((request, response) => {
      inFlight += 1;
      mostInFlight = Math.max(mostInFlight, inFlight);
      const chunks: Buffer[] = [];
      request.on('data', (c: Buffer) => chunks.push(c));
      request.on('end', () => {
        received.push(new URLSearchParams(Buffer.concat(chunks).toString('utf8')).get('workflow_id')!);
        setTimeout(() => {
          inFlight -= 1;
          response.writeHead(200).end('ok');
        }, holdMs);
      });
    });
    server.on('connection', () => (connections += 1));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    kit = await startKit([{ ...app, appUrl: `${url}/app` }]);
    const admin = await kit.sdk(app);
    await admin('bizproc.robot.add', { CODE: 'burst', HANDLER: `${url}/handler`, AUTH_USER_ID: 1, NAME: 'Burst', USE_SUBSCRIPTION: 'N' });
  });
  afterAll(async () => {
    await kit?.close();
    server?.closeAllConnections();
    await new Promise((resolve) => server?.close(resolve));
  });

  it(`delivers ${BURST} calls started together over at most ${QUEUE_SERVER_CONNECTIONS} connections, each once`, async () => {
    const steps = [{ Type: internalTypeOf(app.clientId, 'burst'), Name: 'Burst', Properties: {} }];
    const { id: templateId } = await kit.control('POST', `/_emulator/portals/${kit.member}/templates`, { bpt: writeBpt({ TEMPLATE: sequentialTemplate(steps) }).toString('base64') });
    const { ids } = await kit.control('POST', `/_emulator/portals/${kit.member}/workflows`, { templateId, documentId: ['crm', 'CCrmDocumentDeal', 'DEAL_1'], count: BURST });
    expect(new Set(ids).size).toBe(BURST);
    await vi.waitFor(() => expect(received.length).toBe(BURST), { timeout: 60_000, interval: 50 });
    expect(new Set(received)).toEqual(new Set(ids));
    expect(mostInFlight).toBeGreaterThan(1);
    expect(mostInFlight).toBeLessThanOrEqual(QUEUE_SERVER_CONNECTIONS);
    expect(connections).toBeLessThanOrEqual(QUEUE_SERVER_CONNECTIONS);

    const deliveries = kit.emulator.state.deliveries.filter((d) => ids.includes(d.workflowId));
    await vi.waitFor(() => expect(deliveries.every((d) => d.status === 200)).toBe(true), { timeout: 10_000, interval: 50 });
    // the last calls waited for a connection: queued with the burst, sent once one came free
    const waits = deliveries.map((d) => new Date(d.sentAt!).getTime() - new Date(d.queuedAt).getTime()).sort((a, b) => a - b);
    expect(waits.at(-1)!).toBeGreaterThanOrEqual(holdMs);
  });

  it('refuses a count out of bounds with a clear error and starts nothing', async () => {
    const before = kit.emulator.state.portals.get(kit.member)!.workflows.instances.size;
    await expect(kit.control('POST', `/_emulator/portals/${kit.member}/workflows`, { templateId: 1, documentId: ['crm', 'CCrmDocumentDeal', 'DEAL_1'], count: 0 })).rejects.toThrow(/400.*count/);
    expect(kit.emulator.state.portals.get(kit.member)!.workflows.instances.size).toBe(before);
  });
});
