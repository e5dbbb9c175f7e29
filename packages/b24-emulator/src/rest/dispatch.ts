/**
 * /rest/<method>[.json] and incoming webhooks /rest/<user_id>/<code>/<method>: who is calling,
 * the system errors every method can answer (NO_AUTH_FOUND, expired_token, insufficient_scope,
 * QUERY_LIMIT_EXCEEDED, OPERATION_TIME_LIMIT), the `time` block, lists' total/next, and batch.
 */
import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import qs from 'qs';
import { isListPage, RestError, type CallContext, type MethodDefinition, type Portal } from '../contract.ts';
import { portalIso } from '../dates.ts';
import type { EmulatorState } from '../model.ts';
import { OPERATING_WINDOW_MS, OperatingWindow } from './operating-time.ts';

interface Outcome {
  result: unknown;
  total?: number;
  next?: number;
  processing: number;
}

/** Runs one method as the caller, inside or outside a batch. */
export async function invoke(state: EmulatorState, call: CallContext, method: string, params: Record<string, any>): Promise<Outcome> {
  const definition: MethodDefinition | undefined = state.methods.get(method);
  if (!definition) throw new RestError('ERROR_METHOD_NOT_FOUND', 'Method not found!', 404);
  if (definition.scope !== 'app' && !call.scopes.has(definition.scope) && !definition.alsoScopes?.some((scope) => call.scopes.has(scope))) {
    throw new RestError('insufficient_scope', 'The request requires higher privileges than provided by the access token', 403);
  }
  const appKey = `${call.app?.application.clientId ?? 'webhook'}:${method}`;
  let window = call.portal.operating.get(appKey);
  if (!window) call.portal.operating.set(appKey, (window = new OperatingWindow()));
  if (window.used() >= state.config.operatingLimitSec) {
    throw new RestError('OPERATION_TIME_LIMIT', `Method is blocked due to operation time limit.`, 429);
  }
  const started = performance.now();
  const answer = await definition.handler(call, params);
  const processing = (performance.now() - started) / 1000 + (state.operatingCost.get(method) ?? 0);
  window.add(processing);
  return isListPage(answer) ? { result: answer.result, total: answer.total, next: answer.next, processing } : { result: answer, processing };
}

function timeBlock(started: number, processing: number, portal: Portal | undefined, appKey: string) {
  const finish = Date.now() / 1000;
  const window = portal?.operating.get(appKey);
  const operating = window?.used() ?? 0;
  const oldest = window?.oldest() ?? Date.now();
  return {
    start: started / 1000,
    finish,
    duration: finish - started / 1000,
    processing,
    date_start: portal ? portalIso(started, portal) : new Date(started).toISOString(),
    date_finish: portal ? portalIso(Date.now(), portal) : new Date().toISOString(),
    operating_reset_at: Math.floor((oldest + OPERATING_WINDOW_MS) / 1000),
    operating,
  };
}

/**
 * The leaky bucket of a portal (docs `limits.md`: a counter per account that every incoming
 * request raises and that drops by Y a second; above X each request is refused 503
 * QUERY_LIMIT_EXCEEDED; a batch raises it once; 2/s and 50, Enterprise 5/s and 250). Bitrix24
 * meters by account and source IP; here every request comes from one host. The docs say the
 * counter counts requests "from an application"; a request whose token names none is refused
 * (401) before it is counted — the docs are silent on that order, and this is the emulator's choice.
 */
function takeFromBucket(state: EmulatorState, portal: Portal): boolean {
  const { drainPerSec, maxBurst } = state.config.rateLimit;
  const now = Date.now();
  portal.bucket.level = Math.max(0, portal.bucket.level - ((now - portal.bucket.updatedAt) / 1000) * drainPerSec);
  portal.bucket.updatedAt = now;
  if (portal.bucket.level + 1 > maxBurst) return false;
  portal.bucket.level += 1;
  return true;
}

/** Who is calling: an OAuth token in an app's context, or a webhook with a user's rights. */
export function authenticate(
  state: EmulatorState,
  token: string | undefined,
  webhook: { userId: number; code: string } | null,
  host?: string,
): CallContext {
  const context = authenticateAnywhere(state, token, webhook);
  // A portal answers only its own tokens and webhooks: on another portal's host they are unknown.
  const hostPortal = host ? [...state.portals.values()].find((p) => p.domain === host) : undefined;
  if (hostPortal && hostPortal !== context.portal) {
    throw webhook ? new RestError('NO_AUTH_FOUND', 'Wrong authorization data', 401) : new RestError('invalid_token', 'Unable to get application by token', 401);
  }
  return context;
}

function authenticateAnywhere(state: EmulatorState, token: string | undefined, webhook: { userId: number; code: string } | null): CallContext {
  if (webhook) {
    for (const portal of state.portals.values()) {
      const hook = portal.webhooks.get(webhook.code);
      if (hook && hook.userId === webhook.userId) {
        const user = portal.users.get(hook.userId);
        if (!user?.active) break;
        return { emulator: state, portal, user, app: null, scopes: new Set(hook.scopes) };
      }
    }
    throw new RestError('NO_AUTH_FOUND', 'Wrong authorization data', 401);
  }
  if (!token) throw new RestError('NO_AUTH_FOUND', 'Wrong authorization data', 401);
  const grant = state.grants.byAccessToken(token);
  if (!grant || grant.accessRevoked) throw new RestError('invalid_token', 'Unable to get application by token', 401);
  if (grant.accessExpiresAt <= Date.now()) throw new RestError('expired_token', 'The access token provided has expired.', 401);
  const portal = state.portals.get(grant.memberId);
  if (!portal) throw new RestError('PORTAL_DELETED', 'Portal was deleted', 500);
  const installation = portal.apps.get(grant.clientId);
  const application = state.applications.get(grant.clientId);
  if (!installation?.installed || !application) throw new RestError('invalid_token', 'Unable to get application by token', 401);
  const user = portal.users.get(grant.userId);
  if (!user?.active) throw new RestError('user_access_error', 'The user does not have access to the application.', 403);
  return { emulator: state, portal, user, app: { application, installation, grant }, scopes: new Set(grant.scope) };
}

function parsePath(path: string): { method: string; webhook: { userId: number; code: string } | null } {
  const clean = decodeURIComponent(path.split('?')[0]!).replace(/^\/+|\/+$/g, '');
  const hook = /^(\d+)\/([A-Za-z0-9_]+)\/(.+)$/.exec(clean);
  const method = (hook ? hook[3]! : clean).replace(/\.json$/i, '').toLowerCase();
  return { method, webhook: hook ? { userId: Number(hook[1]), code: hook[2]! } : null };
}

export const restRoutes: FastifyPluginAsync<{ state: EmulatorState }> = async (app, { state }) => {
  app.all('/rest/*', async (request, reply) => {
    const started = Date.now();
    const { method, webhook } = parsePath((request.params as { '*': string })['*']);
    // PHP reads bracket keys in the query string too (FILTER[ACTIVE]=1), as in a form body.
    const rawQuery = request.url.includes('?') ? request.url.slice(request.url.indexOf('?') + 1) : '';
    const query = qs.parse(rawQuery, { depth: 10, arrayLimit: 1000, parameterLimit: 10_000 }) as Record<string, unknown>;
    const body = typeof request.body === 'object' && request.body !== null ? (request.body as Record<string, unknown>) : {};
    const { auth: bodyAuth, ...bodyParams } = body;
    const { auth: queryAuth, ...queryParams } = query;
    const params: Record<string, any> = { ...queryParams, ...bodyParams };
    const token = typeof bodyAuth === 'string' ? bodyAuth : typeof queryAuth === 'string' ? queryAuth : bearer(request.headers.authorization);
    let portal: Portal | undefined;
    const fail = (error: RestError, to: FastifyReply) => {
      state.stats.record(portal?.memberId, method, error.status);
      return to.code(error.status).send({ error: error.code, error_description: error.description });
    };
    try {
      const call = authenticate(state, token, webhook, request.headers.host);
      portal = call.portal;
      const fault = state.faults.take(method, portal.memberId);
      if (fault && (await state.faults.apply(fault, reply))) {
        state.stats.record(portal.memberId, method, reply.statusCode);
        return reply;
      }
      portal.requestCount += 1;
      if (!takeFromBucket(state, portal)) throw new RestError('QUERY_LIMIT_EXCEEDED', 'Too many requests', 503);
      const outcome = method === 'batch' ? await runBatch(state, call, params) : await invoke(state, call, method, params);
      state.stats.record(portal.memberId, method, 200);
      const appKey = `${call.app?.application.clientId ?? 'webhook'}:${method}`;
      return {
        result: outcome.result,
        ...(outcome.total !== undefined ? { total: outcome.total } : {}),
        ...(outcome.next !== undefined ? { next: outcome.next } : {}),
        time: timeBlock(started, outcome.processing, portal, appKey),
      };
    } catch (error) {
      if (error instanceof RestError) return fail(error, reply);
      request.log.error({ err: error, method }, 'emulated method crashed');
      return fail(new RestError('INTERNAL_SERVER_ERROR', (error as Error).message, 500), reply);
    }
  });
};

function bearer(header: string | undefined): string | undefined {
  return header?.startsWith('Bearer ') ? header.slice(7) : undefined;
}

/** A batch's answer sections as the core builds them: PHP arrays keyed by the command's key. */
type Sections = Record<'result' | 'next' | 'total' | 'time' | 'error', Map<string, unknown>>;

const BATCH_MAX_LENGTH = 50;

/**
 * `batch` as CRestProvider::methodsBatch: every command runs as the batch's caller (an `auth` in
 * a command is overwritten by the batch's own), commands past the 50th fail with
 * ERROR_BATCH_LENGTH_EXCEEDED, a nested batch with ERROR_BATCH_METHOD_NOT_ALLOWED, `halt` stops
 * after the first failed command, and the batch itself answers 200 with every section keyed by
 * the command's key.
 */
async function runBatch(state: EmulatorState, call: CallContext, params: Record<string, any>): Promise<Outcome> {
  const cmd = caseless(params, 'CMD');
  const halt = truthy(caseless(params, 'HALT'));
  const sections: Sections = { result: new Map(), next: new Map(), total: new Map(), time: new Map(), error: new Map() };
  let processing = 0;
  let count = 0;
  for (const [key, command] of typeof cmd === 'object' && cmd !== null ? Object.entries(cmd) : []) {
    const started = Date.now();
    try {
      if ((count += 1) > BATCH_MAX_LENGTH) throw new RestError('ERROR_BATCH_LENGTH_EXCEEDED', 'Max batch length exceeded', 400);
      const text = String(command);
      const split = text.indexOf('?');
      const method = (split < 0 ? text : text.slice(0, split)).replace(/\.json$/i, '').toLowerCase();
      const query = qs.parse(split < 0 ? '' : text.slice(split + 1), { depth: 10, arrayLimit: 1000, parameterLimit: 5000 });
      const { auth: _overwritten, ...commandParams } = resolveReferences(query, sections) as Record<string, unknown>;
      if (method === 'batch') throw new RestError('ERROR_BATCH_METHOD_NOT_ALLOWED', 'Method is not allowed for batch usage', 405);
      const outcome = await invoke(state, call, method, commandParams);
      processing += outcome.processing;
      sections.result.set(key, outcome.result);
      if (outcome.next !== undefined) sections.next.set(key, outcome.next);
      if (outcome.total !== undefined) sections.total.set(key, outcome.total);
      sections.time.set(key, timeBlock(started, outcome.processing, call.portal, `${call.app?.application.clientId ?? 'webhook'}:${method}`));
    } catch (error) {
      const restError = error instanceof RestError ? error : new RestError('INTERNAL_SERVER_ERROR', (error as Error).message, 500);
      sections.error.set(key, { error: restError.code, error_description: restError.description });
      if (halt) break;
    }
  }
  return {
    result: {
      result: phpArray(sections.result),
      result_error: phpArray(sections.error),
      result_total: phpArray(sections.total),
      result_next: phpArray(sections.next),
      result_time: phpArray(sections.time),
    },
    processing,
  };
}

/** A parameter by name in any case (the core upper-cases the batch's own parameters). */
function caseless(params: Record<string, any>, upper: string): unknown {
  const key = Object.keys(params).find((k) => k.toUpperCase() === upper);
  return key === undefined ? undefined : params[key];
}

/** `halt`: true/false or 1/0, as the batch page documents. */
function truthy(value: unknown): boolean {
  return !(value === undefined || value === null || value === false || value === 0 || value === '' || value === '0' || String(value).toLowerCase() === 'false');
}

/**
 * How json_encode writes a PHP array: a list when its keys are 0..n-1 in order, an object
 * otherwise (a failed command leaves a hole), `[]` when empty.
 */
function phpArray(entries: Map<string, unknown>): unknown {
  const keys = [...entries.keys()];
  if (keys.every((key, index) => key === String(index))) return [...entries.values()];
  return Object.fromEntries(entries);
}

/**
 * `$result[key][FIELD]…` (and `$next`, `$total`, `$time`, `$error`) in a command's decoded
 * parameters, as CRestUtil::ParseBatchQuery: the references are found after URL-decoding, so an
 * encoded `%24result%5Bkey%5D` works too; a value that is exactly one reference takes the
 * referenced value itself (an array stays an array); inside a longer value the reference and
 * what follows it up to whitespace are replaced by its text; the path stops at the first
 * missing key.
 */
function resolveReferences(value: unknown, sections: Sections): unknown {
  if (Array.isArray(value)) return value.map((v) => resolveReferences(v, sections));
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, resolveReferences(v, sections)]));
  }
  if (typeof value !== 'string') return value;
  let text: unknown = value;
  for (const match of value.matchAll(/\$(result|next|total|time|error)(\S*)/gi)) {
    const path = [...match[2]!.matchAll(/\[([^\]]+)\]/g)].map((m) => m[1]!);
    if (path.length === 0) continue;
    const section = sections[match[1] as keyof Sections] as Map<string, unknown> | undefined;
    let found: unknown = section ? Object.fromEntries(section) : undefined;
    for (const part of path) {
      const next = typeof found === 'object' && found !== null ? (found as Record<string, unknown>)[part] : undefined;
      if (next === undefined || next === null) break;
      found = next;
    }
    text = match[0] === value ? found : String(text).replace(match[0], phpString(found));
  }
  return text;
}

/** A value where PHP puts it into a string: arrays become "Array", false and null "". */
function phpString(value: unknown): string {
  if (value === null || value === undefined || value === false) return '';
  if (value === true) return '1';
  return typeof value === 'object' ? 'Array' : String(value);
}
