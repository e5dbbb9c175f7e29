/**
 * Configuration, read once from the environment and checked before anything starts. A bad
 * setting stops the process with one line naming it and what it expects. Hand-written: a dozen
 * settings do not need a schema library, and the messages are ours to word.
 */
import { createHash } from 'node:crypto';
import { resolve } from 'node:path';
import type { MetricsSettings } from './metrics/exposition.ts';
import type { KeyRing } from './portals/token-cipher.ts';

export class ConfigError extends Error {}

export interface Config {
  production: boolean;
  port: number;
  host: string;
  appBaseUrl: string;
  clientId: string;
  clientSecret: string;
  appCode: string;
  oauthUrl: string;
  databaseUrl?: string;
  dataDir: string;
  tokenKeys: KeyRing;
  logLevel: string;
  rateLimit: { drainPerSec: number; capacity: number };
  workerConcurrency: number;
  answerBatchSize: number;
  /** days the REST journal keeps, and its cap per portal (the oldest beyond it pruned) */
  restLogRetentionDays: number;
  restLogMaxRowsPerPortal: number;
  /** GET /metrics for Prometheus: null (off) unless METRICS_PORT or METRICS_TOKEN is set */
  metrics: MetricsSettings | null;
  /** settings that fell back to development values (warned about once) */
  developmentDefaults: string[];
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];
const DEV_SECRET = 'development-only-not-a-secret';
/** stands for "no key given": the ring then holds a key derived from DEV_SECRET */
const DEV_KEY_SETTING = 'dev';

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const production = env.NODE_ENV === 'production';
  const port = integer(env, 'PORT', 3000, 0, 65535);
  const appBaseUrl = url(env, 'APP_BASE_URL', `http://localhost:${port}`).replace(/\/+$/, '');
  // The development values are public (they are in this file): whatever NODE_ENV says (a typo
  // there must not open a deployment), they are refused once the app is reachable from
  // anywhere but this machine.
  const mustBeSecret = production || !isLoopback(appBaseUrl);
  const why = production ? 'when NODE_ENV=production' : `when APP_BASE_URL (${appBaseUrl}) is not a loopback address`;
  const developmentDefaults: string[] = [];
  const secret = (name: string, devValue: string) => {
    const value = env[name];
    if (value !== undefined && value !== '') {
      if (mustBeSecret && value === devValue) throw new ConfigError(`${name} must not be the built-in development value ${why}`);
      return value;
    }
    if (mustBeSecret) throw new ConfigError(`${name} is required ${why}`);
    developmentDefaults.push(name);
    return devValue;
  };

  const clientId = secret('B24_CLIENT_ID', 'local.development.app');
  const config: Config = {
    production,
    port,
    host: env.HOST || '0.0.0.0',
    appBaseUrl,
    clientId,
    clientSecret: secret('B24_CLIENT_SECRET', DEV_SECRET),
    appCode: env.B24_APP_CODE || clientId,
    oauthUrl: url(env, 'B24_OAUTH_URL', 'https://oauth.bitrix.info/oauth/token/'),
    databaseUrl: optionalDatabaseUrl(env),
    dataDir: resolve(env.DATA_DIR || 'data'),
    tokenKeys: keyRing(secret('TOKEN_ENCRYPTION_KEY', DEV_KEY_SETTING)),
    logLevel: oneOf(env, 'LOG_LEVEL', LOG_LEVELS, 'info'),
    rateLimit: {
      drainPerSec: number(env, 'PORTAL_RATE_PER_SEC', 2, 0.1, 1000),
      capacity: number(env, 'PORTAL_RATE_BURST', 40, 1, 10_000),
    },
    workerConcurrency: integer(env, 'WORKER_CONCURRENCY', 64, 0, 256),
    answerBatchSize: integer(env, 'ANSWER_BATCH_SIZE', 50, 1, 50),
    // The Market asks for at least 3 days of REST requests and answers.
    restLogRetentionDays: integer(env, 'REST_LOG_RETENTION_DAYS', 3, 3, 365),
    restLogMaxRowsPerPortal: integer(env, 'REST_LOG_MAX_ROWS_PER_PORTAL', 200_000, 1_000, 100_000_000),
    metrics: metricsSettings(env, port, env.HOST || '0.0.0.0'),
    developmentDefaults,
  };
  return config;
}

function integer(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!/^\d+$/.test(raw) || value < min || value > max) throw new ConfigError(`${name} must be a whole number from ${min} to ${max}, got "${raw}"`);
  return value;
}

function number(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < min || value > max) throw new ConfigError(`${name} must be a number from ${min} to ${max}, got "${raw}"`);
  return value;
}

function url(env: NodeJS.ProcessEnv, name: string, fallback: string): string {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  try {
    const parsed = new URL(raw);
    if (parsed.protocol === 'http:' || parsed.protocol === 'https:') return raw;
  } catch {
    // reported below
  }
  throw new ConfigError(`${name} must be an http(s) URL, got "${raw}"`);
}

function oneOf(env: NodeJS.ProcessEnv, name: string, allowed: string[], fallback: string): string {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!allowed.includes(raw)) throw new ConfigError(`${name} must be one of ${allowed.join(', ')}, got "${raw}"`);
  return raw;
}

function optionalDatabaseUrl(env: NodeJS.ProcessEnv): string | undefined {
  const raw = env.DATABASE_URL;
  if (raw === undefined || raw === '') return undefined;
  if (!/^postgres(ql)?:\/\//.test(raw)) throw new ConfigError('DATABASE_URL must be a postgresql:// URL (leave it unset for the embedded database)');
  return raw;
}

/**
 * METRICS_PORT: /metrics on a listener of its own (METRICS_HOST, default HOST), for a network
 * only Prometheus reaches. METRICS_TOKEN: the bearer token a scrape must send; alone, it puts
 * /metrics on the app's own port. Neither: no /metrics at all.
 */
function metricsSettings(env: NodeJS.ProcessEnv, appPort: number, appHost: string): MetricsSettings | null {
  const port = env.METRICS_PORT ? integer(env, 'METRICS_PORT', 0, 1, 65535) : null;
  const rawToken = env.METRICS_TOKEN;
  const token = rawToken === undefined || rawToken === '' ? null : rawToken;
  if (port === null && token === null) {
    if (env.METRICS_HOST) throw new ConfigError('METRICS_HOST is set but metrics are off: set METRICS_PORT (and/or METRICS_TOKEN) too');
    return null;
  }
  if (port !== null && port === appPort) {
    throw new ConfigError(`METRICS_PORT must differ from PORT (${appPort}); to serve /metrics on the app's port, leave METRICS_PORT unset and set METRICS_TOKEN`);
  }
  if (token !== null && !/^[\x21-\x7e]{24,512}$/.test(token)) {
    throw new ConfigError('METRICS_TOKEN must be 24 to 512 printable characters without spaces (e.g. openssl rand -hex 32)');
  }
  return { port, host: env.METRICS_HOST || appHost, token };
}

/**
 * TOKEN_ENCRYPTION_KEY: one key (32 bytes as 64 hex digits or base64; its envelopes are marked
 * `k1`), or a ring `id:key,id:key` with the current key first. Every envelope names the id of
 * the key that wrote it, so in a ring each key needs the id it was used under: rotating from a
 * single key is `k2:NEW,k1:OLD`. Ids are never guessed from positions (a guess that moved the
 * old key to another id would leave every stored token unreadable).
 */
function keyRing(raw: string): KeyRing {
  if (raw === DEV_KEY_SETTING) {
    const key = createHash('sha256').update(DEV_SECRET).digest();
    return { current: { id: 'dev', key }, all: new Map([['dev', key]]) };
  }
  const parts = raw.split(',').map((part) => part.trim());
  const entries = parts.map((part) => {
    const colon = part.indexOf(':');
    if (colon <= 0 && parts.length > 1) {
      throw new ConfigError('TOKEN_ENCRYPTION_KEY: with several keys each needs its id (`id:key,id:key`, current first; a single key without an id is `k1`)');
    }
    const [id, material] = colon > 0 ? [part.slice(0, colon), part.slice(colon + 1)] : ['k1', part];
    if (!/^[A-Za-z0-9_-]{1,32}$/.test(id)) throw new ConfigError('TOKEN_ENCRYPTION_KEY key ids must be 1 to 32 letters, digits, _ or -');
    const key = /^[0-9a-f]{64}$/i.test(material) ? Buffer.from(material, 'hex') : Buffer.from(material, 'base64');
    if (key.length !== 32) throw new ConfigError('TOKEN_ENCRYPTION_KEY must be 32 bytes: 64 hex digits or base64 (`id:key,id:key` to rotate)');
    return [id, key] as const;
  });
  const ids = new Set<string>();
  for (const [id, key] of entries) {
    if (ids.has(id)) throw new ConfigError(`TOKEN_ENCRYPTION_KEY names the key id "${id}" twice`);
    if (entries.some(([other, material]) => other !== id && material.equals(key))) {
      throw new ConfigError(`TOKEN_ENCRYPTION_KEY holds the same key under two ids ("${id}" and another)`);
    }
    ids.add(id);
  }
  const [currentId, currentKey] = entries[0]!;
  return { current: { id: currentId, key: currentKey }, all: new Map(entries) };
}

/** localhost, 127.0.0.0/8 or ::1: reachable from this machine only. */
function isLoopback(address: string): boolean {
  const host = new URL(address).hostname.replace(/^\[|\]$/g, '');
  return host === 'localhost' || host.endsWith('.localhost') || /^127(\.\d{1,3}){3}$/.test(host) || host === '::1';
}
