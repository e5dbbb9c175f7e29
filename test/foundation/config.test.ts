import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.ts';
import { spawnApp } from '../support/process.ts';

describe('configuration', () => {
  it('has working defaults for development and says which secrets it made up', () => {
    const config = loadConfig({});
    expect(config.port).toBe(3000);
    expect(config.appBaseUrl).toBe('http://localhost:3000');
    expect(config.oauthUrl).toBe('https://oauth.bitrix.info/oauth/token/');
    expect(config.databaseUrl).toBeUndefined();
    expect(config.developmentDefaults).toEqual(['B24_CLIENT_ID', 'B24_CLIENT_SECRET', 'TOKEN_ENCRYPTION_KEY']);
  });

  it.each([
    [{ PORT: 'eighty' }, 'PORT must be a whole number from 0 to 65535, got "eighty"'],
    [{ APP_BASE_URL: 'ftp://x' }, 'APP_BASE_URL must be an http(s) URL, got "ftp://x"'],
    [{ DATABASE_URL: 'mysql://x' }, 'DATABASE_URL must be a postgresql:// URL (leave it unset for the embedded database)'],
    [{ TOKEN_ENCRYPTION_KEY: 'short' }, 'TOKEN_ENCRYPTION_KEY must be 32 bytes: 64 hex digits or base64 (`id:key,id:key` to rotate)'],
    [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent, got "loud"'],
    [{ NODE_ENV: 'production' }, 'B24_CLIENT_ID is required when NODE_ENV=production'],
    // a typo in NODE_ENV does not open a public deployment with the public development secrets
    [{ NODE_ENV: 'prodution', APP_BASE_URL: 'https://robots.example.com' }, 'B24_CLIENT_ID is required when APP_BASE_URL (https://robots.example.com) is not a loopback address'],
    [
      { APP_BASE_URL: 'https://robots.example.com', B24_CLIENT_ID: 'app.1', B24_CLIENT_SECRET: 'development-only-not-a-secret' },
      'B24_CLIENT_SECRET must not be the built-in development value when APP_BASE_URL (https://robots.example.com) is not a loopback address',
    ],
    [
      { APP_BASE_URL: 'http://10.0.0.5:3000', B24_CLIENT_ID: 'app.1', B24_CLIENT_SECRET: 's' },
      'TOKEN_ENCRYPTION_KEY is required when APP_BASE_URL (http://10.0.0.5:3000) is not a loopback address',
    ],
    [{ TOKEN_ENCRYPTION_KEY: `a:${'a'.repeat(64)},a:${'b'.repeat(64)}` }, 'TOKEN_ENCRYPTION_KEY names the key id "a" twice'],
    [{ TOKEN_ENCRYPTION_KEY: `a:${'a'.repeat(64)},b:${'a'.repeat(64)}` }, 'TOKEN_ENCRYPTION_KEY holds the same key under two ids ("a" and another)'],
    [
      { TOKEN_ENCRYPTION_KEY: `${'a'.repeat(64)},${'b'.repeat(64)}` },
      'TOKEN_ENCRYPTION_KEY: with several keys each needs its id (`id:key,id:key`, current first; a single key without an id is `k1`)',
    ],
  ])('refuses %o with one clear message', (env, message) => {
    expect(() => loadConfig(env)).toThrow(new ConfigError(message));
  });

  it('development values are fine on loopback addresses only', () => {
    for (const base of ['http://localhost:3000', 'http://127.0.0.1:8080', 'http://[::1]:3000']) {
      expect(loadConfig({ APP_BASE_URL: base }).developmentDefaults).toHaveLength(3);
    }
  });

  it('a single key without an id is k1, so rotating from it names k1 for the old key', () => {
    const old = 'a'.repeat(64);
    expect(loadConfig({ TOKEN_ENCRYPTION_KEY: old }).tokenKeys.current.id).toBe('k1');
    const rotated = loadConfig({ TOKEN_ENCRYPTION_KEY: `k2:${'b'.repeat(64)},k1:${old}` }).tokenKeys;
    expect(rotated.current.id).toBe('k2');
    expect(rotated.all.get('k1')!.toString('hex')).toBe(old);
  });

  it('reads a key ring for rotation, current key first', () => {
    const k1 = 'a'.repeat(64);
    const k2 = Buffer.alloc(32, 7).toString('base64');
    const config = loadConfig({ TOKEN_ENCRYPTION_KEY: `new:${k2},old:${k1}` });
    expect(config.tokenKeys.current.id).toBe('new');
    expect([...config.tokenKeys.all.keys()]).toEqual(['new', 'old']);
  });

  it('npm start with a bad setting prints one line, no stack trace, and exits 1', async () => {
    const run = spawnApp({ PORT: '99999' });
    expect(await run.exited).toBe(1);
    expect(run.stderr().trim().split('\n')).toEqual(['configuration error: PORT must be a whole number from 0 to 65535, got "99999"']);
    expect(run.stdout()).toBe('');
  });
});
