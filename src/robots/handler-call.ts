/**
 * The queue server's POST to a handler (protocol notes §1), read from the qs-parsed form body
 * into a call we can store. Malformed calls are refused with the list of what is wrong.
 */
import type { ActivityHandlerParams } from '@bitrix24/b24jssdk';

export interface HandlerCallInput {
  code: string;
  workflowId: string;
  eventToken: string;
  documentId: [string, string, string];
  documentType: [string, string, string] | null;
  properties: Record<string, unknown>;
  useSubscription: boolean;
  timeoutSeconds: number;
  /** unix seconds the portal queued the call */
  queuedAt: number | null;
  authUserId: number | null;
  auth: Record<string, unknown>;
}

export type ParsedCall = { ok: true; call: HandlerCallInput } | { ok: false; errors: string[] };

const MAX_TOKEN = 1024;

export function parseHandlerCall(body: unknown, routeCode: string): ParsedCall {
  const fields = (body && typeof body === 'object' ? body : {}) as Partial<ActivityHandlerParams> & Record<string, unknown>;
  const errors: string[] = [];
  const str = (name: string, max = 255) => {
    const value = fields[name];
    if (typeof value !== 'string' || value === '' || value.length > max) {
      errors.push(`${name} must be a non-empty string of at most ${max} characters`);
      return '';
    }
    return value;
  };
  const triple = (name: string, required: boolean): [string, string, string] | null => {
    const value = fields[name];
    if (value === undefined && !required) return null;
    if (!Array.isArray(value) || value.length !== 3 || !value.every((v) => typeof v === 'string' && v.length <= 255)) {
      errors.push(`${name} must be three strings (${name}[0..2])`);
      return null;
    }
    return value as [string, string, string];
  };

  const code = str('code', 64);
  if (code && code !== routeCode) errors.push(`code "${code}" does not match the handler URL (${routeCode})`);
  const workflowId = str('workflow_id');
  const eventToken = str('event_token', MAX_TOKEN);
  const documentId = triple('document_id', true);
  const documentType = triple('document_type', false);
  const auth = fields.auth;
  if (!auth || typeof auth !== 'object' || Array.isArray(auth)) errors.push('auth[...] is required');
  const properties = fields.properties ?? {};
  if (typeof properties !== 'object' || Array.isArray(properties)) errors.push('properties must be properties[NAME]=value pairs');
  const timeout = fields.timeout_duration === undefined || fields.timeout_duration === '' ? 0 : Number(fields.timeout_duration);
  if (!Number.isInteger(timeout) || timeout < 0) errors.push('timeout_duration must be a whole number of seconds');
  const ts = fields.ts === undefined || fields.ts === '' ? null : Number(fields.ts);
  if (ts !== null && !Number.isFinite(ts)) errors.push('ts must be a unix time');

  if (errors.length > 0) return { ok: false, errors };
  const authBlock = auth as unknown as Record<string, unknown>;
  const userId = Number(authBlock.user_id);
  return {
    ok: true,
    call: {
      code,
      workflowId,
      eventToken,
      documentId: documentId!,
      documentType,
      properties: properties as Record<string, unknown>,
      // An empty USE_SUBSCRIPTION behaves like Y: the workflow waits.
      useSubscription: fields.use_subscription !== 'N',
      timeoutSeconds: timeout,
      queuedAt: ts,
      authUserId: Number.isInteger(userId) && userId > 0 ? userId : null,
      auth: authBlock,
    },
  };
}
