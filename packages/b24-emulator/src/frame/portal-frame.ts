/**
 * The portal's side of an application page: what a Bitrix24 portal shows around the app's frame
 * (the core's app.layout component and BX.rest.AppLayout, see portal-page.ts and app-layout.js).
 *
 * - On a portal's host, `GET /marketplace/app/<clientId>/?user=<id>` is the page a signed-in
 *   user opens: it POSTs the frame's auth (AUTH_ID, AUTH_EXPIRES, REFRESH_ID, member_id, status,
 *   PLACEMENT, PLACEMENT_OPTIONS) into an iframe at the app's URL, exactly as a portal opens an
 *   application; an administrator opening one not yet finished gets its installer.
 * - `GET /marketplace/robot-settings/<clientId>/<templateId>/<activityName>/?user=<id>` opens a
 *   robot's PLACEMENT_HANDLER with the PLACEMENT_OPTIONS a portal sends for robot settings
 *   (code, activity_name, properties, current_values, document_type, document_fields, template);
 *   its placement command `setPropertyValue` saves into that activity of the template.
 * - `POST /marketplace/frame/<sid>/<action>` is the page's own server side for the frame's
 *   session (the core's lazyload.ajax.php actions access_refresh and set_installed, the user
 *   option behind setInstall, the user and CRM selectors' lists, the placement's commands).
 *
 * Which user is signed in is the `user` query parameter (the emulator has no login page); `lang`
 * is the user's interface language; `theme` (light|dark) darkens the page around the frame.
 */
import { randomBytes } from 'node:crypto';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { RestError, protocolFlag, type ActivityNode, type Portal, type TokenGrant, type WorkflowTemplate } from '../contract.ts';
import type { EmulatorState } from '../model.ts';
import { portalPage } from './portal-page.ts';

const MAX_SESSIONS = 10_000;

interface FrameSession {
  sid: string;
  portal: Portal;
  clientId: string;
  userId: number;
  lang: string;
  grant: TokenGrant;
  placement: string;
  options: Record<string, unknown>;
  /** set for a robot settings page: where setPropertyValue writes */
  robotTarget?: { template: WorkflowTemplate; node: ActivityNode; propertyNames: string[] };
  theme: 'light' | 'dark';
  /** the frame holds the application's installer (getInitData INSTALL: true) */
  installer?: boolean;
}

type PageQuery = { user?: string; lang?: string; theme?: string };

/** The CRM dialog's entity types and their id prefixes (D_3 is DEAL_3), as selectCRM answers them. */
const CRM_TYPES: Record<string, { entity: string; prefix: string }> = {
  deal: { entity: 'DEAL', prefix: 'D' },
  lead: { entity: 'LEAD', prefix: 'L' },
  contact: { entity: 'CONTACT', prefix: 'C' },
  company: { entity: 'COMPANY', prefix: 'CO' },
  quote: { entity: 'QUOTE', prefix: 'Q' },
};

/** A robot settings frame's own command (docs tutorials/bizproc/setting-robot.md). */
const ROBOT_SETTINGS_COMMANDS = ['setPropertyValue'];

export const frameRoutes: FastifyPluginAsync<{ state: EmulatorState }> = async (app, { state }) => {
  const sessions = new Map<string, FrameSession>();
  /** "member:client:user" of the users whose first run is over (the core's user option `install`, set by setInstall) */
  const firstRunOver = new Set<string>();
  const userKey = (session: FrameSession) => `${session.portal.memberId}:${session.clientId}:${session.userId}`;
  app.setErrorHandler((error: Error & { statusCode?: number }, _request, reply) => {
    if (error instanceof RestError) return reply.code(error.status).send({ error: error.code, error_description: error.description });
    return reply.code(error.statusCode ?? 500).send({ error: 'FRAME_ERROR', error_description: error.message });
  });

  const portalOfHost = (request: FastifyRequest) => {
    const portal = [...state.portals.values()].find((p) => p.domain === request.headers.host);
    if (!portal) throw new RestError('NOT_FOUND', 'open this page on a portal host', 404);
    return portal;
  };
  const signedIn = (portal: Portal, query: PageQuery) => {
    const user = portal.users.get(Number(query.user ?? 1));
    if (!user || !user.active) throw new RestError('ACCESS_DENIED', 'no such active user on this portal', 403);
    return user;
  };
  const openSession = (portal: Portal, clientId: string, query: PageQuery, placement: string, options: Record<string, unknown>) => {
    const installation = portal.apps.get(clientId);
    if (!installation?.installed) throw new RestError('NOT_INSTALLED', 'the application is not installed on this portal', 404);
    const user = signedIn(portal, query);
    const session: FrameSession = {
      // component.php: APP_SID = md5(uniqid(rand(), true))
      sid: randomBytes(16).toString('hex'),
      portal,
      clientId,
      userId: user.id,
      lang: ['en', 'ru', 'de'].includes(query.lang ?? '') ? query.lang! : portal.languageId,
      grant: state.issueGrant(portal, clientId, user.id),
      placement,
      options,
      theme: query.theme === 'dark' ? 'dark' : 'light',
    };
    if (sessions.size >= MAX_SESSIONS) sessions.delete(sessions.keys().next().value!);
    sessions.set(session.sid, session);
    return session;
  };
  const expiresIn = (grant: TokenGrant) => String(Math.max(0, Math.round((grant.accessExpiresAt - Date.now()) / 1000)));
  const isAdmin = (session: FrameSession) => session.portal.users.get(session.userId)?.isAdmin === true;
  // template.php's form: the auth, member_id, status and the placement (its options only when there are any).
  const formFields = (session: FrameSession): Record<string, string> => ({
    AUTH_ID: session.grant.accessToken,
    AUTH_EXPIRES: expiresIn(session.grant),
    REFRESH_ID: session.grant.refreshToken,
    member_id: session.portal.memberId,
    status: 'L',
    PLACEMENT: session.placement,
    ...(Object.keys(session.options).length ? { PLACEMENT_OPTIONS: JSON.stringify(session.options) } : {}),
  });
  // applayout.js MessageInterface.getInitData, from the params template.php gives BX.rest.AppLayout.
  const initData = (session: FrameSession) => ({
    LANG: session.lang,
    DOMAIN: session.portal.domain,
    PROTOCOL: Number(protocolFlag(session.portal)),
    PATH: '/rest',
    AUTH_ID: session.grant.accessToken,
    AUTH_EXPIRES: expiresIn(session.grant),
    REFRESH_ID: session.grant.refreshToken,
    MEMBER_ID: session.portal.memberId,
    FIRST_RUN: !firstRunOver.has(userKey(session)),
    IS_ADMIN: isAdmin(session),
    INSTALL: session.installer === true,
    USER_OPTIONS: {},
    APP_OPTIONS: {},
    PLACEMENT: session.placement,
    PLACEMENT_OPTIONS: session.options,
  });
  const sendPage = (reply: FastifyReply, session: FrameSession, target: string, fields: Record<string, string>) => {
    const user = session.portal.users.get(session.userId)!;
    const html = portalPage({
      lang: session.lang,
      theme: session.theme,
      header: `${session.portal.domain} · ${user.name} ${user.lastName}`,
      appSid: session.sid,
      target,
      query: { DOMAIN: session.portal.domain, PROTOCOL: protocolFlag(session.portal), LANG: session.lang, APP_SID: session.sid },
      fields,
      frameName: `${session.portal.domain}|${protocolFlag(session.portal)}|${session.sid}`,
      initData: initData(session),
      placement: session.placement,
      placementCommands: session.robotTarget ? ROBOT_SETTINGS_COMMANDS : [],
    });
    return reply.type('text/html; charset=utf-8').header('cache-control', 'no-store').send(html);
  };

  app.get<{ Params: { clientId: string }; Querystring: PageQuery }>('/marketplace/app/:clientId/', async (request, reply) => {
    const portal = portalOfHost(request);
    const application = state.applications.get(request.params.clientId);
    if (!application) throw new RestError('NOT_FOUND', 'no such application', 404);
    // Until installFinish the application is "not fully installed" (docs
    // settings/app-installation/installation-finish.md; component.php: URL_INSTALL for an admin,
    // REST_AL_ERROR_APP_INSTALL_NOT_FINISH for anyone else). The Market's Install creates the installation.
    const installation = portal.apps.get(application.clientId);
    if (!installation?.installed || !installation.installFinished) {
      const user = signedIn(portal, request.query);
      if (!user.isAdmin) {
        return reply
          .code(403)
          .type('text/html; charset=utf-8')
          .send('<!doctype html><p id="not-installed">The application is not fully installed yet. Please contact your Bitrix24 administrator to complete the installation.</p>');
      }
      const pending = installation?.installed ? installation : state.lifecycle.begin(portal, application.clientId);
      const session = openSession(portal, application.clientId, request.query, 'DEFAULT', {});
      session.installer = true;
      return sendPage(reply, session, application.installUrl, state.lifecycle.installerFields(portal, pending, session.grant));
    }
    const session = openSession(portal, application.clientId, request.query, 'DEFAULT', {});
    return sendPage(reply, session, application.appUrl, formFields(session));
  });

  app.get<{ Params: { clientId: string; templateId: string; activityName: string }; Querystring: PageQuery }>(
    '/marketplace/robot-settings/:clientId/:templateId/:activityName/',
    async (request, reply) => {
      const portal = portalOfHost(request);
      const { clientId, templateId, activityName } = request.params;
      const template = portal.workflows.templates.get(Number(templateId));
      const node = template && findNode(template.template, activityName);
      if (!template || !node) throw new RestError('NOT_FOUND', 'no such activity in that template', 404);
      const registration = [...(portal.apps.get(clientId)?.robots.values() ?? []), ...(portal.apps.get(clientId)?.activities.values() ?? [])].find(
        (r) => r.internalType === node.Type,
      );
      if (!registration) throw new RestError('NOT_FOUND', 'that activity is not one of this application', 404);
      if (registration.usePlacement !== 'Y' || !registration.placementHandler) {
        throw new RestError('NOT_FOUND', 'this robot is set up by the portal form (USE_PLACEMENT is not Y)', 404);
      }
      const properties = Object.fromEntries(
        Object.entries(registration.properties).map(([name, p]) => [name, Object.fromEntries(Object.entries(p).map(([k, v]) => [k.toUpperCase(), v]))]),
      );
      const document = [...portal.documents.values()].find((d) => d.documentType.join() === template.documentType.join());
      const session = openSession(portal, clientId, request.query, 'DEFAULT', {
        code: registration.code,
        activity_name: node.Name,
        properties,
        current_values: { ...node.Properties },
        document_type: template.documentType,
        document_fields: Object.fromEntries(Object.keys(document?.fields ?? {}).map((field) => [field, { Name: field, Type: 'string' }])),
        template: { parameters: listed(template.parameters), variables: listed(template.variables), constants: listed(template.constants) },
      });
      session.robotTarget = { template, node, propertyNames: Object.keys(registration.properties) };
      return sendPage(reply, session, registration.placementHandler, formFields(session));
    },
  );

  const sessionOf = (request: FastifyRequest<{ Params: { sid: string } }>) => {
    const portal = portalOfHost(request);
    const session = sessions.get(request.params.sid);
    if (!session || session.portal !== portal) throw new RestError('NOT_FOUND', 'no such frame on this portal', 404);
    return session;
  };

  app.post<{ Params: { sid: string; action: string }; Body: Record<string, unknown> }>('/marketplace/frame/:sid/:action', async (request) => {
    const session = sessionOf(request);
    const { portal } = session;
    const params = request.body ?? {};
    switch (request.params.action) {
      // component.php action access_refresh: the user's current auth for the application, fresh.
      case 'access_refresh':
        session.grant = state.issueGrant(portal, session.clientId, session.userId);
        return { access_token: session.grant.accessToken, refresh_token: session.grant.refreshToken, expires_in: expiresIn(session.grant) };
      // component.php action set_installed: an administrator's only; the install is finished.
      case 'set_installed': {
        if (!isAdmin(session)) return { result: 'false' };
        if (params.v !== 'N') await state.lifecycle.finish(portal, session.clientId);
        return { result: 'true' };
      }
      // applayout.js setInstall: the user option `install` that ends FIRST_RUN.
      case 'set_install':
        if (params.install === true) firstRunOver.add(userKey(session));
        else firstRunOver.delete(userKey(session));
        return {};
      // What the portal's user selector lists: the active intranet users (not extranet ones).
      case 'user_selector':
        return [...portal.users.values()]
          .filter((u) => u.active && u.canReceiveDelegation)
          .map((u) => ({ id: String(u.id), name: `${u.name} ${u.lastName}`.trim(), photo: '', position: u.position, url: `/company/personal/user/${u.id}/`, sub: false, sup: false }));
      // What the portal's CRM selector finds: documents of the asked types whose title or id has the search text.
      case 'crm_selector': {
        const types = (Array.isArray(params.entityType) ? params.entityType : []).map(String).filter((t) => CRM_TYPES[t]);
        const text = String(params.search ?? '').trim().toLowerCase();
        return [...portal.documents.values()].flatMap((document) => {
          const type = types.find((t) => document.documentType[2] === CRM_TYPES[t]!.entity);
          if (!type) return [];
          const number = document.documentId[2].replace(/^.*_/, '');
          const title = String(document.fields.TITLE ?? document.documentId[2]);
          if (text && !title.toLowerCase().includes(text) && !document.documentId[2].toLowerCase().includes(text)) return [];
          return [{ id: `${CRM_TYPES[type]!.prefix}_${number}`, type, place: type, title, desc: '', url: `/crm/${type}/details/${number}/` }];
        });
      }
      default:
        throw new RestError('UNKNOWN_COMMAND', `the portal page has no action ${request.params.action}`, 400);
    }
  });

  app.post<{ Params: { sid: string; command: string }; Body: Record<string, unknown> }>('/marketplace/frame/:sid/placement/:command', async (request) => {
    const values = request.body ?? {};
    if (typeof values !== 'object' || Array.isArray(values)) throw new RestError('WRONG_PARAMS', 'a placement command takes an object of values', 400);
    return placementCommand(sessionOf(request), request.params.command, values);
  });
};

function placementCommand(session: FrameSession, command: string, params: Record<string, unknown>) {
  if (command !== 'setPropertyValue') throw new RestError('UNKNOWN_COMMAND', `placement command ${command} is not supported here`, 400);
  const target = session.robotTarget;
  if (!target) throw new RestError('WRONG_PLACEMENT', 'setPropertyValue is for a robot settings page', 400);
  // Only the robot's own properties are written (the dialog has a field for nothing else); other
  // keys, such as the SDK's own isRawValue that placement.call sends along, change nothing.
  const saved = Object.keys(params).filter((name) => target.propertyNames.includes(name));
  for (const name of saved) target.node.Properties[name] = params[name];
  if (saved.length) target.template.modified = new Date().toISOString();
  return { saved };
}

function findNode(nodes: ActivityNode[], name: string): ActivityNode | undefined {
  for (const node of nodes) {
    if (node.Name === name) return node;
    const inner = findNode(node.Children ?? [], name);
    if (inner) return inner;
  }
  return undefined;
}

function listed(fields: Record<string, unknown>) {
  return Object.entries(fields).map(([id, field]) => ({ Id: id, ...(field as object) }));
}
