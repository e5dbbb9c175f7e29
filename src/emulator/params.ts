/** Reading REST parameters as a portal does: names as documented, in upper or lower case. */
import { RestError, type CallContext } from './contract.ts';

export function param(params: Record<string, any>, name: string): any {
  return params[name] ?? params[name.toUpperCase()] ?? params[name.toLowerCase()];
}

export function requireAdmin(call: CallContext, description = 'Access denied!'): void {
  if (!call.user.isAdmin) throw new RestError('ACCESS_DENIED', description, 403);
}

export function requireAppContext(call: CallContext): NonNullable<CallContext['app']> {
  if (!call.app) throw new RestError('ACCESS_DENIED', 'Application context required', 403);
  return call.app;
}

export function startOf(params: Record<string, any>): number {
  const start = Number(param(params, 'start') ?? 0);
  return Number.isInteger(start) && start > 0 ? start : 0;
}
