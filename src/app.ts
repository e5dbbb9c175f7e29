/**
 * The composition root: from configuration and an open database, the app's parts wired
 * together — token store, portal clients, lifecycle routes, the handler route, the job queue
 * and its workers. main.ts and the tests build the app the same way, through here.
 */
import type { PGlite } from '@electric-sql/pglite';
import type { FastifyInstance } from 'fastify';
import type { PgBoss } from 'pg-boss';
import type { Logger } from 'pino';
import type { PrismaClient } from './generated/prisma/client.ts';
import { FrameAuth } from './admin/frame-auth.ts';
import { ConfigError, type Config } from './config.ts';
import { callsRoute } from './admin/calls-route.ts';
import { journalRoute } from './admin/journal-route.ts';
import { pagesRoute } from './admin/pages-route.ts';
import { registrationRoute } from './admin/registration-route.ts';
import { statusRoute } from './admin/status-route.ts';
import { meRoute } from './admin/me-route.ts';
import { robotTemplatesRoute } from './admin/robot-templates-route.ts';
import { tasksRoute } from './admin/tasks-route.ts';
import { workflowsRoute } from './admin/workflows-route.ts';
import { metricsRoute, startMetricsServer } from './metrics/exposition.ts';
import { bindAppEvents } from './lifecycle/bind-events.ts';
import { eventsRoute } from './lifecycle/events-route.ts';
import { installRoute } from './lifecycle/install-route.ts';
import { Installer, type PortalHook } from './lifecycle/installer.ts';
import { PortalCache } from './portals/portal-cache.ts';
import { PortalClients } from './portals/portal-client.ts';
import { PortalStore } from './portals/portal-store.ts';
import { RateBudget } from './portals/rate-budget.ts';
import { RestJournal } from './portals/rest-journal.ts';
import { TokenCipher } from './portals/token-cipher.ts';
import { loadCatalog, type Catalog } from './robots/catalog.ts';
import { handlerRoute } from './robots/handler-route.ts';
import { syncRegistration } from './robots/registration.ts';
import { AnswerSender } from './runtime/answers.ts';
import { CallQueue } from './runtime/call-queue.ts';
import { Executor } from './runtime/executor.ts';
import { createCallIntake } from './runtime/intake.ts';
import { scheduleJournalPrune } from './runtime/journal-prune.ts';
import { DEFAULT_QUEUE_SETTINGS, startQueue } from './runtime/queue.ts';
import { startWorkers, type Workers } from './runtime/workers.ts';

/** The run queue's own connections a process: claims, heartbeats, finishes and answers (call-queue.ts). */
const QUEUE_CONNECTIONS = 3;

/** What the app needs of the configuration (see config.ts for each setting). */
export type AppSettings = Pick<
  Config,
  'appBaseUrl' | 'clientId' | 'clientSecret' | 'appCode' | 'oauthUrl' | 'tokenKeys' | 'rateLimit' | 'workerConcurrency'
> &
  Partial<Pick<Config, 'answerBatchSize' | 'restLogRetentionDays' | 'restLogMaxRowsPerPortal' | 'metrics'>>;

export interface AppDatabase {
  prisma: PrismaClient;
  kind: 'postgres' | 'embedded';
  connectionString?: string;
  pglite?: PGlite;
}

export interface App {
  catalog: Catalog;
  store: PortalStore;
  clients: PortalClients;
  boss: PgBoss;
  installer: Installer;
  /** registers the app's routes on a Fastify instance */
  routes(app: FastifyInstance): Promise<void>;
  /** registration sync for one portal, as on install and update */
  syncPortal(portalId: number): ReturnType<typeof syncRegistration>;
  stop(): Promise<void>;
}

export async function createApp(settings: AppSettings, db: AppDatabase, logger: Logger): Promise<App> {
  const store = new PortalStore(db.prisma, new TokenCipher(settings.tokenKeys));
  const unknownKeys = await store.unknownKeyIds();
  if (unknownKeys.length > 0) {
    throw new ConfigError(
      `stored tokens were encrypted with key id(s) ${unknownKeys.join(', ')}, which TOKEN_ENCRYPTION_KEY does not hold: keep the old key in the ring (\`new:NEW,${unknownKeys[0]}:OLD\`) until \`npm run keys:rewrap\` has moved them`,
    );
  }
  const budget = new RateBudget(db.prisma, settings.rateLimit);
  const oauth = { oauthUrl: settings.oauthUrl, clientId: settings.clientId, clientSecret: settings.clientSecret };
  const journal = new RestJournal(db.prisma, logger);
  const clients = new PortalClients({ store, oauth, budget, logger, journal, cache: new PortalCache(db.prisma) });
  const catalog = await loadCatalog();
  const boss = await startQueue(db, logger);
  const { callRetryLimit, heartbeatSeconds } = DEFAULT_QUEUE_SETTINGS;
  const queue = CallQueue.open(
    db,
    {
      leaseSeconds: heartbeatSeconds,
      connections: QUEUE_CONNECTIONS,
      // Half a process's slots at most for one portal: one that hangs leaves the rest to the others.
      perPortalCalls: Math.max(1, Math.ceil(settings.workerConcurrency / 2)),
    },
    logger,
  );
  let workers: Workers | null = null;
  const intake = await createCallIntake(db, logger, () => workers?.callsStored());
  const base = settings.appBaseUrl.replace(/\/+$/, '');

  const syncPortal = async (portalId: number) => {
    const portal = await store.findById(portalId);
    return syncRegistration({
      prisma: db.prisma,
      portalId,
      portal: await clients.forPortal(portalId),
      catalog,
      baseUrl: base,
      defaultAuthUserId: portal?.userId ?? null,
    });
  };
  const registerHandlers: PortalHook = async (portal, log) => {
    const report = await syncPortal(portal.id);
    log.info({ added: report.added.length, updated: report.updated.length, deleted: report.deleted.length }, 'robots and actions registered');
  };
  const installer = new Installer({
    store,
    clients,
    oauth,
    appCode: settings.appCode,
    logger,
    journal,
    afterInstall: [bindAppEvents(clients, `${base}/events`), registerHandlers],
  });

  const frameAuth = new FrameAuth(store, settings.appCode, journal);
  const executor = new Executor({ queue, clients, catalog, logger, retryLimit: callRetryLimit });
  const answers = new AnswerSender({ sql: queue.connection, clients, logger, batchSize: settings.answerBatchSize ?? 50, budget, leaseSeconds: heartbeatSeconds });
  if (settings.workerConcurrency > 0) {
    workers = await startWorkers(db, queue, executor, answers, {
      callConcurrency: settings.workerConcurrency,
      answerConcurrency: 4,
      leaseSeconds: heartbeatSeconds,
    }, logger);
  }
  const stopJournalPrune = await scheduleJournalPrune(
    boss,
    db.prisma,
    { retentionDays: settings.restLogRetentionDays ?? 3, maxRowsPerPortal: settings.restLogMaxRowsPerPortal ?? 200_000 },
    logger,
  );

  const metricsSettings = settings.metrics ?? null;
  const metricsPort = metricsSettings?.port ?? null;
  const metricsServer = metricsSettings && metricsPort !== null ? await startMetricsServer({ ...metricsSettings, port: metricsPort }, db.prisma) : null;

  return {
    catalog,
    store,
    clients,
    boss,
    installer,
    syncPortal,
    async routes(app) {
      await app.register(installRoute, { installer });
      await app.register(eventsRoute, { installer, store });
      await app.register(handlerRoute, { intake, store, catalog, logger });
      await app.register(registrationRoute, { auth: frameAuth, syncPortal });
      await app.register(statusRoute, { auth: frameAuth, clients, catalog });
      await app.register(callsRoute, { auth: frameAuth, prisma: db.prisma });
      await app.register(journalRoute, { auth: frameAuth, prisma: db.prisma });
      await app.register(workflowsRoute, { auth: frameAuth, clients, prisma: db.prisma });
      await app.register(tasksRoute, { auth: frameAuth, clients });
      await app.register(meRoute, { auth: frameAuth, clients });
      await app.register(robotTemplatesRoute, { auth: frameAuth, clients });
      await app.register(pagesRoute, { catalog, store });
      if (metricsSettings && metricsPort === null) await app.register(metricsRoute, { prisma: db.prisma, token: metricsSettings.token });
    },
    async stop() {
      await metricsServer?.close();
      await workers?.stop();
      await stopJournalPrune();
      await boss.stop({ graceful: true, timeout: 20_000 });
      await intake.close();
      await queue.close();
      await journal.stop();
    },
  };
}
