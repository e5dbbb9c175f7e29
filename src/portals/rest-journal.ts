/**
 * The REST journal: every request the app's server makes to a portal — method, parameters,
 * HTTP status, answer or error, duration, the handler call it served — kept in `rest_journal`
 * (the Market's moderation asks for the last 3 days of them). Tokens and secrets are removed by
 * key before a row exists, anywhere in the parameters or the answer, `batch` commands included.
 *
 * Rows wait in memory and leave in one multi-row INSERT a second (or sooner, when 200 have
 * gathered), so a robot never waits for its journal line. What a crash can lose is the last
 * second of journal lines, never a call or an answer: the call and its answer are committed on
 * their own, before and independently of the journal.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { createHash } from 'node:crypto';
import type { AxiosError, AxiosInstance, AxiosResponse, InternalAxiosRequestConfig } from 'axios';
import qs from 'qs';
import type { Logger } from 'pino';
import type { PrismaClient } from '../generated/prisma/client.ts';

/** One request as it happened, before redaction. */
export interface JournalEntry {
  memberId: string;
  method: string;
  params: unknown;
  /** HTTP status of the answer; 0 = none came */
  status: number;
  /** the answer's body, as the portal sent it */
  answer?: unknown;
  /** `CODE: description` of a refusal, or why no answer came */
  error?: string;
  durationMs: number;
}

/** Where a request's journal line goes: the journal and the portal it was sent to. */
export interface JournalTarget {
  journal: RestJournal;
  memberId: string;
}

export const JOURNAL_TEXT_LIMIT = 8 * 1024;
const FLUSH_EVERY_MS = 1_000;
const FLUSH_AT_ROWS = 200;
/** Rows kept while the database cannot take them; beyond this the oldest are dropped (and counted). */
const MAX_BUFFERED_ROWS = 20_000;
export const REDACTED = '[redacted]';

/**
 * Keys whose value is a credential wherever they appear: OAuth and application tokens, the
 * frame's AUTH_ID/REFRESH_ID, event tokens, the client secret, passwords.
 */
const SECRET_KEY = /^(auth|auth_id|refresh_id|authorization|password|client_secret)$|token|secret/i;

// ---- the handler call a request serves ----

const servingCall = new AsyncLocalStorage<bigint>();

/**
 * Runs a robot's work with its call id attached, so every request made on its behalf — in the
 * executor, the handler, the retries of refused requests — is journalled against the call. An
 * AsyncLocalStorage rather than a per-call client: the portal client is shared per portal (its
 * token refresh coalesces there), and neither the handlers nor RunContext need to change.
 */
export function servingHandlerCall<T>(callId: bigint, work: () => T): T {
  return servingCall.run(callId, work);
}

// ---- redaction ----

/** A copy with every credential replaced, at any depth; `batch` commands are read and redacted too. */
export function redact(value: unknown, depth = 0): unknown {
  if (depth > 20) return '[too deep]';
  if (Array.isArray(value)) return value.map((item) => redact(item, depth + 1));
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>).map(([key, item]) => [
        key,
        SECRET_KEY.test(key) ? REDACTED : key === 'cmd' ? redactCommands(item, depth + 1) : redact(item, depth + 1),
      ]),
    );
  }
  return value;
}

/** `batch`'s cmd: `method?query` strings, whose query may carry an event token or an auth. */
function redactCommands(cmd: unknown, depth: number): unknown {
  if (!cmd || typeof cmd !== 'object') return redact(cmd, depth);
  return Object.fromEntries(
    Object.entries(cmd as Record<string, unknown>).map(([key, command]) => {
      if (typeof command !== 'string') return [key, redact(command, depth + 1)];
      const at = command.indexOf('?');
      if (at < 0) return [key, command];
      const params = redact(qs.parse(command.slice(at + 1), { depth: 10, arrayLimit: 1000 }), depth + 1);
      return [key, `${command.slice(0, at)}?${qs.stringify(params)}`];
    }),
  );
}

/**
 * The calls a request answers, by their event tokens (`bizproc.event.send`/`activity.log`, alone
 * or as `batch` commands), hashed: a call's journal can list its answers, no token is kept.
 */
export function answeredCalls(params: unknown): string[] {
  const tokens = new Set<string>();
  const take = (value: unknown) => {
    if (typeof value === 'string' && value !== '') tokens.add(eventTokenDigest(value));
  };
  if (!params || typeof params !== 'object') return [];
  const { event_token: direct, cmd } = params as { event_token?: unknown; cmd?: unknown };
  take(direct);
  if (cmd && typeof cmd === 'object') {
    for (const command of Object.values(cmd as Record<string, unknown>)) {
      if (typeof command !== 'string' || !command.includes('?')) continue;
      take((qs.parse(command.slice(command.indexOf('?') + 1), { depth: 2 }) as { event_token?: unknown }).event_token);
    }
  }
  return [...tokens];
}

/** How a call's event token is named in the journal: a SHA-256 prefix, not the token. */
export function eventTokenDigest(eventToken: string): string {
  return createHash('sha256').update(eventToken).digest('hex').slice(0, 32);
}

/** JSON text of a value, cut to the limit with a note of how much was left out. */
export function journalText(value: unknown, limit = JOURNAL_TEXT_LIMIT): string {
  let text: string;
  try {
    text = typeof value === 'string' ? value : (JSON.stringify(value) ?? 'null');
  } catch {
    text = String(value);
  }
  return text.length > limit ? `${text.slice(0, limit)}…[${text.length - limit} more characters]` : text;
}

// ---- the journal ----

interface Row {
  memberId: string;
  at: Date;
  method: string;
  params: string;
  status: number;
  answer: string | null;
  error: string | null;
  durationMs: number;
  callId: bigint | null;
  answersFor: string[];
}

export class RestJournal {
  private buffer: Row[] = [];
  private timer: NodeJS.Timeout | null = null;
  private flushing: Promise<void> | null = null;
  private dropped = 0;
  private stopped = false;

  constructor(
    private readonly prisma: PrismaClient,
    private readonly logger: Logger,
  ) {}

  /** Journals one request; redaction happens here, so nothing unredacted is ever kept. */
  record(entry: JournalEntry): void {
    if (this.stopped) return;
    this.buffer.push({
      memberId: entry.memberId,
      at: new Date(),
      method: entry.method.slice(0, 200),
      params: journalText(redact(entry.params ?? {})),
      status: entry.status,
      answer: entry.answer === undefined ? null : journalText(redact(entry.answer)),
      error: entry.error === undefined ? null : journalText(entry.error, 2_000),
      durationMs: Math.max(0, Math.round(entry.durationMs)),
      callId: servingCall.getStore() ?? null,
      answersFor: answeredCalls(entry.params),
    });
    if (this.buffer.length > MAX_BUFFERED_ROWS) {
      this.dropped += this.buffer.length - MAX_BUFFERED_ROWS;
      this.buffer.splice(0, this.buffer.length - MAX_BUFFERED_ROWS);
    }
    if (this.buffer.length >= FLUSH_AT_ROWS && !this.flushing) void this.flush();
    else this.later(FLUSH_EVERY_MS);
  }

  private later(ms: number): void {
    if (!this.stopped) this.timer ??= setTimeout(() => void this.flush(), ms);
  }

  /** Writes what is buffered in one INSERT; rows the database refused stay for the next try. */
  async flush(): Promise<void> {
    if (this.flushing) return this.flushing;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.buffer.length === 0) return;
    const rows = this.buffer;
    this.buffer = [];
    this.flushing = (async () => {
      try {
        await this.prisma.restJournalEntry.createMany({ data: rows });
        if (this.dropped > 0) {
          this.logger.warn({ dropped: this.dropped }, 'REST journal lines dropped while the database could not take them');
          this.dropped = 0;
        }
      } catch (error) {
        this.buffer = [...rows, ...this.buffer].slice(-MAX_BUFFERED_ROWS);
        this.logger.warn({ err: error, waiting: this.buffer.length }, 'REST journal lines not written yet');
        this.later(FLUSH_EVERY_MS * 5);
      } finally {
        this.flushing = null;
        // lines recorded while this flush ran
        if (this.buffer.length > 0) this.later(FLUSH_EVERY_MS);
      }
    })();
    return this.flushing;
  }

  /** The last flush, on shutdown; lines recorded afterwards are not kept. */
  async stop(): Promise<void> {
    await this.flushing;
    await this.flush();
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  /**
   * Journals every request of an SDK client's transport: at this level each HTTP request is
   * one line, the portal client's retries and the SDK's token-refresh retry included.
   */
  watch(http: AxiosInstance, memberId: string): void {
    const started = new WeakMap<object, number>();
    http.interceptors.request.use((config: InternalAxiosRequestConfig) => {
      started.set(config, Date.now());
      // the body is still an object here; the transport serialises it after the interceptors
      (config as InternalAxiosRequestConfig & { journalParams?: unknown }).journalParams = config.data;
      return config;
    });
    const line = (config: InternalAxiosRequestConfig | undefined, status: number, answer: unknown, error?: string) => {
      if (!config) return;
      this.record({
        memberId,
        method: methodOf(config.url ?? ''),
        params: (config as InternalAxiosRequestConfig & { journalParams?: unknown }).journalParams ?? {},
        status,
        answer,
        error: error ?? errorOf(answer),
        durationMs: Date.now() - (started.get(config) ?? Date.now()),
      });
    };
    http.interceptors.response.use(
      (response: AxiosResponse) => {
        line(response.config, response.status, response.data);
        return response;
      },
      (failure: AxiosError) => {
        const response = failure.response;
        line(failure.config, response?.status ?? 0, response?.data, response ? undefined : `${failure.code ?? 'NETWORK_ERROR'}: ${failure.message}`);
        return Promise.reject(failure);
      },
    );
  }
}

/** `https://x/rest/bizproc.robot.add.json?bx24_request_id=…` → `bizproc.robot.add` */
export function methodOf(url: string): string {
  const path = url.split('?')[0] ?? '';
  const last = path.slice(path.lastIndexOf('/') + 1);
  try {
    return decodeURIComponent(last).replace(/\.json$/i, '');
  } catch {
    return last;
  }
}

/** The portal's own error in an answer body, as `CODE: description`. */
export function errorOf(answer: unknown): string | undefined {
  if (!answer || typeof answer !== 'object' || !('error' in answer)) return undefined;
  const { error, error_description: description } = answer as { error: unknown; error_description?: unknown };
  if (error === undefined || error === null) return undefined;
  const code = typeof error === 'object' ? JSON.stringify(error) : String(error) || 'ERROR';
  return typeof description === 'string' && description !== '' ? `${code}: ${description}` : code;
}
