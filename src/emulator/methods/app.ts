/** What an app needs around the bizproc methods: app.info, profile, users, departments, events. */
import { listPage, RestError, type CallContext, type MethodDefinition, type User } from '../contract.ts';
import { param, requireAdmin, requireAppContext, startOf } from '../params.ts';

function userFields(user: User) {
  return {
    ID: String(user.id),
    ACTIVE: user.active,
    NAME: user.name,
    LAST_NAME: user.lastName,
    EMAIL: user.email,
    WORK_POSITION: user.position,
    UF_DEPARTMENT: user.departmentIds,
    USER_TYPE: user.canReceiveDelegation || !user.active ? 'employee' : 'extranet',
  };
}

function matches(user: User, filter: Record<string, any>): boolean {
  return Object.entries(filter).every(([rawKey, expected]) => {
    const key = rawKey.replace(/^[=!%<>]+/, '').toUpperCase();
    const fields = userFields(user) as Record<string, unknown>;
    const wanted = Array.isArray(expected) ? expected.map(String) : [String(expected)];
    if (key === 'UF_DEPARTMENT') return user.departmentIds.some((d) => wanted.includes(String(d)));
    if (key === 'ACTIVE') return wanted.includes(user.active ? 'Y' : 'N') || wanted.includes(String(user.active));
    if (key === 'FIND') return wanted.some((w) => `${user.name} ${user.lastName} ${user.email}`.toLowerCase().includes(w.toLowerCase()));
    if (!(key in fields)) return true;
    return wanted.some((w) => String(fields[key]).toLowerCase() === w.toLowerCase());
  });
}

export const appMethods: Record<string, MethodDefinition> = {
  'app.info': {
    scope: 'app',
    handler(call) {
      const app = call.app;
      if (!app) throw new RestError('WRONG_AUTH_TYPE', 'Current authorization type is denied for this method', 401);
      return {
        ID: 1,
        CODE: app.application.clientId,
        VERSION: app.installation.version,
        STATUS: 'L',
        INSTALLED: app.installation.installFinished,
        PAYMENT_EXPIRED: 'N',
        DAYS: null,
        LANGUAGE_ID: call.portal.languageId,
        LICENSE: `${call.portal.languageId}_project`,
      };
    },
  },
  profile: {
    scope: 'app',
    handler: (call) => ({ ID: String(call.user.id), ADMIN: call.user.isAdmin, NAME: call.user.name, LAST_NAME: call.user.lastName }),
  },
  'user.current': { scope: 'user', handler: (call) => userFields(call.user) },
  'user.get': {
    scope: 'user',
    handler(call, params) {
      const filter: Record<string, any> = { ...(param(params, 'FILTER') ?? {}) };
      for (const key of ['ID', 'EMAIL', 'ACTIVE', 'UF_DEPARTMENT', 'NAME', 'LAST_NAME']) {
        if (params[key] !== undefined) filter[key] = params[key];
      }
      const users = [...call.portal.users.values()].filter((u) => matches(u, filter)).sort((a, b) => a.id - b.id);
      return listPage(users.map(userFields), startOf(params));
    },
  },
  'department.get': {
    scope: 'department',
    handler(call, params) {
      const id = param(params, 'ID');
      const list = [...call.portal.departments.values()].filter((d) => id === undefined || String(d.id) === String(id));
      return listPage(
        list.map((d) => ({ ID: String(d.id), NAME: d.name, PARENT: d.parentId === null ? undefined : String(d.parentId), UF_HEAD: d.headUserId === null ? '' : String(d.headUserId) })),
        startOf(params),
      );
    },
  },
  'event.bind': {
    scope: 'app',
    handler(call, params) {
      const app = requireAppContext(call);
      requireAdmin(call);
      const event = String(param(params, 'event') ?? '').toUpperCase();
      const handler = String(param(params, 'handler') ?? '');
      if (!event) throw new RestError('ERROR_REQUIRED_PARAMETERS_MISSING', 'Event name is required', 400);
      if (!/^https?:\/\//.test(handler)) throw new RestError('ERROR_WRONG_HANDLER_URL', 'Wrong handler URL', 400);
      if (new URL(handler).host !== new URL(app.application.appUrl).host) throw new RestError('ERROR_HANDLER_URL_MATCH', 'Handler URL host doesn\'t match application url', 400);
      const bound = app.installation.events.get(event) ?? [];
      if (bound.some((b) => b.handler === handler)) throw new RestError('ERROR_EVENT_HANDLER_ALREADY_EXISTS', 'Handler already binded', 400);
      bound.push({ handler, authType: Number(param(params, 'auth_type') ?? 0) });
      app.installation.events.set(event, bound);
      return true;
    },
  },
  'event.unbind': {
    scope: 'app',
    handler(call, params) {
      const app = requireAppContext(call);
      requireAdmin(call);
      const event = String(param(params, 'event') ?? '').toUpperCase();
      const handler = param(params, 'handler');
      const bound = app.installation.events.get(event) ?? [];
      const kept = bound.filter((b) => handler !== undefined && b.handler !== handler);
      app.installation.events.set(event, kept);
      return { count: bound.length - kept.length };
    },
  },
  'event.get': {
    scope: 'app',
    handler(call: CallContext) {
      const app = requireAppContext(call);
      return [...app.installation.events.entries()].flatMap(([event, handlers]) =>
        handlers.map((h) => ({ event, handler: h.handler, auth_type: String(h.authType), offline: 0 })),
      );
    },
  },
};
