/**
 * The queue server: POSTs an app step to its HANDLER exactly as a portal does (protocol notes
 * §1) — form-encoded, PHP bracket keys, fields in the portal's order, the auth block of the
 * robot's AUTH_USER_ID. No retries: a handler that fails or is unreachable loses the call.
 */
import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { ActivityRegistration, EmulatorContext, Portal, QueueDelivery } from '../contract.ts';

export interface HandlerCall {
  registration: ActivityRegistration;
  workflowId: string;
  document: [string, string, string];
  documentType: [string, string, string];
  eventToken: string;
  /** already externalised (values.ts): a string, or an array for several values */
  properties: Record<string, string | string[]>;
  useSubscription: 'Y' | 'N';
  timeoutSeconds: number;
  userId: number;
}

const enc = encodeURIComponent;

/**
 * Field pairs in the portal's order (restactivity.php execute: workflow_id, code, document_id,
 * document_type, event_token, properties, use_subscription, timeout_duration, ts, then the auth
 * block of sendAuth + sendRefreshToken); several values as NAME[0], NAME[1]…
 */
export function handlerFields(ctx: EmulatorContext, portal: Portal, call: HandlerCall): Array<[string, string]> {
  const installation = portal.apps.get(call.registration.clientId)!;
  const grant = ctx.issueGrant(portal, call.registration.clientId, call.userId);
  const fields: Array<[string, string]> = [
    ['workflow_id', call.workflowId],
    ['code', call.registration.code],
    ...call.document.map((part, i): [string, string] => [`document_id[${i}]`, part]),
    ...(portal.kind === 'on-premise' ? [] : call.documentType.map((part, i): [string, string] => [`document_type[${i}]`, part])),
    ['event_token', call.eventToken],
  ];
  for (const [name, value] of Object.entries(call.properties)) {
    if (Array.isArray(value)) value.forEach((v, i) => fields.push([`properties[${name}][${i}]`, v]));
    else fields.push([`properties[${name}]`, value]);
  }
  fields.push(
    ['use_subscription', call.useSubscription],
    ['timeout_duration', String(call.timeoutSeconds)],
    ['ts', String(Math.floor(Date.now() / 1000))],
    ['auth[access_token]', grant.accessToken],
    ['auth[expires]', String(Math.floor(grant.accessExpiresAt / 1000))],
    ['auth[expires_in]', String(Math.round((grant.accessExpiresAt - Date.now()) / 1000))],
    ['auth[scope]', grant.scope.join(',')],
    ['auth[domain]', portal.domain],
    ['auth[server_endpoint]', `${ctx.config.baseUrl}/rest/`],
    ['auth[status]', 'L'],
    ['auth[client_endpoint]', portal.clientEndpoint],
    ['auth[member_id]', portal.memberId],
    ['auth[user_id]', String(call.userId)],
    ...(portal.kind === 'on-premise' ? [] : [['auth[refresh_token]', grant.refreshToken] as [string, string]]),
    ['auth[application_token]', installation.applicationToken],
  );
  return fields;
}

/**
 * Connections the queue server keeps to one handler host, at most. Bitrix24's queue server is a
 * closed service whose pool size is not published (the protocol notes say only that it "slows
 * delivery to handlers that answer slowly"): this bound is the emulator's choice. Unbounded, a
 * burst of 3,000 workflows opened 3,000 connections to the app at once; past the listen backlog
 * the kernel dropped SYNs and their retries (1 s, 3 s) became the app's p99.
 */
export const QUEUE_SERVER_CONNECTIONS = 64;

/** what fetch (undici's keepAliveTimeout) kept an idle connection, which the queue server used before */
const IDLE_CONNECTION_MS = 4_000;

/**
 * The queue server's HTTP client: keep-alive connections, `connections` of them a host at most,
 * further calls waiting for a free one. node:http rather than fetch: fetch's WHATWG streams cost
 * the emulator more CPU a call than the app spends serving it, and a benchmark of the app on a
 * 2-core machine then measured the emulator.
 */
export class QueueServer {
  private readonly agents: { http: HttpAgent; https: HttpsAgent };

  constructor(private readonly ctx: EmulatorContext, connections = QUEUE_SERVER_CONNECTIONS) {
    // An idle connection is closed after IDLE_CONNECTION_MS, well before a handler's server closes
    // it (Fastify's keep-alive is 72 s): a call is never written to a socket the other side is
    // closing that very moment, which would lose it (no retries). A call in flight has its own 30 s.
    const options = { keepAlive: true, maxSockets: connections, scheduling: 'fifo' as const, timeout: IDLE_CONNECTION_MS };
    this.agents = { http: new HttpAgent(options), https: new HttpsAgent(options) };
  }

  /** Delivers one call; true when the handler answered 2xx. */
  deliver(portal: Portal, call: HandlerCall): Promise<boolean> {
    const fields = handlerFields(this.ctx, portal, call);
    const body = fields.map(([k, v]) => `${enc(k)}=${enc(v)}`).join('&');
    const delivery: QueueDelivery = {
      id: this.ctx.deliveries.length + 1,
      memberId: portal.memberId,
      url: call.registration.handler,
      body,
      fields,
      queuedAt: new Date().toISOString(),
      sentAt: null,
      status: null,
      eventToken: call.eventToken,
      workflowId: call.workflowId,
    };
    this.ctx.deliveries.push(delivery);
    return new Promise<boolean>((resolve) => {
      const fail = (error: Error) => {
        delivery.error = error.message;
        resolve(false);
      };
      let url: URL;
      try {
        url = new URL(call.registration.handler);
      } catch (error) {
        return fail(error as Error);
      }
      const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
      const request = send(url, {
        method: 'POST',
        agent: url.protocol === 'https:' ? this.agents.https : this.agents.http,
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-length': Buffer.byteLength(body) },
        timeout: 30_000,
      });
      // the call is sent when a connection takes it, not when it joins the wait for one
      request.once('socket', () => (delivery.sentAt = new Date().toISOString()));
      request.once('timeout', () => request.destroy(new Error('The handler did not answer within 30 s')));
      request.once('error', fail);
      request.once('response', (response) => {
        delivery.status = response.statusCode ?? null;
        response.resume();
        response.once('end', () => resolve((response.statusCode ?? 0) >= 200 && (response.statusCode ?? 0) < 300));
        response.once('error', fail);
      });
      request.end(body);
    });
  }

  close(): void {
    this.agents.http.destroy();
    this.agents.https.destroy();
  }
}
