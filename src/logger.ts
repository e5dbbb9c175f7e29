/**
 * Structured logs (pino). Anything that could hold a token or secret is redacted by path, so a
 * request body or auth block logged by mistake still leaks nothing.
 */
import pino, { type Logger } from 'pino';

export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  '*.access_token',
  '*.refresh_token',
  '*.application_token',
  '*.client_secret',
  '*.AUTH_ID',
  '*.REFRESH_ID',
  '*.APPLICATION_TOKEN',
  '*.auth',
  '*.accessToken',
  '*.refreshToken',
  '*.clientSecret',
  '*.event_token',
  'body',
  'req.body',
];

export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
      base: { service: 'b24-automation' },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    destination,
  );
}
