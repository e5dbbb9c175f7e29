/**
 * Who is installed, with which tokens. Tokens are encrypted here on the way in and decrypted
 * only on the way to a REST call; nothing outside this module sees an envelope or a hash.
 */
import type { Portal, PrismaClient } from '../generated/prisma/client.ts';
import { applicationTokenMatches, hashApplicationToken } from './application-token.ts';
import type { TokenCipher } from './token-cipher.ts';

export interface PortalTokens {
  accessToken: string;
  refreshToken: string;
  /** unix ms; null when unknown */
  expiresAt: number | null;
}

export interface InstallRecord {
  memberId: string;
  domain: string;
  clientEndpoint: string;
  serverEndpoint: string;
  tokens: PortalTokens;
  /** absent on older portals' install frames: the install event brings it */
  applicationToken?: string;
  scope?: string;
  status?: string;
  userId?: number | null;
  languageId?: string;
  appVersion?: number | null;
}

/** What the rest of the app may know about a portal: never its tokens. */
export type PortalRecord = Omit<Portal, 'accessToken' | 'refreshToken' | 'applicationTokenHash'>;

export class PortalStore {
  constructor(
    readonly prisma: PrismaClient,
    private readonly cipher: TokenCipher,
  ) {}

  async findByMemberId(memberId: string): Promise<PortalRecord | null> {
    const portal = await this.prisma.portal.findUnique({ where: { memberId } });
    return portal && withoutSecrets(portal);
  }

  async findById(id: number): Promise<PortalRecord | null> {
    const portal = await this.prisma.portal.findUnique({ where: { id } });
    return portal && withoutSecrets(portal);
  }

  /** Records an install (frame or event): one row per member id, updated on every reinstall. */
  async saveInstall(record: InstallRecord): Promise<PortalRecord> {
    const data = {
      domain: record.domain,
      clientEndpoint: record.clientEndpoint,
      serverEndpoint: record.serverEndpoint,
      ...this.encryptTokens(record.tokens),
      ...(record.applicationToken ? { applicationTokenHash: hashApplicationToken(record.applicationToken) } : {}),
      ...(record.scope !== undefined ? { scope: record.scope } : {}),
      ...(record.status !== undefined ? { status: record.status } : {}),
      ...(record.userId !== undefined ? { userId: record.userId } : {}),
      ...(record.languageId !== undefined ? { languageId: record.languageId } : {}),
      ...(record.appVersion !== undefined ? { appVersion: record.appVersion } : {}),
      state: 'installed' as const,
      stateReason: null,
      uninstalledAt: null,
    };
    const portal = await this.prisma.portal.upsert({
      where: { memberId: record.memberId },
      create: { memberId: record.memberId, ...data },
      update: data,
    });
    return withoutSecrets(portal);
  }

  /**
   * A repeated install of a portal we know, proven with its access token at the stored endpoint:
   * identity and tokens stay; the application token (if the request brings one), version and
   * language are written together.
   */
  async confirmInstall(portalId: number, change: { applicationToken?: string; appVersion: number | null; languageId?: string }): Promise<PortalRecord> {
    const portal = await this.prisma.portal.update({
      where: { id: portalId },
      data: {
        ...(change.applicationToken ? { applicationTokenHash: hashApplicationToken(change.applicationToken) } : {}),
        ...(change.appVersion !== null ? { appVersion: change.appVersion } : {}),
        ...(change.languageId !== undefined ? { languageId: change.languageId } : {}),
      },
    });
    return withoutSecrets(portal);
  }

  /**
   * The portal's new REST endpoint, as the OAuth server named it (never from a request). Its
   * domain is the endpoint's host. Null when the endpoint is not an http(s) URL.
   */
  async adoptAddress(portalId: number, clientEndpoint: string): Promise<PortalRecord | null> {
    let url: URL;
    try {
      url = new URL(clientEndpoint);
    } catch {
      return null;
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') return null;
    const portal = await this.prisma.portal.update({ where: { id: portalId }, data: { clientEndpoint, domain: url.host } });
    return withoutSecrets(portal);
  }

  /** The portal, if the presented application_token matches its stored one (one query, constant-time compare). */
  async findAuthenticated(memberId: string, presented: unknown): Promise<PortalRecord | null> {
    const portal = await this.prisma.portal.findUnique({ where: { memberId } });
    return portal && applicationTokenMatches(portal.applicationTokenHash, presented) ? withoutSecrets(portal) : null;
  }

  /** Constant-time check of a presented application_token against the stored one. */
  async applicationTokenMatches(memberId: string, presented: unknown): Promise<boolean> {
    const portal = await this.prisma.portal.findUnique({
      where: { memberId },
      select: { applicationTokenHash: true },
    });
    return applicationTokenMatches(portal?.applicationTokenHash, presented);
  }

  async setAppVersion(portalId: number, appVersion: number): Promise<void> {
    await this.prisma.portal.update({ where: { id: portalId }, data: { appVersion } });
  }

  async readTokens(portalId: number): Promise<PortalTokens | null> {
    const portal = await this.prisma.portal.findUnique({
      where: { id: portalId },
      select: { accessToken: true, refreshToken: true, accessExpiresAt: true },
    });
    return portal ? this.decryptTokens(portal) : null;
  }

  encryptTokens(tokens: PortalTokens): Pick<Portal, 'accessToken' | 'refreshToken' | 'accessExpiresAt'> {
    return {
      accessToken: this.cipher.encrypt(tokens.accessToken),
      refreshToken: this.cipher.encrypt(tokens.refreshToken),
      accessExpiresAt: tokens.expiresAt === null ? null : new Date(tokens.expiresAt),
    };
  }

  decryptTokens(row: Pick<Portal, 'accessToken' | 'refreshToken' | 'accessExpiresAt'>): PortalTokens | null {
    if (!row.accessToken || !row.refreshToken) return null;
    return {
      accessToken: this.cipher.decrypt(row.accessToken),
      refreshToken: this.cipher.decrypt(row.refreshToken),
      expiresAt: row.accessExpiresAt?.getTime() ?? null,
    };
  }

  /** Forgets the tokens; with `clean` (the admin asked to delete data) removes every row of the portal. */
  async uninstall(portalId: number, clean: boolean): Promise<void> {
    if (clean) {
      await this.prisma.portal.delete({ where: { id: portalId } });
      return;
    }
    await this.prisma.portal.update({
      where: { id: portalId },
      data: {
        state: 'uninstalled',
        stateReason: 'the application was uninstalled',
        accessToken: null,
        refreshToken: null,
        accessExpiresAt: null,
        applicationTokenHash: null,
        uninstalledAt: new Date(),
      },
    });
  }

  /**
   * Key ids that stored envelopes name but TOKEN_ENCRYPTION_KEY lacks. Checked at start: a ring
   * that cannot open what is stored would otherwise fail every portal at its first call.
   */
  async unknownKeyIds(): Promise<string[]> {
    const rows = await this.prisma.$queryRaw<Array<{ id: string }>>`
      SELECT DISTINCT split_part(enc, '.', 1) AS id
      FROM portals, LATERAL (VALUES (access_token_enc), (refresh_token_enc)) AS envelopes(enc)
      WHERE enc IS NOT NULL`;
    return rows.map((r) => r.id).filter((id) => !this.cipher.knows(id));
  }

  /** Portals whose tokens are not yet under the current key. */
  async countNotUnderCurrentKey(): Promise<number> {
    const portals = await this.prisma.portal.findMany({
      where: { accessToken: { not: null } },
      select: { accessToken: true, refreshToken: true },
    });
    return portals.filter((p) => this.cipher.needsRewrap(p.accessToken!) || (p.refreshToken !== null && this.cipher.needsRewrap(p.refreshToken))).length;
  }

  /** Re-encrypts every envelope not under the current key (after a key rotation). */
  async rewrapAll(): Promise<number> {
    const portals = await this.prisma.portal.findMany({
      where: { accessToken: { not: null } },
      select: { id: true, accessToken: true, refreshToken: true, accessExpiresAt: true },
    });
    let rewrapped = 0;
    for (const portal of portals) {
      if (!this.cipher.needsRewrap(portal.accessToken!) && !this.cipher.needsRewrap(portal.refreshToken!)) continue;
      const tokens = this.decryptTokens(portal);
      if (!tokens) continue;
      // Compare-and-set: a refresh that stored a new pair meanwhile wins (it is under the current key anyway).
      const { count } = await this.prisma.portal.updateMany({
        where: { id: portal.id, accessToken: portal.accessToken, refreshToken: portal.refreshToken },
        data: this.encryptTokens(tokens),
      });
      rewrapped += count;
    }
    return rewrapped;
  }
}

function withoutSecrets(portal: Portal): PortalRecord {
  const { accessToken: _a, refreshToken: _r, applicationTokenHash: _h, ...rest } = portal;
  return rest;
}
