/**
 * The one way app code calls a portal's REST: the official SDK's B24OAuth, with the token
 * refresh replaced by the cross-process one (shared-refresh.ts) and every request first taking
 * a slot from the portal's shared rate budget (rate-budget.ts). Robots, registration and the
 * admin pages all go through here, so neither can be bypassed.
 */
import { AjaxError, ApiVersion, B24OAuth, type AjaxResult } from '@bitrix24/b24jssdk';
import type { Logger } from 'pino';
import qs from 'qs';
import { metrics } from '../metrics/metrics.ts';
import type { BatchOutcome, PortalRest } from '../robots/definition.ts';
import type { FreshTokens, OAuthSettings } from './oauth-refresh.ts';
import type { PortalCache } from './portal-cache.ts';
import type { PortalRecord, PortalStore, PortalTokens } from './portal-store.ts';
import type { RateBudget } from './rate-budget.ts';
import type { RestJournal } from './rest-journal.ts';
import { PortalUnavailableError, refreshOncePerPortal } from './shared-refresh.ts';

/** A REST call the portal refused or that did not get through. */
export class PortalCallError extends Error {
  constructor(
    readonly method: string,
    readonly code: string,
    readonly description: string,
    readonly status: number,
  ) {
    super(`${method}: ${code}${description ? ` (${description})` : ''}`);
  }

  /** Worth another try later: rate limits, server errors, the network. */
  get transient(): boolean {
    return (
      this.status === 0 ||
      this.status === 408 ||
      this.status === 429 ||
      this.status >= 500 ||
      ['QUERY_LIMIT_EXCEEDED', 'OPERATION_TIME_LIMIT', 'NETWORK_ERROR', 'REQUEST_TIMEOUT', 'INTERNAL_SERVER_ERROR'].includes(this.code)
    );
  }
}

const BATCH_LIMIT = 50;
/** Times a request refused before running (rate or operating limit) is sent again at once. */
const REFUSED_BEFORE_RUNNING_RETRIES = 3;
/** A method over its operating-time limit (429 OPERATION_TIME_LIMIT: server time in a sliding 10 minutes, shared/notes/bitrix24-protocol.md) frees up as that window slides; the SDK waited 10 s too. */
const OPERATION_TIME_LIMIT_WAIT_MS = 10_000;
const STALE_401_WINDOW_MS = 30_000;
const AUTH_ERRORS = ['expired_token', 'invalid_token'];
const REDIRECTS = [301, 302, 303, 307, 308];

export interface PortalClientDeps {
  store: PortalStore;
  oauth: OAuthSettings;
  budget: RateBudget;
  logger: Logger;
  /** every request is journalled here (rest-journal.ts) */
  journal?: RestJournal;
  /** the short cache shared by the processes (portal-cache.ts) */
  cache?: PortalCache;
}

export interface Page<T> {
  result: T;
  total: number;
  /** the portal reported a `next` page */
  more: boolean;
}

export class PortalClient implements PortalRest {
  constructor(
    readonly portal: PortalRecord,
    tokens: PortalTokens,
    private readonly deps: PortalClientDeps & {
      onUnavailable?: (portalId: number) => void;
      /** the OAuth server's answer to a refresh: it names the portal's address */
      onAddress?: (portal: PortalRecord, answer: FreshTokens) => void;
      userSession?: boolean;
    },
  ) {
    this.tokens = tokens;
    this.userSession = deps.userSession === true;
    const expiresMs = tokens.expiresAt ?? Date.now() + 3_600_000;
    this.b24 = new B24OAuth(
      {
        applicationToken: '',
        userId: portal.userId ?? 0,
        memberId: portal.memberId,
        accessToken: tokens.accessToken,
        refreshToken: tokens.refreshToken,
        expires: Math.floor(expiresMs / 1000),
        expiresIn: 3600,
        scope: portal.scope,
        domain: portal.domain,
        clientEndpoint: portal.clientEndpoint,
        serverEndpoint: portal.serverEndpoint,
        status: portal.status as never,
      },
      { clientId: deps.oauth.clientId, clientSecret: deps.oauth.clientSecret },
      {
        // The shared budget in PostgreSQL is the limiter, and every request takes a slot of it: the
        // SDK's own retries would not (a portal that said QUERY_LIMIT_EXCEEDED got three more
        // requests at once, each counted), so it makes one attempt and the retries are ours
        // (requestOnce). A failure of our own refresh (the portal needs an admin) surfaces as
        // JSSDK_UNKNOWN_ERROR: never worth a retry.
        restrictionParams: {
          maxRetries: 1,
          rateLimit: { burstLimit: 1_000_000, drainRate: 1_000_000, adaptiveEnabled: false },
          // A request whose outcome is unknown (reset, timeout) is never re-sent by the SDK: it may
          // have been done (a workflow started, an answer taken). The layer that knows re-tries:
          // the job queue for robots, the answer flush (which marks what is in flight) for answers.
          retryOnNetworkError: false,
          hardErrorCodes: ['JSSDK_UNKNOWN_ERROR', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT'],
        },
      },
    );
    this.b24.offClientSideWarning();
    deps.journal?.watch(this.b24.getHttpClient(ApiVersion.v2).ajaxClient, portal.memberId);
    this.b24.setCustomRefreshAuth(async () => {
      // A page user's token is refreshed by their page (BX24.refreshAuth), never by us.
      if (this.userSession) throw new PortalCallError('refresh', 'expired_token', 'the page’s token has expired: reload the page', 401);
      // A 401 for a request sent before this client adopted its current token is stale: the SDK
      // coalesces only refreshes in flight, so without this a burst would refresh again.
      if (!this.distrustCurrent && Date.now() - this.adoptedAt < STALE_401_WINDOW_MS) return this.refreshAnswer(this.tokens);
      const fresh = await this.refresh();
      return this.refreshAnswer(fresh);
    });
    // A portal whose address changed answers 302 to the new one (docs
    // settings/how-to-call-rest-api/change-domen.md). Following it would re-send the token to
    // wherever a Location header points; instead the redirect surfaces, and the OAuth server —
    // the only source of a portal's address we trust — is asked (see moved()).
    this.b24.getHttpClient(ApiVersion.v2).ajaxClient.defaults.maxRedirects = 0;
  }

  /** One refresh through the shared path; the answer's client_endpoint is the portal's address now. */
  private async refresh(): Promise<PortalTokens> {
    const { portal, deps } = this;
    const fresh = await refreshOncePerPortal(deps.store, deps.oauth, portal.id, this.tokens.accessToken, (answer) => {
      deps.logger.info({ portal: portal.memberId }, 'access token refreshed');
      deps.onAddress?.(portal, answer);
    });
    this.adopt(fresh);
    return fresh;
  }

  /**
   * The portal answered with a redirect: it has a new address. One refresh asks the OAuth server
   * for it (and records it); this client, bound to the old one, is dropped, so the caller's retry
   * (the job queue, the answer flush, the page's next request) goes to the new address.
   */
  private async moved(method: string, status: number): Promise<never> {
    this.deps.logger.info({ portal: this.portal.memberId, method, status }, 'the portal answered with a redirect: asking the OAuth server for its address');
    if (!this.userSession) await this.refresh();
    this.deps.onUnavailable?.(this.portal.id);
    throw new PortalCallError(method, 'PORTAL_MOVED', 'the portal has a new address; the request is to be sent again there', 503);
  }

  private tokens: PortalTokens;
  private readonly userSession: boolean;
  private adoptedAt = 0;
  /** set while a call is retried because the token just adopted was refused too */
  private distrustCurrent = false;

  private adopt(tokens: PortalTokens): void {
    this.tokens = tokens;
    this.adoptedAt = Date.now();
  }

  private refreshAnswer(tokens: PortalTokens) {
    const { portal } = this;
    return {
      access_token: tokens.accessToken,
      refresh_token: tokens.refreshToken,
      expires: String(Math.floor((tokens.expiresAt ?? Date.now() + 3_600_000) / 1000)),
      expires_in: '3600',
      client_endpoint: portal.clientEndpoint,
      server_endpoint: portal.serverEndpoint,
      member_id: portal.memberId,
      scope: portal.scope,
      status: portal.status,
      domain: portal.domain,
    };
  }

  private readonly b24: B24OAuth;

  /**
   * A value read from the portal that cannot change within minutes, shared by the processes for
   * `ttlMs` (portal-cache.ts); without a cache, read every time.
   */
  async remember<T>(key: string, ttlMs: number, load: () => Promise<T>, worthKeeping?: (value: T) => boolean): Promise<T> {
    return this.deps.cache ? this.deps.cache.remember(this.portal.id, key, ttlMs, load, worthKeeping) : load();
  }

  async call<T = unknown>(method: string, params: Record<string, unknown> = {}): Promise<T> {
    return (await this.request<T>(method, params)).result;
  }

  /** One page of a list method, with the portal's total and whether more follow. */
  async page<T = unknown>(method: string, params: Record<string, unknown> = {}): Promise<Page<T>> {
    return this.request<T>(method, params);
  }

  async listAll<T = unknown>(method: string, params: Record<string, unknown> = {}, itemsKey?: string): Promise<T[]> {
    const items: T[] = [];
    let start: number | undefined = 0;
    while (start !== undefined) {
      const page: Page<unknown> = await this.request(method, { ...params, start });
      const result = page.result as Record<string, unknown> | unknown[];
      const chunk = itemsKey && !Array.isArray(result) ? result[itemsKey] : result;
      const found = Array.isArray(chunk) ? (chunk as T[]) : chunk && typeof chunk === 'object' ? (Object.values(chunk) as T[]) : [];
      items.push(...found);
      // The SDK's getData() leaves out `next`; the offset of the next page is where this one ended.
      start = page.more && found.length > 0 ? start + found.length : undefined;
    }
    return items;
  }

  /**
   * Many calls through `batch` (halt=0), 50 a request; one outcome per call, in the order given.
   *
   * Sent as a plain `batch` call rather than through the SDK's batch helper: a portal keeps every
   * section of its answer (`result`, `result_error`, `result_total`…) keyed by the command's key,
   * a failed command leaves a hole, a section with holes is a JSON object and an empty one is
   * `[]` (docs: settings/how-to-call-rest-api/batch.md). The helper sends a list and reads the
   * sections back by position, so its reading depends on how the holes were encoded, and a
   * command with no outcome at all fails the whole batch. Here each command gets a key of ours
   * that is never a list index, and each outcome is read by that key. The request itself still
   * goes through the SDK (`call.make`), so the token refresh and the rate budget apply.
   */
  async batch<T = unknown>(calls: Array<[string, Record<string, unknown>]>): Promise<Array<BatchOutcome<T>>> {
    const outcomes: Array<BatchOutcome<T>> = [];
    for (let offset = 0; offset < calls.length; offset += BATCH_LIMIT) {
      const chunk = calls.slice(offset, offset + BATCH_LIMIT);
      const keys = chunk.map((_call, index) => `c${index}`);
      const cmd = Object.fromEntries(chunk.map(([method, params], index) => [keys[index], `${method}?${qs.stringify(params)}`]));
      const answer = await this.call<BatchAnswer>('batch', { halt: 0, cmd });
      for (const key of keys) outcomes.push(batchOutcome<T>(answer, key));
    }
    return outcomes;
  }

  private async request<T>(method: string, params: Record<string, unknown>): Promise<Page<T>> {
    // A token adopted from another process (or just refreshed) can be refused as well: each retry
    // distrusts the current token, so the first adopts what the database holds and the second
    // refreshes for real. Bounded: a portal that refuses every token fails with its own error.
    for (let attempt = 0; ; attempt += 1) {
      this.distrustCurrent = attempt > 0;
      try {
        return await this.requestOnce<T>(method, params);
      } catch (error) {
        if (error instanceof PortalCallError && REDIRECTS.includes(error.status)) return this.moved(method, error.status);
        if (this.userSession || attempt >= 2 || !(error instanceof PortalCallError) || !AUTH_ERRORS.includes(error.code)) throw error;
      } finally {
        this.distrustCurrent = false;
      }
    }
  }

  /**
   * One request, through the budget. The portal refuses QUERY_LIMIT_EXCEEDED and
   * OPERATION_TIME_LIMIT before it runs the method, so those are sent again here, each time with a
   * new slot; a QUERY_LIMIT_EXCEEDED also tells every process that the portal's bucket is full.
   */
  private async requestOnce<T>(method: string, params: Record<string, unknown>): Promise<Page<T>> {
    for (let refused = 0; ; refused += 1) {
      await this.deps.budget.take(this.portal.id);
      try {
        return await this.send<T>(method, params);
      } catch (error) {
        if (!(error instanceof PortalCallError) || refused >= REFUSED_BEFORE_RUNNING_RETRIES) throw error;
        if (error.code === 'QUERY_LIMIT_EXCEEDED') await this.deps.budget.full(this.portal.id);
        else if (error.code === 'OPERATION_TIME_LIMIT') await new Promise((resolve) => setTimeout(resolve, OPERATION_TIME_LIMIT_WAIT_MS));
        else throw error;
      }
    }
  }

  private async send<T>(method: string, params: Record<string, unknown>): Promise<Page<T>> {
    let response: AjaxResult<T>;
    try {
      response = await this.b24.actions.v2.call.make<T>({ method, params: params as never });
    } catch (error) {
      throw metrics.portalRequestFailed(this.toCallError(method, error));
    }
    if (!response.isSuccess) {
      throw metrics.portalRequestFailed(this.toCallError(method, response.getErrors().next().value));
    }
    metrics.portalRequestSucceeded();
    return { result: response.getData()!.result as T, total: response.getTotal(), more: response.isMore() };
  }

  private toCallError(method: string, error: unknown): Error {
    const cause = error instanceof AjaxError ? error.originalError : error;
    if (cause instanceof PortalCallError) return cause;
    if (cause instanceof PortalUnavailableError || error instanceof PortalUnavailableError) {
      this.deps.onUnavailable?.(this.portal.id);
      return (cause instanceof PortalUnavailableError ? cause : error) as PortalUnavailableError;
    }
    if (error instanceof AjaxError) {
      const own = portalsOwnError(error);
      return new PortalCallError(method, own?.code ?? error.code, own?.description ?? error.message, error.status);
    }
    const message = error instanceof Error ? error.message : String(error);
    return new PortalCallError(method, 'CLIENT_ERROR', message, 0);
  }
}

/** A `batch` answer's sections: an object keyed by command key, or `[]` when empty. */
interface BatchAnswer {
  result?: Record<string, unknown> | unknown[];
  result_error?: Record<string, { error?: string | number; error_description?: string } | string> | unknown[];
}

/**
 * The portal's own error when the SDK could not read it: the core answers some errors with an
 * empty code (`{"error":"","error_description":"Wrong DOCUMENT_ID!"}`, bizproc.workflow.start) or
 * a numeric one (`{"error":404,…}`, an event for a workflow that has ended), which the SDK
 * replaces with its transport message. The raw answer is still on the transport error.
 */
function portalsOwnError(error: AjaxError): { code: string; description: string } | null {
  const data = (error.originalError as { response?: { data?: unknown } } | undefined)?.response?.data;
  if (!data || typeof data !== 'object' || !('error' in data)) return null;
  const { error: code, error_description: description } = data as { error: unknown; error_description?: unknown };
  if (typeof code === 'string' && code !== '' && code !== '0') return null;
  return { code: errorCode(code), description: typeof description === 'string' ? description : '' };
}

/** An error code as the portal gave it; an empty or missing one is the generic `ERROR`. */
export function errorCode(code: unknown): string {
  return code === undefined || code === null || code === '' ? 'ERROR' : String(code);
}

function batchOutcome<T>(answer: BatchAnswer | null | undefined, key: string): BatchOutcome<T> {
  const section = <V>(value: Record<string, V> | unknown[] | undefined): V | undefined =>
    value && !Array.isArray(value) && Object.prototype.hasOwnProperty.call(value, key) ? value[key] : undefined;
  const error = section(answer?.result_error);
  if (error !== undefined) {
    return typeof error === 'string'
      ? { ok: false, error, description: '' }
      : { ok: false, error: errorCode(error.error), description: error.error_description ?? '' };
  }
  const result = section(answer?.result);
  if (result !== undefined) return { ok: true, result: result as T };
  return { ok: false, error: 'BATCH_ITEM_MISSING', description: `the portal's batch answer has no outcome for command ${key}` };
}

/** One client per portal per process, so the SDK's in-process refresh coalescing applies. */
export class PortalClients {
  private readonly clients = new Map<number, Promise<PortalClient>>();

  constructor(private readonly deps: PortalClientDeps) {}

  async forPortal(portalId: number): Promise<PortalClient> {
    let client = this.clients.get(portalId);
    if (!client) {
      client = this.build(portalId);
      this.clients.set(portalId, client);
      client.catch(() => this.clients.delete(portalId));
    }
    return client;
  }

  /**
   * A client acting as a user of the app's pages, with the token their frame sent (already
   * verified by FrameAuth): what they do on the portal is done with their rights, and counts
   * against the portal's rate budget like any other call of the app.
   */
  forUser(portal: PortalRecord, accessToken: string): PortalClient {
    const tokens: PortalTokens = { accessToken, refreshToken: '', expiresAt: Date.now() + 3_600_000 };
    return new PortalClient(portal, tokens, { ...this.deps, userSession: true });
  }

  /** Drop the cached client after an install or update replaced the portal's tokens. */
  forget(portalId: number): void {
    this.clients.delete(portalId);
  }

  private async build(portalId: number): Promise<PortalClient> {
    const portal = await this.deps.store.findById(portalId);
    if (!portal) throw new PortalUnavailableError('the portal is not installed');
    if (portal.state !== 'installed') throw new PortalUnavailableError(portal.stateReason ?? `portal is ${portal.state}`);
    const tokens = await this.deps.store.readTokens(portalId);
    if (!tokens) throw new PortalUnavailableError('the portal has no tokens');
    // A portal that became unavailable fails fast from now on: the next lookup reads its state.
    return new PortalClient(portal, tokens, {
      ...this.deps,
      onUnavailable: (id) => this.forget(id),
      onAddress: (known, answer) => void this.followAddress(known, answer),
    });
  }

  /**
   * The OAuth server names the portal's REST endpoint in every refresh answer. When that is not
   * the one we use, the portal has moved: record it (the same member id only) and drop the client
   * bound to the old address.
   */
  private async followAddress(known: PortalRecord, answer: FreshTokens): Promise<void> {
    if (answer.memberId !== known.memberId || !answer.clientEndpoint || answer.clientEndpoint === known.clientEndpoint) return;
    try {
      const moved = await this.deps.store.adoptAddress(known.id, answer.clientEndpoint);
      if (moved) this.deps.logger.info({ portal: known.memberId, from: known.domain, to: moved.domain }, 'the portal has a new address (named by the OAuth server)');
    } catch (error) {
      this.deps.logger.warn({ portal: known.memberId, err: error }, 'the portal’s new address could not be recorded');
    }
    this.forget(known.id);
  }
}
