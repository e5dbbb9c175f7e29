# syntax=docker/dockerfile:1
# Two stages: `build` has every devDependency (TypeScript, Vite, the Prisma CLI) and makes dist/
# and the pages; `runtime` has only the production dependencies and what the app reads at run
# time. test/production/install.test.ts reads the runtime stage's COPY lines below, copies the
# same paths into an empty folder, runs the same `npm ci --omit=dev` and drives the result end to
# end: keep each COPY to one path, written the same on both sides.

# Node 20, the version every test and CI run uses (pg-boss 12 declares >= 22.12 but runs on 20:
# it only schedules the journal prune here); the image runs what the production install test proved.
FROM node:20-bookworm-slim AS build
WORKDIR /app
# The workspace's manifest too (the emulator, a devDependency the build compiles): npm ci links it
COPY package.json package-lock.json ./
COPY packages/b24-emulator/package.json packages/b24-emulator/
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run generate && npm run build

FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package.json
COPY package-lock.json package-lock.json
# Not the optional ones either: all that is optional here is the Prisma CLI and TypeScript
# (optional peers of @prisma/client, devDependencies of ours) and pg-cloudflare.
RUN npm ci --omit=dev --omit=optional --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist dist
COPY --from=build /app/public/app.html public/app.html
COPY --from=build /app/public/settings.html public/settings.html
COPY --from=build /app/public/install.html public/install.html
COPY --from=build /app/public/dist public/dist
COPY --from=build /app/prisma/migrations prisma/migrations
# The embedded database (no DATABASE_URL) writes here; everything else is read-only for the app.
RUN mkdir -p /app/data && chown node:node /app/data
USER node
EXPOSE 3000
# Liveness only: a database outage is for /readyz (and the load balancer), not a restart.
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/livez').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# node itself, not npm: signals reach the app, and no npm process stays resident beside it
CMD ["node", "dist/src/main.js"]
