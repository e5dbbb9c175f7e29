#!/usr/bin/env node
/**
 * `b24-emulator`: a standalone portal emulator. Prints one JSON line when ready (its base URL,
 * OAuth URL, the CA file its certificates come from — start clients with
 * NODE_EXTRA_CA_CERTS=<caFile> — and the seeded portals: member id, domain, REST endpoint, admin,
 * webhook) and serves until SIGINT or SIGTERM. A CA made for this process alone (no --ca-file, no
 * EMULATOR_CA_FILE) is removed when it stops.
 */
import { parseArgs } from 'node:util';
import { startEmulator, type StartOptions } from './index.ts';

const USAGE = `Usage: b24-emulator [options]

A Bitrix24 portal emulator: OAuth, REST, the queue server, the portal page and a control API
under /_emulator/, over HTTPS with a CA of its own.

Options:
  --port <n>             main port: OAuth, control API (default 4000; 0 = any free port)
  --host <address>       address to listen on (default 127.0.0.1)
  --portals <n>          portals seeded at start (default 2)
  --token-lifetime <s>   access token lifetime in seconds (default 3600)
  --ca-file <path>       the CA certificate to make or reuse (default EMULATOR_CA_FILE, or one
                         in the OS temp dir removed on exit)
  --log-level <level>    pino level of the request log (default: no log)
  -h, --help             this text

Prints one JSON line when ready: {baseUrl, oauthUrl, caFile, portals: [{memberId, domain,
clientEndpoint, adminUserId, webhookUrl}]}.
`;

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

class UsageError extends Error {}

function integer(name: string, text: string | undefined, min: number, max: number): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!/^\d+$/.test(text) || value < min || value > max) throw new UsageError(`--${name} must be a whole number from ${min} to ${max}, not '${text}'`);
  return value;
}

function parseOptions(args: string[]): StartOptions | 'help' {
  let values;
  try {
    ({ values } = parseArgs({
      args,
      strict: true,
      allowPositionals: false,
      options: {
        port: { type: 'string' },
        host: { type: 'string' },
        portals: { type: 'string' },
        'token-lifetime': { type: 'string' },
        'ca-file': { type: 'string' },
        'log-level': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  if (values.help) return 'help';
  const logLevel = values['log-level'];
  if (logLevel !== undefined && !LOG_LEVELS.includes(logLevel)) throw new UsageError(`--log-level must be one of ${LOG_LEVELS.join(', ')}, not '${logLevel}'`);
  return {
    port: integer('port', values.port, 0, 65_535) ?? 4000,
    host: values.host ?? '127.0.0.1',
    portals: integer('portals', values.portals, 0, 1000) ?? 2,
    accessTokenTtlSec: integer('token-lifetime', values['token-lifetime'], 1, 10 * 365 * 24 * 3600),
    caFile: values['ca-file'],
    logLevel,
  };
}

let options: StartOptions | 'help';
try {
  options = parseOptions(process.argv.slice(2));
} catch (error) {
  if (!(error instanceof UsageError)) throw error;
  process.stderr.write(`b24-emulator: ${error.message}\nRun b24-emulator --help for the options.\n`);
  process.exit(2);
}
if (options === 'help') {
  process.stdout.write(USAGE);
  process.exit(0);
}

const running = await startEmulator(options);
const stop = async () => {
  await running.stop();
  process.exit(0);
};
process.on('SIGTERM', () => void stop());
process.on('SIGINT', () => void stop());
process.stdout.write(`${JSON.stringify(running.summary())}\n`);
