/**
 * Configuration, read once from the environment and checked before anything starts. A bad
 * setting stops the process with one line naming it and what it expects. Hand-written: a dozen
 * settings do not need a schema library, and the messages are ours to word.
 */
import { createHash } from 'node:crypto';
import { resolve } from 'node:path';
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
  bx24Url: string;
  databaseUrl?: string;
  dataDir: string;
  tokenKeys: KeyRing;
  logLevel: string;
  rateLimit: { drainPerSec: number; capacity: number };
  workerConcurrency: number;
  answerBatchSize: number;
  /** settings that fell back to development values (warned about once) */
  developmentDefaults: string[];
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];
const DEV_SECRET = 'development-only-not-a-secret';

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const production = env.NODE_ENV === 'production';
  const developmentDefaults: string[] = [];
  const secret = (name: string, devValue: string) => {
    const value = env[name];
    if (value !== undefined && value !== '') return value;
    if (production) throw new ConfigError(`${name} is required when NODE_ENV=production`);
    developmentDefaults.push(name);
    return devValue;
  };

  const port = integer(env, 'PORT', 3000, 0, 65535);
  const appBaseUrl = url(env, 'APP_BASE_URL', `http://localhost:${port}`).replace(/\/+$/, '');
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
    bx24Url: env.B24_JS_URL || '//api.bitrix24.com/api/v1/',
    databaseUrl: optionalDatabaseUrl(env),
    dataDir: resolve(env.DATA_DIR || 'data'),
    tokenKeys: keyRing(secret('TOKEN_ENCRYPTION_KEY', '')),
    logLevel: oneOf(env, 'LOG_LEVEL', LOG_LEVELS, 'info'),
    rateLimit: {
      drainPerSec: number(env, 'PORTAL_RATE_PER_SEC', 2, 0.1, 1000),
      capacity: number(env, 'PORTAL_RATE_BURST', 40, 1, 10_000),
    },
    workerConcurrency: integer(env, 'WORKER_CONCURRENCY', 8, 0, 256),
    answerBatchSize: integer(env, 'ANSWER_BATCH_SIZE', 50, 1, 50),
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
 * TOKEN_ENCRYPTION_KEY: one key (32 bytes as 64 hex digits or base64), or `id:key,id:key` with
 * the current key first, so older keys still open the tokens they wrote (rotation).
 */
function keyRing(raw: string): KeyRing {
  if (raw === '') {
    const key = createHash('sha256').update(DEV_SECRET).digest();
    return { current: { id: 'dev', key }, all: new Map([['dev', key]]) };
  }
  const entries = raw.split(',').map((part, index) => {
    const trimmed = part.trim();
    const colon = trimmed.indexOf(':');
    const [id, material] = colon > 0 ? [trimmed.slice(0, colon), trimmed.slice(colon + 1)] : [`k${index + 1}`, trimmed];
    if (!/^[A-Za-z0-9_-]{1,32}$/.test(id)) throw new ConfigError('TOKEN_ENCRYPTION_KEY key ids must be letters, digits, _ or -');
    const key = /^[0-9a-f]{64}$/i.test(material) ? Buffer.from(material, 'hex') : Buffer.from(material, 'base64');
    if (key.length !== 32) throw new ConfigError('TOKEN_ENCRYPTION_KEY must be 32 bytes: 64 hex digits or base64 (`id:key,id:key` to rotate)');
    return [id, key] as const;
  });
  const [currentId, currentKey] = entries[0]!;
  return { current: { id: currentId, key: currentKey }, all: new Map(entries) };
}
