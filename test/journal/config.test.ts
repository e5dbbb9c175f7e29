/** The journal's settings: defaults, and values the Market or the disk would not accept. */
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';

describe('REST journal settings', () => {
  it('keeps 3 days and 200,000 lines a portal unless told', () => {
    expect(loadConfig({})).toMatchObject({ restLogRetentionDays: 3, restLogMaxRowsPerPortal: 200_000 });
    expect(loadConfig({ REST_LOG_RETENTION_DAYS: '30', REST_LOG_MAX_ROWS_PER_PORTAL: '5000' })).toMatchObject({ restLogRetentionDays: 30, restLogMaxRowsPerPortal: 5_000 });
  });

  it('refuses fewer days than the Market asks for, and values that are not whole numbers', () => {
    expect(() => loadConfig({ REST_LOG_RETENTION_DAYS: '2' })).toThrow('REST_LOG_RETENTION_DAYS must be a whole number from 3 to 365, got "2"');
    expect(() => loadConfig({ REST_LOG_RETENTION_DAYS: '3.5' })).toThrow('REST_LOG_RETENTION_DAYS');
    expect(() => loadConfig({ REST_LOG_MAX_ROWS_PER_PORTAL: '10' })).toThrow('REST_LOG_MAX_ROWS_PER_PORTAL must be a whole number from 1000');
  });
});
