/** `npm run sync -- [member_id…]`: registration sync for the named portals (all installed ones if none). */
import { createApp } from '../app.ts';
import { ConfigError, loadConfig } from '../config.ts';
import { openDatabase } from '../db/database.ts';
import { createLogger } from '../logger.ts';

let failed = false;
try {
  const config = loadConfig();
  const logger = createLogger(config.logLevel === 'info' ? 'warn' : config.logLevel);
  const db = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir }, logger);
  const app = await createApp({ ...config, workerConcurrency: 0 }, db, logger);
  try {
    const wanted = process.argv.slice(2);
    const portals = await db.prisma.portal.findMany({
      where: { state: 'installed', ...(wanted.length > 0 ? { memberId: { in: wanted } } : {}) },
      select: { id: true, memberId: true, domain: true },
    });
    for (const missing of wanted.filter((m) => !portals.some((p) => p.memberId === m))) {
      console.error(`${missing}: not an installed portal`);
      failed = true;
    }
    for (const portal of portals) {
      try {
        const report = await app.syncPortal(portal.id);
        console.log(JSON.stringify({ portal: portal.memberId, domain: portal.domain, ...report }));
      } catch (error) {
        console.error(`${portal.memberId}: ${(error as Error).message}`);
        failed = true;
      }
    }
  } finally {
    await app.stop();
    await db.close();
  }
} catch (error) {
  process.stderr.write(`${error instanceof ConfigError ? 'configuration error' : 'sync failed'}: ${(error as Error).message}\n`);
  process.exit(1);
}
process.exit(failed ? 1 : 0);
