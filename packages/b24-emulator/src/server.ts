/**
 * The portal emulator: OAuth, REST, the queue server and app lifecycle of several Bitrix24
 * portals at once, plus a control API under /_emulator/.
 *
 * Each portal gets a listener of its own, so it has a host of its own (`127.0.0.1:<port>`) the
 * way a portal has a domain: the install frame names only DOMAIN, and the app must reach the
 * portal's REST from that alone. The main port serves OAuth and the control API (and REST,
 * where the token says which portal is meant).
 *
 * Everything is HTTPS, as on Bitrix24, with a certificate from the emulator's own CA (tls.ts);
 * a portal may be created with `protocol: 'http'` (an on-premise portal without TLS).
 */
import { createServer as createHttpServer, type IncomingMessage, type Server as HttpServer, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import formbody from '@fastify/formbody';
import Fastify, { type FastifyInstance } from 'fastify';
import qs from 'qs';
import type { EmulatorConfig, Portal, TokenGrant } from './contract.ts';
import { controlRoutes } from './control.ts';
import { Faults } from './faults.ts';
import { frameRoutes } from './frame/portal-frame.ts';
import { restCors } from './frame/rest-cors.ts';
import { Grants } from './grants.ts';
import { Lifecycle } from './lifecycle.ts';
import { appMethods } from './methods/app.ts';
import { crmMethods } from './methods/crm.ts';
import { robotMethods } from './methods/robots.ts';
import type { AddPortalsOptions, EmulatorState } from './model.ts';
import { oauthRoutes } from './oauth.ts';
import { portalMoves } from './portal-move.ts';
import { restRoutes } from './rest/dispatch.ts';
import { createPortal } from './seed.ts';
import { Stats } from './stats.ts';
import { emulatorTls } from './tls.ts';
import { createWorkflowEngine, workflowControl, workflowMethods } from './workflow/index.ts';

const KEEP_ALIVE_MS = 65_000;

export interface EmulatorOptions {
  host?: string;
  accessTokenTtlSec?: number;
  refreshTokenTtlSec?: number;
  rateLimit?: { drainPerSec?: number; maxBurst?: number };
  operatingLimitSec?: number;
  /** portals seeded at start (default 2) */
  portals?: number;
  logLevel?: string;
  /** the CA certificate file to make or reuse (default: EMULATOR_CA_FILE or one in the OS tmpdir; see tls.ts) */
  caFile?: string;
}

export interface Emulator {
  app: FastifyInstance;
  state: EmulatorState;
  /** the CA that signed the emulator's certificate: what clients trust (NODE_EXTRA_CA_CERTS) */
  caFile: string;
  /** Listens on the main port and gives every portal its own; returns the base URL. */
  listen(port?: number): Promise<string>;
  close(): Promise<void>;
}

export async function buildEmulator(options: EmulatorOptions = {}): Promise<Emulator> {
  const host = options.host ?? '127.0.0.1';
  const tls = await emulatorTls({ caFile: options.caFile, extraHost: host });
  const config: EmulatorConfig = {
    baseUrl: `https://${host}:0`,
    accessTokenTtlSec: options.accessTokenTtlSec ?? 3600,
    refreshTokenTtlSec: options.refreshTokenTtlSec ?? 180 * 24 * 3600,
    rateLimit: { drainPerSec: options.rateLimit?.drainPerSec ?? 2, maxBurst: options.rateLimit?.maxBurst ?? 50 },
    operatingLimitSec: options.operatingLimitSec ?? 480,
  };
  const app = Fastify({ https: { key: tls.key, cert: tls.cert }, keepAliveTimeout: KEEP_ALIVE_MS, logger: options.logLevel ? { level: options.logLevel } : false, bodyLimit: 8 * 1024 * 1024 });
  await app.register(formbody, { parser: (body) => qs.parse(body, { depth: 10, arrayLimit: 1000, parameterLimit: 10_000 }) });

  const portalServers: Array<HttpServer | HttpsServer> = [];
  let listening = false;
  const listenFor = async (portal: Portal) => {
    const route = (req: IncomingMessage, res: ServerResponse) => app.routing(req, res);
    const server = portal.protocol === 'https' ? createHttpsServer({ key: tls.key, cert: tls.cert }, route) : createHttpServer(route);
    // Connections stay open between requests as a portal's front server keeps them (nginx's
    // default is 75 s), so a client's next request does not pay a new TLS handshake.
    server.keepAliveTimeout = KEEP_ALIVE_MS;
    await new Promise<void>((resolve) => server.listen(0, host, resolve));
    portalServers.push(server);
    portal.domain = `${host}:${(server.address() as AddressInfo).port}`;
    portal.clientEndpoint = `${portal.protocol}://${portal.domain}/rest/`;
  };

  const grants = new Grants(() => ({ accessSec: config.accessTokenTtlSec, refreshSec: config.refreshTokenTtlSec }));
  const state = {
    config,
    portals: new Map<string, Portal>(),
    applications: new Map(),
    deliveries: [],
    grants,
    faults: new Faults(),
    methods: new Map(Object.entries({ ...appMethods, ...robotMethods, ...crmMethods, ...workflowMethods })),
    stats: new Stats(),
    eventLog: [],
    operatingCost: new Map(),
    issueGrant(portal: Portal, clientId: string, userId: number): TokenGrant {
      const application = state.applications.get(clientId);
      return grants.issue(portal, clientId, userId, application?.scopes ?? []);
    },
    async deliverEvent(portal: Portal, clientId: string, event: string, data: Record<string, unknown>) {
      await state.lifecycle.deliver(portal, clientId, event, data);
    },
    async addPortals(count: number, { kind = 'cloud', protocol = kind === 'on-premise' ? 'http' : 'https', languageId, people }: AddPortalsOptions = {}) {
      const created: Portal[] = [];
      for (let i = 0; i < count; i += 1) {
        const portal = createPortal(state, state.portals.size, languageId, people);
        portal.protocol = protocol;
        portal.kind = kind;
        state.portals.set(portal.memberId, portal);
        if (listening) await listenFor(portal);
        created.push(portal);
      }
      return created;
    },
  } as unknown as EmulatorState;
  state.lifecycle = new Lifecycle(state);
  state.workflows = createWorkflowEngine(state);
  await state.addPortals(options.portals ?? 2);

  await app.register(portalMoves, { state, listenFor });
  await app.register(oauthRoutes, { state });
  await app.register(restCors);
  await app.register(restRoutes, { state });
  await app.register(controlRoutes, { state });
  await app.register(frameRoutes, { state });
  await app.register(workflowControl, { ctx: state, prefix: '/_emulator' });

  return {
    app,
    state,
    caFile: tls.caFile,
    async listen(port = 0) {
      await app.listen({ port, host });
      config.baseUrl = `https://${host}:${(app.server.address() as AddressInfo).port}`;
      listening = true;
      for (const portal of state.portals.values()) await listenFor(portal);
      return config.baseUrl;
    },
    async close() {
      await Promise.all(portalServers.map((s) => new Promise((resolve) => s.close(resolve))));
      portalServers.forEach((s) => s.closeAllConnections());
      state.workflows.close();
      await app.close();
    },
  };
}
