/**
 * What an app needs around the bizproc methods, as the core answers them: the global methods
 * (server.time, scope, methods, app.info, profile: modules/rest/classes/general/rest_provider.php),
 * users, departments, and event.bind/unbind/get (modules/rest/lib/api/event.php).
 */
import { listPage, RestError, type CallContext, type MethodDefinition, type User } from '../contract.ts';
import { portalIso } from '../dates.ts';
import { checkCallback, param, requireAdmin, requireOAuth, startOf } from '../params.ts';
import type { EmulatorState } from '../model.ts';

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

/**
 * The limited versions of the user scope (docs api-reference/user/user-scope.md): user.get and
 * user.current answer only the fields the version lists; `user` sees them all.
 */
const USER_SCOPE_VERSIONS = ['user_basic', 'user_brief'];
const LIMITED_FIELDS: Record<string, string[]> = {
  user_basic: ['ID', 'ACTIVE', 'NAME', 'LAST_NAME', 'EMAIL', 'WORK_POSITION', 'UF_DEPARTMENT'],
  user_brief: ['ID', 'ACTIVE', 'NAME', 'LAST_NAME', 'WORK_POSITION', 'UF_DEPARTMENT'],
};

function visibleUserFields(call: CallContext, user: User): Record<string, unknown> {
  const fields = userFields(user);
  if (call.scopes.has('user')) return fields;
  const allowed = LIMITED_FIELDS[call.scopes.has('user_basic') ? 'user_basic' : 'user_brief']!;
  return Object.fromEntries(Object.entries(fields).filter(([key]) => allowed.includes(key)));
}

function matches(user: User, filter: Record<string, any>): boolean {
  return Object.entries(filter).every(([rawKey, expected]) => {
    const key = rawKey.replace(/^[=!%<>]+/, '').toUpperCase();
    const fields = userFields(user) as Record<string, unknown>;
    const wanted = Array.isArray(expected) ? expected.map(String) : [String(expected)];
    if (key === 'UF_DEPARTMENT') return user.departmentIds.some((d) => wanted.includes(String(d)));
    // ACTIVE as Y/N, 1/0 or true/false (a JSON boolean arrives as true/false)
    if (key === 'ACTIVE') {
      return wanted.some((w) => (['Y', '1', 'TRUE'].includes(w.toUpperCase()) ? user.active : ['N', '0', 'FALSE'].includes(w.toUpperCase()) ? !user.active : true));
    }
    if (key === 'FIND') return wanted.some((w) => `${user.name} ${user.lastName} ${user.email}`.toLowerCase().includes(w.toLowerCase()));
    if (!(key in fields)) return true;
    return wanted.some((w) => String(fields[key]).toLowerCase() === w.toLowerCase());
  });
}

/** Events an app may bind here (the core's service description): the app's own lifecycle. */
const KNOWN_EVENTS = new Set(['ONAPPINSTALL', 'ONAPPUPDATE', 'ONAPPUNINSTALL', 'ONAPPPAYMENT', 'ONAPPTEST', 'ONAPPMETHODCONFIRM', 'ONSUBSCRIPTIONRENEW']);

/** The methods of the global scope every caller has (CRestUtil::GLOBAL_SCOPE); `batch` lives in the dispatcher. */
const GLOBAL_SCOPE = 'app';

function methodsOf(call: CallContext): Map<string, MethodDefinition> {
  return (call.emulator as EmulatorState).methods;
}

/** scope names a method of this portal belongs to, outside the global one */
function allScopes(call: CallContext): string[] {
  return [...new Set([...methodsOf(call).values()].map((d) => d.scope).filter((s) => s !== GLOBAL_SCOPE))].sort();
}

/** PHP's `== true` on a request value. */
function loosyTrue(value: unknown): boolean {
  return !(value === undefined || value === null || value === false || value === '' || value === '0' || value === 0);
}

function bindingUser(call: CallContext, authType: unknown, what: 'binding' | 'unbinding'): number {
  const requested = Number.parseInt(String(authType ?? '0'), 10) || 0;
  if (requested > 0 && !call.user.isAdmin && requested !== call.user.id) {
    throw new RestError('ACCESS_DENIED', `Access denied! Event ${what} with AUTH_TYPE requires administrator access rights`, 403);
  }
  return requested > 0 ? requested : call.user.isAdmin ? 0 : call.user.id;
}

export const appMethods: Record<string, MethodDefinition> = {
  'server.time': { scope: GLOBAL_SCOPE, handler: (call) => portalIso(Date.now(), call.portal) },
  scope: {
    scope: GLOBAL_SCOPE,
    handler: (call, params) => (loosyTrue(param(params, 'full')) ? allScopes(call) : [...call.scopes]),
  },
  methods: {
    scope: GLOBAL_SCOPE,
    handler(call, params) {
      const scopeParam = param(params, 'scope');
      const wanted =
        scopeParam !== undefined
          ? scopeParam === ''
            ? [GLOBAL_SCOPE]
            : [String(scopeParam)]
          : loosyTrue(param(params, 'full'))
            ? [GLOBAL_SCOPE, ...allScopes(call)]
            : [GLOBAL_SCOPE, ...call.scopes];
      const names = [...methodsOf(call).entries()].filter(([, d]) => wanted.includes(d.scope)).map(([name]) => name);
      return wanted.includes(GLOBAL_SCOPE) ? ['batch', ...names] : names;
    },
  },
  'app.info': {
    scope: GLOBAL_SCOPE,
    handler(call) {
      const license = `${call.portal.languageId}_project`;
      const app = call.app;
      // CRestProvider::appInfo: a webhook (password) gets its scope and the licence; only a caller with neither is refused.
      if (!app) return { SCOPE: [...call.scopes], LICENSE: license };
      return {
        ID: 1,
        CODE: app.application.code,
        VERSION: app.installation.version,
        STATUS: app.installation.payment?.status ?? 'L',
        INSTALLED: app.installation.installFinished,
        PAYMENT_EXPIRED: app.installation.payment?.expired ? 'Y' : 'N',
        DAYS: app.installation.payment?.days ?? null,
        LANGUAGE_ID: call.portal.languageId,
        LICENSE: license,
      };
    },
  },
  profile: {
    scope: GLOBAL_SCOPE,
    handler: (call) => ({
      ID: String(call.user.id),
      ADMIN: call.user.isAdmin,
      NAME: call.user.name,
      LAST_NAME: call.user.lastName,
      PERSONAL_GENDER: '',
      TIME_ZONE: '',
      TIME_ZONE_OFFSET: call.portal.utcOffsetMinutes * 60,
    }),
  },
  'user.current': { scope: 'user', alsoScopes: USER_SCOPE_VERSIONS, handler: (call) => visibleUserFields(call, call.user) },
  'user.get': {
    scope: 'user',
    alsoScopes: USER_SCOPE_VERSIONS,
    handler(call, params) {
      const filter: Record<string, any> = { ...(param(params, 'FILTER') ?? {}) };
      for (const key of ['ID', 'EMAIL', 'ACTIVE', 'UF_DEPARTMENT', 'NAME', 'LAST_NAME', 'USER_TYPE']) {
        if (params[key] !== undefined) filter[key] = params[key];
      }
      const users = [...call.portal.users.values()].filter((u) => matches(u, filter)).sort((a, b) => a.id - b.id);
      return listPage(
        users.map((user) => visibleUserFields(call, user)),
        startOf(params),
      );
    },
  },
  'department.get': {
    scope: 'department',
    handler(call, params) {
      const id = param(params, 'ID');
      const list = [...call.portal.departments.values()].filter((d) => id === undefined || String(d.id) === String(id));
      return listPage(
        list.map((d) => ({ ID: String(d.id), NAME: d.name, SORT: 500, ...(d.parentId === null ? {} : { PARENT: String(d.parentId) }), UF_HEAD: d.headUserId === null ? '' : String(d.headUserId) })),
        startOf(params),
      );
    },
  },
  'event.bind': {
    scope: GLOBAL_SCOPE,
    handler(call, params) {
      const app = requireOAuth(call);
      const event = String(param(params, 'event') ?? '').toUpperCase();
      const userId = bindingUser(call, param(params, 'auth_type'), 'binding');
      if (!event) throw new RestError('ERROR_ARGUMENT', "Argument 'EVENT' is null or empty", 400);
      const type = String(param(params, 'event_type') ?? '').toLowerCase();
      if (type !== '' && type !== 'online' && type !== 'offline') throw new RestError('ERROR_ARGUMENT', 'Value must be one of {online|offline}', 400);
      if (type === 'offline') {
        requireAdmin(call, 'Access denied! Offline events binding requires administrator access rights');
        throw new RestError('ERROR_ARGUMENT', 'Offline events are not emulated', 400);
      }
      const rawHandler = param(params, 'handler');
      if (rawHandler === undefined || rawHandler === '') throw new RestError('ERROR_ARGUMENT', "Argument 'HANDLER' is null or empty", 400);
      const handler = checkCallback(rawHandler);
      if (!KNOWN_EVENTS.has(event)) throw new RestError('ERROR_EVENT_NOT_FOUND', 'Event not found', 400);
      const bound = app.installation.events.get(event) ?? [];
      if (bound.some((b) => b.handler === handler && b.authType === userId)) {
        throw new RestError('ERROR_CORE', 'Unable to set event handler: Handler already binded', 400);
      }
      bound.push({ handler, authType: userId });
      app.installation.events.set(event, bound);
      return true;
    },
  },
  'event.unbind': {
    scope: GLOBAL_SCOPE,
    handler(call, params) {
      const app = requireOAuth(call);
      const event = String(param(params, 'event') ?? '').toUpperCase();
      if (!event) throw new RestError('ERROR_ARGUMENT', "Argument 'EVENT' is null or empty", 400);
      const handler = param(params, 'handler');
      if (handler === undefined || handler === '') throw new RestError('ERROR_ARGUMENT', "Argument 'HANDLER' is null or empty", 400);
      const authType = param(params, 'auth_type');
      const userId = authType !== undefined ? bindingUser(call, authType, 'unbinding') : call.user.isAdmin ? undefined : call.user.id;
      const bound = app.installation.events.get(event) ?? [];
      const kept = bound.filter((b) => !(b.handler === handler && (userId === undefined || b.authType === userId)));
      app.installation.events.set(event, kept);
      return { count: bound.length - kept.length };
    },
  },
  'event.get': {
    scope: GLOBAL_SCOPE,
    handler(call: CallContext) {
      const app = requireOAuth(call);
      return [...app.installation.events.entries()].flatMap(([event, handlers]) =>
        handlers
          .filter((h) => call.user.isAdmin || h.authType === call.user.id)
          .map((h) => ({ event, handler: h.handler, auth_type: String(h.authType), offline: 0 })),
      );
    },
  },
};
