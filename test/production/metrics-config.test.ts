import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.ts';

const TOKEN = 'a'.repeat(32);

describe('metrics settings', () => {
  it('are off unless METRICS_PORT or METRICS_TOKEN is set', () => {
    expect(loadConfig({}).metrics).toBeNull();
  });

  it('on a port of their own, listening where the app does unless METRICS_HOST says otherwise', () => {
    expect(loadConfig({ METRICS_PORT: '9100', HOST: '127.0.0.1' }).metrics).toEqual({ port: 9100, host: '127.0.0.1', token: null });
    expect(loadConfig({ METRICS_PORT: '9100', METRICS_HOST: '10.0.0.5' }).metrics).toEqual({ port: 9100, host: '10.0.0.5', token: null });
  });

  it("a token alone puts /metrics on the app's port", () => {
    expect(loadConfig({ METRICS_TOKEN: TOKEN }).metrics).toEqual({ port: null, host: '0.0.0.0', token: TOKEN });
  });

  it.each([
    [{ METRICS_PORT: '3000' }, /METRICS_PORT must differ from PORT/],
    [{ METRICS_PORT: 'x' }, /METRICS_PORT must be a whole number/],
    [{ METRICS_TOKEN: 'short' }, /METRICS_TOKEN must be 24 to 512 printable characters/],
    [{ METRICS_TOKEN: `${TOKEN} ${TOKEN}` }, /METRICS_TOKEN must be/],
    [{ METRICS_HOST: '0.0.0.0' }, /METRICS_HOST is set but metrics are off/],
  ])('refuses %o with a message naming the setting', (env, message) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(message);
  });
});
