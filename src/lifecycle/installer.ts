/**
 * What an install, an update and an uninstall do to our records, whichever way they arrive
 * (the install frame or an app event). Routes parse; this proves and decides. A portal's
 * endpoint, tokens and application token change only through a proven install (install-proof.ts),
 * and everything a proven install changes is written in one statement after every check.
 */
import type { Logger } from 'pino';
import { metrics } from '../metrics/metrics.ts';
import type { OAuthSettings } from '../portals/oauth-refresh.ts';
import type { PortalClients } from '../portals/portal-client.ts';
import type { PortalRecord, PortalStore } from '../portals/portal-store.ts';
import type { RestJournal } from '../portals/rest-journal.ts';
import { InstallRefused, proveOnKnownPortal, proveThroughOAuth, versionOf, type InstallClaim } from './install-proof.ts';

export { InstallRefused };

/** Work to do once a portal is installed or updated: bind events, register robots. */
export type PortalHook = (portal: PortalRecord, log: Logger) => Promise<void>;

export interface InstallerDeps {
  store: PortalStore;
  clients: PortalClients;
  oauth: OAuthSettings;
  appCode: string;
  logger: Logger;
  journal: RestJournal;
  afterInstall: PortalHook[];
}

export interface InstallRequest extends InstallClaim {
  accessToken?: string;
  /** absent on older portals' install frames: the install event brings it */
  applicationToken?: string;
  languageId?: string;
  appVersion?: number | null;
}

export class Installer {
  constructor(private readonly deps: InstallerDeps) {}

  async install(request: InstallRequest): Promise<PortalRecord> {
    const log = this.deps.logger.child({ portal: request.memberId });
    const known = await this.deps.store.findByMemberId(request.memberId);
    let portal: PortalRecord;
    try {
      const proof = await proveThroughOAuth(this.deps.oauth, this.deps.appCode, request, this.deps.journal);
      portal = await this.deps.store.saveInstall({
        memberId: proof.memberId,
        domain: proof.domain,
        clientEndpoint: proof.clientEndpoint,
        serverEndpoint: proof.serverEndpoint,
        tokens: proof.tokens,
        applicationToken: request.applicationToken,
        scope: proof.scope,
        status: proof.status,
        userId: proof.owner.userId,
        languageId: request.languageId,
        appVersion: versionOf(proof.owner.app) ?? request.appVersion,
      });
      if (known && known.domain !== portal.domain) {
        log.info({ from: known.domain, to: portal.domain }, 'the portal has a new address (named by the OAuth server)');
      }
    } catch (error) {
      // The same pair may already have been exchanged (the install page, then the install event):
      // a portal we know can still prove the request with its access token at the stored endpoint.
      if (!(error instanceof InstallRefused) || !error.refreshTokenRefused || !known || known.state !== 'installed') throw error;
      const owner = await proveOnKnownPortal(known, request, this.deps.appCode, this.deps.journal).catch((second: unknown) => {
        throw second instanceof InstallRefused ? new InstallRefused(`${error.message}; ${second.message}`) : second;
      });
      portal = await this.deps.store.confirmInstall(known.id, {
        applicationToken: request.applicationToken,
        appVersion: versionOf(owner.app) ?? request.appVersion ?? null,
        languageId: request.languageId,
      });
    }
    this.deps.clients.forget(portal.id);
    log.info({ domain: portal.domain, version: portal.appVersion }, 'portal installed');
    metrics.lifecycle('install');
    await this.runHooks(portal, log);
    return portal;
  }

  /** An update the portal itself sent (its application_token matched): the version, and the robots again. */
  async update(portal: PortalRecord, version: number | null): Promise<PortalRecord> {
    const log = this.deps.logger.child({ portal: portal.memberId });
    if (version !== null) await this.deps.store.setAppVersion(portal.id, version);
    log.info({ version }, 'application updated');
    metrics.lifecycle('update');
    // An update removes the app's robots from the portal: register them again.
    await this.runHooks(portal, log);
    return portal;
  }

  async uninstall(portal: PortalRecord, clean: boolean): Promise<void> {
    await this.deps.store.uninstall(portal.id, clean);
    this.deps.clients.forget(portal.id);
    metrics.lifecycle('uninstall');
    this.deps.logger.info({ portal: portal.memberId, clean }, clean ? 'portal uninstalled, its data deleted' : 'portal uninstalled, tokens forgotten');
  }

  private async runHooks(portal: PortalRecord, log: Logger): Promise<void> {
    for (const hook of this.deps.afterInstall) await hook(portal, log);
  }
}
