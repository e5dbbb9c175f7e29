/**
 * A separate process for cross-process tests: opens the shared database, builds the app's
 * portal client, waits until START_AT, then makes COUNT concurrent calls of METHOD and prints
 * one JSON line {ok, failed, errors}.
 */
import pino from 'pino';
import { openDatabase } from '../../src/db/database.ts';
import { PortalClients } from '../../src/portals/portal-client.ts';
import { PortalStore } from '../../src/portals/portal-store.ts';
import { RateBudget } from '../../src/portals/rate-budget.ts';
import { TokenCipher } from '../../src/portals/token-cipher.ts';

const env = process.env;
const key = Buffer.from(env.KEY!, 'hex');
const logger = pino({ level: 'silent' });
const db = await openDatabase({ databaseUrl: env.DATABASE_URL, dataDir: '' }, logger, { migrate: false });
const store = new PortalStore(db.prisma, new TokenCipher({ current: { id: env.KEY_ID!, key }, all: new Map([[env.KEY_ID!, key]]) }));
const clients = new PortalClients({
  store,
  oauth: { oauthUrl: env.OAUTH_URL!, clientId: env.CLIENT_ID!, clientSecret: env.CLIENT_SECRET! },
  budget: new RateBudget(db.prisma, { drainPerSec: Number(env.RATE_PER_SEC ?? 100), capacity: Number(env.RATE_BURST ?? 1000) }),
  logger,
});
const client = await clients.forPortal(Number(env.PORTAL_ID));
await new Promise((resolve) => setTimeout(resolve, Math.max(0, Number(env.START_AT) - Date.now())));
const results = await Promise.allSettled(Array.from({ length: Number(env.COUNT) }, () => client.call(env.METHOD ?? 'profile')));
const errors = results.flatMap((r) => (r.status === 'rejected' ? [String((r.reason as Error).message)] : []));
process.stdout.write(`${JSON.stringify({ ok: results.length - errors.length, failed: errors.length, errors: [...new Set(errors)] })}\n`);
await db.close();
