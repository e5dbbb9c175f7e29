/**
 * The portal's side of an application page: what a Bitrix24 portal shows around the app's frame.
 *
 * - `GET /api/v1/` serves the BX24 library (bx24.js) as api.bitrix24.com does.
 * - On a portal's host, `GET /marketplace/app/<clientId>/?user=<id>` is the page a signed-in
 *   user opens: it POSTs the frame's auth (AUTH_ID, REFRESH_ID, member_id, PLACEMENT, …) into an
 *   iframe at the app's URL, exactly as a portal opens an application.
 * - `GET /marketplace/robot-settings/<clientId>/<templateId>/<activityName>/?user=<id>` opens a
 *   robot's PLACEMENT_HANDLER with the PLACEMENT_OPTIONS a portal sends for robot settings
 *   (code, activity_name, properties, current_values, document_type, document_fields, template);
 *   `setPropertyValue` saves into that activity of the template, as the robot designer does.
 * - The page relays the library's postMessage commands to `POST /marketplace/frame/<sid>/<cmd>`,
 *   where the emulator acts for the frame's session (the user's grant stays on the server side
 *   until the page was opened, as on a portal).
 *
 * - The portal's dialogs (selectUser, selectUsers, selectCRM) are answered by the page itself:
 *   a list to pick from (`/marketplace/frame/<sid>/users`, `/crm` with a search), which tests drive.
 *
 * Which user is signed in is the `user` query parameter (the emulator has no login page); `theme`
 * (light|dark) darkens the page around the frame.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { RestError, protocolFlag, type ActivityNode, type Portal, type TokenGrant, type WorkflowTemplate } from '../contract.ts';
import type { EmulatorState } from '../model.ts';

const BX24_LIBRARY = readFileSync(new URL('./bx24.js', import.meta.url), 'utf8');
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
  title?: string;
  theme: 'light' | 'dark';
  /** the frame holds the application's installer: installFinish reloads the page into the application */
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

export const frameRoutes: FastifyPluginAsync<{ state: EmulatorState }> = async (app, { state }) => {
  const sessions = new Map<string, FrameSession>();
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
      sid: randomBytes(12).toString('hex'),
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
  const authFields = (session: FrameSession) => ({
    AUTH_ID: session.grant.accessToken,
    AUTH_EXPIRES: String(Math.max(0, Math.round((session.grant.accessExpiresAt - Date.now()) / 1000))),
    REFRESH_ID: session.grant.refreshToken,
  });
  const sendPage = (reply: FastifyReply, session: FrameSession, target: string, installerFields?: Record<string, string>) => {
    const query = new URLSearchParams({ DOMAIN: session.portal.domain, PROTOCOL: protocolFlag(session.portal), LANG: session.lang, APP_SID: session.sid });
    const action = `${target}${target.includes('?') ? '&' : '?'}${query}`;
    const fields = installerFields ?? {
      ...authFields(session),
      SERVER_ENDPOINT: `${state.config.baseUrl}/rest/`,
      member_id: session.portal.memberId,
      status: 'L',
      PLACEMENT: session.placement,
      PLACEMENT_OPTIONS: JSON.stringify(session.options),
    };
    return reply.type('text/html; charset=utf-8').send(portalPage(session, action, fields, new URL(target).origin));
  };

  app.get('/api/v1/', async (_request, reply) => reply.type('text/javascript; charset=utf-8').header('cache-control', 'no-store').send(BX24_LIBRARY));

  app.get<{ Params: { clientId: string }; Querystring: PageQuery }>('/marketplace/app/:clientId/', async (request, reply) => {
    const portal = portalOfHost(request);
    const application = state.applications.get(request.params.clientId);
    if (!application) throw new RestError('NOT_FOUND', 'no such application', 404);
    // Until installFinish the application is "not fully installed" (docs
    // settings/app-installation/installation-finish.md): an administrator gets the installer (the
    // Market's Install creates the installation), anyone else the portal's notice.
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
    return sendPage(reply, session, application.appUrl);
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
      return sendPage(reply, session, registration.placementHandler);
    },
  );

  app.post<{ Params: { sid: string; cmd: string }; Body: Record<string, any> }>('/marketplace/frame/:sid/:cmd', async (request) => {
    const portal = portalOfHost(request);
    const session = sessions.get(request.params.sid);
    if (!session || session.portal !== portal) throw new RestError('NOT_FOUND', 'no such frame on this portal', 404);
    const params = request.body ?? {};
    switch (request.params.cmd) {
      case 'getInitData':
        return {
          DOMAIN: portal.domain,
          PROTOCOL: Number(protocolFlag(portal)),
          LANG: session.lang,
          APP_SID: session.sid,
          ...authFields(session),
          MEMBER_ID: portal.memberId,
          IS_ADMIN: portal.users.get(session.userId)?.isAdmin === true,
          PLACEMENT: session.placement,
          PLACEMENT_OPTIONS: session.options,
        };
      case 'refreshAuth':
        session.grant = state.issueGrant(portal, session.clientId, session.userId);
        return authFields(session);
      case 'installFinish':
        await state.lifecycle.finish(portal, session.clientId);
        return {};
      case 'setTitle':
        session.title = String(params.title ?? '').slice(0, 200);
        return {};
      case 'resizeWindow':
        return {};
      // What the portal's user dialog lists: the active intranet users (not extranet ones).
      case 'users':
        return [...portal.users.values()]
          .filter((u) => u.active && u.canReceiveDelegation)
          .map((u) => ({ id: String(u.id), name: `${u.name} ${u.lastName}`.trim(), photo: '', position: u.position, url: `/company/personal/user/${u.id}/`, sub: false, sup: false }));
      // What the portal's CRM dialog finds: documents of the asked types whose title or id has the search text.
      case 'crm': {
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
      case 'placement': {
        const values = params.params ?? {};
        if (typeof values !== 'object' || Array.isArray(values)) throw new RestError('WRONG_PARAMS', 'placement.call takes an object of values', 400);
        return placementCommand(session, String(params.command ?? ''), values);
      }
      default:
        throw new RestError('UNKNOWN_COMMAND', `the portal page does not know ${request.params.cmd}`, 400);
    }
  });
};

function placementCommand(session: FrameSession, command: string, params: Record<string, unknown>) {
  if (command !== 'setPropertyValue') throw new RestError('UNKNOWN_COMMAND', `placement command ${command} is not supported here`, 400);
  const target = session.robotTarget;
  if (!target) throw new RestError('WRONG_PLACEMENT', 'setPropertyValue is for a robot settings page', 400);
  const unknown = Object.keys(params).filter((name) => !target.propertyNames.includes(name));
  if (unknown.length) throw new RestError('WRONG_PROPERTY', `unknown properties: ${unknown.join(', ')}`, 400);
  Object.assign(target.node.Properties, params);
  target.template.modified = new Date().toISOString();
  return { saved: Object.keys(params) };
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

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
// JSON inside a <script>: no "</script>" or "<!--" can close or confuse it.
const scriptJson = (value: unknown) => JSON.stringify(value).replace(/</g, '\\u003c');

function portalPage(session: FrameSession, action: string, fields: Record<string, string>, appOrigin: string): string {
  const inputs = Object.entries(fields)
    .map(([name, value]) => `<input type="hidden" name="${escapeHtml(name)}" value="${escapeHtml(value)}">`)
    .join('');
  const user = session.portal.users.get(session.userId)!;
  // The frame's name is how the BX24 library inside learns its portal and session, as on Bitrix24.
  const frameName = `${session.portal.domain}|${protocolFlag(session.portal)}|${session.sid}`;
  // The portal's theme: the page around the frame and the frame's color-scheme, which the app's
  // page sees as prefers-color-scheme (the BX24 library itself has no theme call).
  const dark = session.theme === 'dark';
  return `<!doctype html>
<html lang="${session.lang}" data-theme="${session.theme}"><head><meta charset="utf-8"><title>Bitrix24 (emulated)</title>
<style>body{margin:0;font:13px system-ui,sans-serif;background:${dark ? '#1d2126;color:#e5e9ec' : '#eef2f4;color:#333'}}header{padding:8px 16px;background:${dark ? '#0b66c3' : '#2fc6f6'};color:#fff}
iframe{display:block;border:0;width:100%;min-height:calc(100vh - 36px);color-scheme:${session.theme}}
dialog{min-width:320px;max-height:70vh;overflow:auto}dialog ul{list-style:none;padding:0;margin:8px 0}dialog li{margin:2px 0}dialog button{font:inherit}</style></head>
<body><header>${escapeHtml(session.portal.domain)} · ${escapeHtml(`${user.name} ${user.lastName}`)}</header>
<form id="open" method="post" action="${escapeHtml(action)}" target="${escapeHtml(frameName)}">${inputs}</form>
<iframe id="app-frame" name="${escapeHtml(frameName)}"></iframe>
<dialog id="portal-dialog"><strong id="portal-dialog-title"></strong>
<input id="portal-dialog-search" type="search" placeholder="Search" hidden>
<ul id="portal-dialog-list"></ul>
<button id="portal-dialog-ok" type="button" hidden>Select</button> <button id="portal-dialog-close" type="button">Cancel</button></dialog>
<script>
(function () {
  var sid = ${scriptJson(session.sid)}, appOrigin = ${scriptJson(appOrigin)}, installer = ${scriptJson(session.installer === true)};
  var frame = document.getElementById('app-frame');
  var dialog = document.getElementById('portal-dialog');
  var list = document.getElementById('portal-dialog-list');
  var search = document.getElementById('portal-dialog-search');
  var ok = document.getElementById('portal-dialog-ok');
  var answer = function () {};
  var resizes = 0;
  function ask(cmd, params) {
    return fetch('/marketplace/frame/' + sid + '/' + encodeURIComponent(cmd), {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(params || {})
    }).then(function (r) { return r.json(); });
  }
  function reply(message, result) {
    frame.contentWindow.postMessage(JSON.stringify({ bx24: 1, callback: message.callback, result: result }), appOrigin);
  }
  // A simple stand-in for the portal's dialogs: a list to pick from (checkboxes when several may be chosen).
  function choose(title, items, multiple, searchable, done) {
    document.getElementById('portal-dialog-title').textContent = title;
    dialog.dataset.kind = title;
    ok.hidden = !multiple;
    list.replaceChildren();
    items.forEach(function (item) {
      var li = document.createElement('li');
      if (multiple) {
        var label = document.createElement('label');
        var box = document.createElement('input');
        box.type = 'checkbox';
        box.value = item.id;
        box.setAttribute('data-pick', item.id);
        label.append(box, ' ' + item.title);
        li.append(label);
      } else {
        var button = document.createElement('button');
        button.type = 'button';
        button.textContent = item.title;
        button.setAttribute('data-pick', item.id);
        button.onclick = function () { dialog.close(); done([item.value]); };
        li.append(button);
      }
      list.append(li);
    });
    ok.onclick = function () {
      var picked = items.filter(function (item) { return list.querySelector('input[value="' + item.id + '"]').checked; });
      dialog.close();
      done(picked.map(function (item) { return item.value; }));
    };
    search.hidden = !searchable;
    answer = done;
    if (!dialog.open) dialog.showModal();
  }
  document.getElementById('portal-dialog-close').onclick = function () { dialog.close(); answer([]); };
  window.addEventListener('message', function (event) {
    if (event.source !== frame.contentWindow || event.origin !== appOrigin || typeof event.data !== 'string') return;
    var message;
    try { message = JSON.parse(event.data); } catch (error) { return; }
    if (!message || message.bx24 !== 1 || message.appSid !== sid) return;
    var params = message.params || {};
    if (message.cmd === 'selectUser') {
      ask('users', {}).then(function (users) {
        choose('users', users.map(function (u) { return { id: u.id, title: u.name, value: u }; }), params.mult === true, false, function (picked) {
          reply(message, params.mult === true ? picked : picked[0] || null);
        });
      });
      return;
    }
    if (message.cmd === 'selectCRM') {
      var show = function (found) {
        choose('crm', found.map(function (e) { return { id: e.id, title: e.title, value: e }; }), params.multiple === true, true, function (picked) {
          var selected = {};
          picked.forEach(function (e) { (selected[e.type] = selected[e.type] || []).push(e); });
          reply(message, selected);
        });
      };
      search.value = '';
      search.oninput = function () { ask('crm', { entityType: params.entityType, search: search.value }).then(show); };
      ask('crm', { entityType: params.entityType, search: '' }).then(show);
      return;
    }
    // Sizes apply in the order the frame asked for them: each goes through the server, and answers
    // can come back out of order; an older, smaller height applied last would leave the frame
    // scrolling inside with nothing left to correct it.
    var resize = message.cmd === 'resizeWindow' ? ++resizes : 0;
    ask(message.cmd, params).then(function (result) {
      // BX24.installFinish in the installer: "the page will reload and the application will launch"
      // (docs sdk/bx24-js-sdk/system-functions/bx24-install-finish.md).
      if (message.cmd === 'installFinish' && installer && !result.error) return void location.reload();
      if (message.cmd === 'setTitle' && !result.error) document.title = params.title;
      if (message.cmd === 'resizeWindow' && !result.error && resize === resizes) frame.style.height = Math.max(0, Number(params.height) || 0) + 'px';
      reply(message, result);
    });
  });
  document.getElementById('open').submit();
})();
</script></body></html>`;
}
