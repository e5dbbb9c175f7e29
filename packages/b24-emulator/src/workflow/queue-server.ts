/**
 * The queue server: POSTs an app step to its HANDLER exactly as a portal does (protocol notes
 * §1) — form-encoded, PHP bracket keys, fields in the portal's order, the auth block of the
 * robot's AUTH_USER_ID. No retries: a handler that fails or is unreachable loses the call.
 */
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

/** Delivers one call; true when the handler answered 2xx. */
export async function callHandler(ctx: EmulatorContext, portal: Portal, call: HandlerCall): Promise<boolean> {
  const fields = handlerFields(ctx, portal, call);
  const body = fields.map(([k, v]) => `${enc(k)}=${enc(v)}`).join('&');
  const delivery: QueueDelivery = {
    id: ctx.deliveries.length + 1,
    memberId: portal.memberId,
    url: call.registration.handler,
    body,
    fields,
    sentAt: new Date().toISOString(),
    status: null,
    eventToken: call.eventToken,
    workflowId: call.workflowId,
  };
  ctx.deliveries.push(delivery);
  try {
    const response = await fetch(call.registration.handler, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body,
      signal: AbortSignal.timeout(30_000),
    });
    delivery.status = response.status;
    await response.arrayBuffer();
    return response.ok;
  } catch (error) {
    delivery.error = (error as Error).message;
    return false;
  }
}
