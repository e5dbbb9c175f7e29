import { defineConfig } from 'prisma/config';

// Prisma 7 reads no .env and env() throws when unset: a placeholder keeps `generate` working
// without a database; commands that connect need DATABASE_URL.
export default defineConfig({
  schema: 'prisma/schema.prisma',
  migrations: { path: 'prisma/migrations' },
  datasource: { url: process.env.DATABASE_URL ?? 'postgresql://localhost:5432/placeholder' },
});
