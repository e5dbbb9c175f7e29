/**
 * `npm run keys:rewrap`: after a key rotation (TOKEN_ENCRYPTION_KEY=`new:NEW,old:OLD`), re-encrypts
 * every stored token under the current (first) key. Once it reports 0 left, the old key can be
 * dropped from the setting.
 */
import { ConfigError, loadConfig } from '../config.ts';
import { openDatabase } from '../db/database.ts';
import { createLogger } from '../logger.ts';
import { PortalStore } from '../portals/portal-store.ts';
import { TokenCipher } from '../portals/token-cipher.ts';

try {
  const config = loadConfig();
  const logger = createLogger(config.logLevel === 'info' ? 'warn' : config.logLevel);
  const db = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir }, logger);
  try {
    const store = new PortalStore(db.prisma, new TokenCipher(config.tokenKeys));
    const unknown = await store.unknownKeyIds();
    if (unknown.length > 0) throw new ConfigError(`stored tokens use key ids not in TOKEN_ENCRYPTION_KEY: ${unknown.join(', ')}`);
    const rewrapped = await store.rewrapAll();
    const left = await store.countNotUnderCurrentKey();
    console.log(JSON.stringify({ currentKey: config.tokenKeys.current.id, rewrapped, left }));
  } finally {
    await db.close();
  }
} catch (error) {
  process.stderr.write(`${error instanceof ConfigError ? 'configuration error' : 'rewrap failed'}: ${(error as Error).message}\n`);
  process.exit(1);
}
process.exit(0);
