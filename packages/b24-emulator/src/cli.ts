/**
 * `npm run emulator`: a standalone portal emulator. Prints one JSON line when ready: its base
 * URL, its OAuth URL, the CA file its certificates come from (start clients with
 * NODE_EXTRA_CA_CERTS=<caFile>) and the seeded portals (member id, domain, REST endpoint, admin,
 * webhook). A CA made for this process alone (no EMULATOR_CA_FILE) is removed when it stops.
 */
import { buildEmulator } from './server.ts';
import { describePortal } from './control.ts';
import { removeTlsFiles } from './tls.ts';

const port = Number(process.env.EMULATOR_PORT ?? 4000);
const emulator = await buildEmulator({
  host: process.env.EMULATOR_HOST ?? '127.0.0.1',
  portals: Number(process.env.EMULATOR_PORTALS ?? 2),
  accessTokenTtlSec: process.env.EMULATOR_TOKEN_TTL ? Number(process.env.EMULATOR_TOKEN_TTL) : undefined,
  logLevel: process.env.EMULATOR_LOG_LEVEL,
});
const ownCa = !process.env.EMULATOR_CA_FILE;
const baseUrl = await emulator.listen(port);
process.stdout.write(
  `${JSON.stringify({
    baseUrl,
    oauthUrl: `${baseUrl}/oauth/token/`,
    caFile: emulator.caFile,
    portals: [...emulator.state.portals.values()].map((p) => {
      const { memberId, domain, clientEndpoint, adminUserId, webhookUrl } = describePortal(emulator.state, p);
      return { memberId, domain, clientEndpoint, adminUserId, webhookUrl };
    }),
  })}\n`,
);
const stop = async () => {
  await emulator.close();
  if (ownCa) removeTlsFiles(emulator.caFile);
  process.exit(0);
};
process.on('SIGTERM', () => void stop());
process.on('SIGINT', () => void stop());
