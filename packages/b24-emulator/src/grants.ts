/**
 * Grants: the tokens the OAuth server issued for a user of a portal in an app's context, found by
 * access or refresh token, and a grant as oauth.bitrix.info answers it.
 */
import { randomBytes } from 'node:crypto';
import type { EmulatorContext, Portal, TokenGrant } from './contract.ts';

export class Grants {
  private readonly byAccess = new Map<string, TokenGrant>();
  private readonly byRefresh = new Map<string, TokenGrant>();
  /** refreshes per member id, for the inspection API */
  readonly refreshes = new Map<string, number>();

  constructor(private readonly ttl: () => { accessSec: number; refreshSec: number }) {}

  issue(portal: Portal, clientId: string, userId: number, scope: string[]): TokenGrant {
    const { accessSec, refreshSec } = this.ttl();
    const grant: TokenGrant = {
      accessToken: randomBytes(24).toString('hex'),
      refreshToken: randomBytes(24).toString('hex'),
      clientId,
      memberId: portal.memberId,
      userId,
      scope,
      accessExpiresAt: Date.now() + accessSec * 1000,
      refreshExpiresAt: Date.now() + refreshSec * 1000,
      accessRevoked: false,
      refreshRevoked: false,
    };
    this.byAccess.set(grant.accessToken, grant);
    this.byRefresh.set(grant.refreshToken, grant);
    return grant;
  }

  byAccessToken(token: string): TokenGrant | undefined {
    return this.byAccess.get(token);
  }

  byRefreshToken(token: string): TokenGrant | undefined {
    return this.byRefresh.get(token);
  }

  /** Every grant of a portal (optionally of one app): for expire-now and revoke on uninstall. */
  all(memberId: string, clientId?: string): TokenGrant[] {
    return [...this.byAccess.values()].filter((g) => g.memberId === memberId && (!clientId || g.clientId === clientId));
  }
}

/**
 * A grant as oauth.bitrix.info answers it, in its field order: `domain` and `server_endpoint`
 * name the OAuth server itself (settings/oauth/auto-renewal.md: "the domain of the authorization
 * server"), `client_endpoint` the portal's REST (where calls go; it follows a portal that moved).
 */
export function tokenAnswer(state: Pick<EmulatorContext, 'config'>, portal: Portal, grant: TokenGrant) {
  return {
    access_token: grant.accessToken,
    expires: Math.floor(grant.accessExpiresAt / 1000),
    expires_in: Math.round((grant.accessExpiresAt - Date.now()) / 1000),
    scope: grant.scope.join(','),
    domain: new URL(state.config.baseUrl).host,
    server_endpoint: `${state.config.baseUrl}/rest/`,
    status: 'L',
    client_endpoint: portal.clientEndpoint,
    member_id: portal.memberId,
    user_id: grant.userId,
    refresh_token: grant.refreshToken,
  };
}
