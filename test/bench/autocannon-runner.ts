/**
 * Runs one autocannon load in this process (spawned by autocannon.ts) and prints its result as
 * JSON. Each request gets the body with every `[<id>]` replaced by a fresh id (autocannon's own
 * idReplacement miscounts Content-Length, and its CLI mangles bodies with brackets).
 */
import autocannon from 'autocannon';

const load = JSON.parse(process.argv[2] ?? '{}') as { url: string; body: string; connections: number; durationSeconds: number; amount?: number };
let sequence = 0;
const prefix = `${process.pid}-${Date.now()}`;
const result = await autocannon({
  url: load.url,
  connections: load.connections,
  duration: load.durationSeconds,
  ...(load.amount ? { amount: load.amount } : {}),
  requests: [
    {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      setupRequest: (request) => ({ ...request, body: load.body.replaceAll('[<id>]', `${prefix}-${(sequence += 1)}`) }),
    },
  ],
});
process.stdout.write(JSON.stringify(result));
