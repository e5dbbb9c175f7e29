// `prisma generate` without network: the CLI wants its native schema engine even though
// generate never runs it; PRISMA_SCHEMA_ENGINE_BINARY (a documented override) points it at
// any existing file so no download is attempted. Prisma 7's query side needs no native engine.
import { spawnSync } from 'node:child_process';

const env = { ...process.env, PRISMA_SCHEMA_ENGINE_BINARY: process.env.PRISMA_SCHEMA_ENGINE_BINARY ?? process.execPath };
const result = spawnSync('npx', ['prisma', 'generate'], { stdio: ['ignore', 'pipe', 'inherit'], env });
if (result.status !== 0) {
  process.stdout.write(result.stdout);
  process.exit(result.status ?? 1);
}
