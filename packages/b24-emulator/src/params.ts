/** Reading REST parameters as a portal does: names as documented, in upper or lower case. */
import { RestError, type CallContext } from './contract.ts';

export function param(params: Record<string, any>, name: string): any {
  return params[name] ?? params[name.toUpperCase()] ?? params[name.toLowerCase()];
}

export function requireAdmin(call: CallContext, description = 'Access denied!'): void {
  if (!call.user.isAdmin) throw new RestError('ACCESS_DENIED', description, 403);
}

/** The core's AccessException("Application context required"): its message follows "Access denied!". */
export function requireAppContext(call: CallContext): NonNullable<CallContext['app']> {
  if (!call.app) throw new RestError('ACCESS_DENIED', 'Access denied! Application context required', 403);
  return call.app;
}

export function startOf(params: Record<string, any>): number {
  const start = Number(param(params, 'start') ?? 0);
  return Number.isInteger(start) && start > 0 ? start : 0;
}

/**
 * HandlerHelper::checkCallback: a URL whose host has a dot (not first), then http or https.
 * The core does not compare the host with the application's URL.
 */
export function checkCallback(value: unknown): string {
  let url: URL | null = null;
  try {
    url = typeof value === 'string' ? new URL(value) : null;
  } catch {
    url = null;
  }
  if (!url || url.hostname.indexOf('.') <= 0) throw new RestError('ERROR_WRONG_HANDLER_URL', 'Wrong handler URL', 400);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new RestError('ERROR_UNSUPPORTED_PROTOCOL', 'Unsupported handler protocol', 400);
  return value as string;
}

/** AuthTypeException: the method takes OAuth only (event.*), not a webhook. */
export function requireOAuth(call: CallContext): NonNullable<CallContext['app']> {
  if (!call.app) throw new RestError('WRONG_AUTH_TYPE', 'Current authorization type is denied for this method', 403);
  return call.app;
}
