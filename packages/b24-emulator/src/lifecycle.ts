/**
 * The app's life on a portal: install (through the frame, or headless by event alone), update
 * (ONAPPUPDATE; the app's robots are removed, as a portal does), uninstall (ONAPPUNINSTALL with
 * CLEAN; tokens revoked). Events go to bound handlers only after installFinish.
 */
import { randomBytes } from 'node:crypto';
import qs from 'qs';
import { RestError, protocolFlag, type AppInstallation, type EmulatorContext, type Portal, type TokenGrant } from './contract.ts';
import { tokenAnswer, type Grants } from './grants.ts';

export interface EventDelivery {
  id: number;
  memberId: string;
  event: string;
  url: string;
  body: string;
  status: number | null;
  error?: string;
  sentAt: string;
}

const FORM = 'application/x-www-form-urlencoded';

/** What the lifecycle reads and writes of the emulator's state (model.ts). */
export type LifecycleState = EmulatorContext & { grants: Grants; eventLog: EventDelivery[] };

export class Lifecycle {
  constructor(private readonly state: LifecycleState) {}

  private application(clientId: string) {
    const application = this.state.applications.get(clientId);
    if (!application) throw new RestError('NOT_FOUND', `no application ${clientId}`, 404);
    return application;
  }

  installation(portal: Portal, clientId: string): AppInstallation {
    const installation = portal.apps.get(clientId);
    if (!installation?.installed) throw new RestError('NOT_INSTALLED', `${clientId} is not installed on ${portal.memberId}`, 409);
    return installation;
  }

  /**
   * What the Market's "Install" does before anything is sent: the installation exists, not yet
   * finished (events wait for installFinish), with its application token.
   */
  begin(portal: Portal, clientId: string): AppInstallation {
    const application = this.application(clientId);
    const installation: AppInstallation = {
      clientId,
      installed: true,
      installFinished: false,
      applicationToken: randomBytes(16).toString('hex'),
      version: application.version,
      events: new Map(),
      robots: new Map(),
      activities: new Map(),
    };
    portal.apps.set(clientId, installation);
    return installation;
  }

  /**
   * What the installer frame is POSTed: the grant, the portal's endpoints and, on cloud portals,
   * APPLICATION_TOKEN (an older on-premise portal leaves it to the install event).
   */
  installerFields(portal: Portal, installation: AppInstallation, grant: TokenGrant): Record<string, string> {
    return {
      AUTH_ID: grant.accessToken,
      AUTH_EXPIRES: String(Math.round((grant.accessExpiresAt - Date.now()) / 1000)),
      REFRESH_ID: grant.refreshToken,
      SERVER_ENDPOINT: `${this.state.config.baseUrl}/rest/`,
      member_id: portal.memberId,
      status: 'L',
      PLACEMENT: 'DEFAULT',
      PLACEMENT_OPTIONS: '{}',
      ...(portal.kind === 'on-premise' ? {} : { APPLICATION_TOKEN: installation.applicationToken }),
    };
  }

  async install(portal: Portal, clientId: string, options: { mode: 'frame' | 'headless'; userId?: number }) {
    const application = this.application(clientId);
    const userId = options.userId ?? 1;
    const installation = this.begin(portal, clientId);
    const grant = this.state.issueGrant(portal, clientId, userId);
    let frame: { status: number; body: string } | null = null;
    if (options.mode === 'frame') {
      const query = new URLSearchParams({ DOMAIN: portal.domain, PROTOCOL: protocolFlag(portal), LANG: portal.languageId, APP_SID: randomBytes(8).toString('hex') });
      const response = await fetch(`${application.installUrl}${application.installUrl.includes('?') ? '&' : '?'}${query}`, {
        method: 'POST',
        headers: { 'content-type': FORM },
        body: new URLSearchParams(this.installerFields(portal, installation, grant)),
      });
      frame = { status: response.status, body: await response.text() };
    } else {
      await this.finish(portal, clientId, application.eventUrl);
    }
    return { applicationToken: installation.applicationToken, tokens: tokenAnswer(this.state, portal, grant), frame };
  }

  /** What BX24.installFinish() signals: from now on events are delivered. */
  async finish(portal: Portal, clientId: string, alsoTo?: string): Promise<void> {
    const installation = this.installation(portal, clientId);
    installation.installFinished = true;
    const data = { VERSION: installation.version, ACTIVE: 'Y', INSTALLED: 'Y', LANGUAGE_ID: portal.languageId };
    await this.deliver(portal, clientId, 'ONAPPINSTALL', data, alsoTo ? [alsoTo] : []);
  }

  async update(portal: Portal, clientId: string, options: { newApplicationToken?: boolean } = {}) {
    const application = this.application(clientId);
    const installation = this.installation(portal, clientId);
    const previous = installation.version;
    application.version = Math.max(application.version, previous) + 1;
    installation.version = application.version;
    installation.robots.clear();
    installation.activities.clear();
    if (options.newApplicationToken) installation.applicationToken = randomBytes(16).toString('hex');
    await this.deliver(portal, clientId, 'ONAPPUPDATE', { VERSION: installation.version, PREVIOUS_VERSION: previous, LANGUAGE_ID: portal.languageId });
    return { version: installation.version, applicationToken: installation.applicationToken };
  }

  async uninstall(portal: Portal, clientId: string, clean: boolean): Promise<void> {
    const installation = this.installation(portal, clientId);
    for (const grant of this.state.grants.all(portal.memberId, clientId)) {
      grant.accessRevoked = true;
      grant.refreshRevoked = true;
    }
    await this.deliver(portal, clientId, 'ONAPPUNINSTALL', { LANGUAGE_ID: portal.languageId, CLEAN: clean ? 1 : 0 });
    installation.installed = false;
    installation.installFinished = false;
    installation.events.clear();
    installation.robots.clear();
    installation.activities.clear();
  }

  /** POSTs an event to every handler bound to it (and `extra` URLs), form-encoded with bracket keys. */
  async deliver(portal: Portal, clientId: string, event: string, data: Record<string, unknown>, extra: string[] = []): Promise<void> {
    const installation = portal.apps.get(clientId);
    if (!installation) return;
    const bound = installation.installFinished ? (installation.events.get(event) ?? []).map((b) => b.handler) : [];
    const urls = [...new Set([...extra, ...bound])];
    const admin = [...portal.users.values()].find((u) => u.isAdmin)!;
    for (const url of urls) {
      const auth =
        event === 'ONAPPUNINSTALL'
          ? {
              domain: portal.domain,
              server_endpoint: `${this.state.config.baseUrl}/rest/`,
              client_endpoint: portal.clientEndpoint,
              member_id: portal.memberId,
              application_token: installation.applicationToken,
            }
          : (() => {
              const grant = this.state.issueGrant(portal, clientId, admin.id);
              const t = tokenAnswer(this.state, portal, grant);
              return {
                access_token: t.access_token,
                expires: t.expires,
                expires_in: t.expires_in,
                scope: t.scope,
                domain: portal.domain,
                server_endpoint: t.server_endpoint,
                status: t.status,
                client_endpoint: t.client_endpoint,
                member_id: t.member_id,
                user_id: t.user_id,
                refresh_token: t.refresh_token,
                application_token: installation.applicationToken,
              };
            })();
      const body = qs.stringify(
        { event, event_handler_id: String(this.state.eventLog.length + 1), data, ts: String(Math.floor(Date.now() / 1000)), auth },
        { encodeValuesOnly: true },
      );
      const delivery: EventDelivery = { id: this.state.eventLog.length + 1, memberId: portal.memberId, event, url, body, status: null, sentAt: new Date().toISOString() };
      this.state.eventLog.push(delivery);
      try {
        const response = await fetch(url, { method: 'POST', headers: { 'content-type': FORM }, body, signal: AbortSignal.timeout(30_000) });
        delivery.status = response.status;
        await response.arrayBuffer();
      } catch (error) {
        delivery.error = (error as Error).message;
      }
    }
  }
}
