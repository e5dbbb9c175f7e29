/**
 * What an install, an update and an uninstall do to our records, whichever way they arrive
 * (the install frame or an app event). Routes parse and authenticate; this decides.
 */
import type { Logger } from 'pino';
import type { PortalClients } from '../portals/portal-client.ts';
import type { InstallRecord, PortalRecord, PortalStore } from '../portals/portal-store.ts';
import { AccessNotProven, verifyAccess } from './verify-access.ts';

/** Work to do once a portal is installed or updated: bind events, register robots. */
export type PortalHook = (portal: PortalRecord, log: Logger) => Promise<void>;

export class InstallRefused extends Error {}

export interface InstallerDeps {
  store: PortalStore;
  clients: PortalClients;
  appCode: string;
  logger: Logger;
  afterInstall: PortalHook[];
}

export class Installer {
  constructor(private readonly deps: InstallerDeps) {}

  /**
   * Proves the tokens work on the portal, then stores it (one row per member id) and runs the
   * install hooks. A member id already known at another domain is refused: a request cannot
   * move a portal's record to a host it names.
   */
  async install(record: InstallRecord): Promise<PortalRecord> {
    const log = this.deps.logger.child({ portal: record.memberId });
    const known = await this.deps.store.findByMemberId(record.memberId);
    if (known && known.domain !== record.domain) {
      throw new InstallRefused(`member_id ${record.memberId} belongs to a portal at another domain`);
    }
    const info = await this.prove(record, known);
    const portal = await this.deps.store.saveInstall({
      ...record,
      appVersion: info.VERSION === undefined ? record.appVersion : Number(info.VERSION),
    });
    this.deps.clients.forget(portal.id);
    log.info({ domain: portal.domain, version: portal.appVersion }, 'portal installed');
    await this.runHooks(portal, log);
    return portal;
  }

  /** True when the event's access token works on the portal we already know (its stored endpoint). */
  async accessTokenWorksOn(portal: PortalRecord, accessToken: unknown): Promise<boolean> {
    if (typeof accessToken !== 'string' || accessToken === '') return false;
    try {
      await verifyAccess({ ...portal, accessToken, appCode: this.deps.appCode });
      return true;
    } catch (error) {
      if (error instanceof AccessNotProven) return false;
      throw error;
    }
  }

  async update(portal: PortalRecord, change: { applicationToken?: string; version?: number; tokens?: InstallRecord['tokens'] }): Promise<PortalRecord> {
    const log = this.deps.logger.child({ portal: portal.memberId });
    if (change.tokens) {
      portal = await this.deps.store.saveInstall({ ...portal, tokens: change.tokens, applicationToken: change.applicationToken });
      this.deps.clients.forget(portal.id);
    } else if (change.applicationToken) {
      await this.deps.store.setApplicationToken(portal.id, change.applicationToken);
    }
    if (change.version !== undefined) await this.deps.store.setAppVersion(portal.id, change.version);
    log.info({ version: change.version }, 'application updated');
    // An update removes the app's robots from the portal: register them again.
    await this.runHooks(portal, log);
    return portal;
  }

  async uninstall(portal: PortalRecord, clean: boolean): Promise<void> {
    await this.deps.store.uninstall(portal.id, clean);
    this.deps.clients.forget(portal.id);
    this.deps.logger.info({ portal: portal.memberId, clean }, clean ? 'portal uninstalled, its data deleted' : 'portal uninstalled, tokens forgotten');
  }

  private async prove(record: InstallRecord, known: PortalRecord | null) {
    try {
      return await verifyAccess({
        clientEndpoint: known?.clientEndpoint ?? record.clientEndpoint,
        accessToken: record.tokens.accessToken,
        memberId: record.memberId,
        domain: record.domain,
        appCode: this.deps.appCode,
      });
    } catch (error) {
      if (error instanceof AccessNotProven) throw new InstallRefused(error.message);
      throw error;
    }
  }

  private async runHooks(portal: PortalRecord, log: Logger): Promise<void> {
    for (const hook of this.deps.afterInstall) await hook(portal, log);
  }
}
