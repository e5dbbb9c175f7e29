import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.ts';
import { spawnTs } from '../support/process.ts';

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
  ])('refuses %o with one clear message', (env, message) => {
    expect(() => loadConfig(env)).toThrow(new ConfigError(message));
  });

  it('reads a key ring for rotation, current key first', () => {
    const k1 = 'a'.repeat(64);
    const k2 = Buffer.alloc(32, 7).toString('base64');
    const config = loadConfig({ TOKEN_ENCRYPTION_KEY: `new:${k2},old:${k1}` });
    expect(config.tokenKeys.current.id).toBe('new');
    expect([...config.tokenKeys.all.keys()]).toEqual(['new', 'old']);
  });

  it('npm start with a bad setting prints one line, no stack trace, and exits 1', async () => {
    const run = spawnTs('src/main.ts', { PORT: '99999' });
    expect(await run.exited).toBe(1);
    expect(run.stderr().trim().split('\n')).toEqual(['configuration error: PORT must be a whole number from 0 to 65535, got "99999"']);
    expect(run.stdout()).toBe('');
  });
});
