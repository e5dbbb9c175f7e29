/**
 * Who is installing is decided by the OAuth server, never by the request. Every field of an
 * install request (member_id, domain, endpoints, tokens, application_token) can be forged, and a
 * token proves nothing at a host the request names. So an install is proven by:
 *   1. exchanging its refresh token at the configured OAuth server with our client id and
 *      secret — only a token the portal issued to this application passes, and the answer names
 *      the portal (member_id) and its REST endpoint (client_endpoint);
 *   2. asking that endpoint, with the new access token, whose token it is: our application
 *      (app.info CODE) and an administrator (profile ADMIN).
 * The request may only agree with what these say; nothing is sent to a host it names.
 */
import { OAuthRefreshError, refreshTokens, type FreshTokens, type OAuthSettings } from '../portals/oauth-refresh.ts';
import type { PortalRecord, PortalTokens } from '../portals/portal-store.ts';
import type { JournalTarget, RestJournal } from '../portals/rest-journal.ts';
import { TokenNotVouched, tokenOwner, type AppInfo, type TokenOwner } from '../portals/token-owner.ts';

/** Refused: the reason is for the log; whoever asked hears only that it was refused. */
export class InstallRefused extends Error {
  constructor(
    message: string,
    /** the OAuth server did not take the refresh token (possibly spent moments before by the same install) */
    readonly refreshTokenRefused = false,
  ) {
    super(message);
  }
}

/** What the OAuth server named, the portal's host (not the answer's own `domain`: that is the OAuth server's), and who holds the token. */
export interface ProvenPortal extends Pick<FreshTokens, 'memberId' | 'clientEndpoint' | 'serverEndpoint' | 'scope' | 'status'> {
  domain: string;
  tokens: PortalTokens;
  owner: TokenOwner;
}

export interface InstallClaim {
  memberId: string;
  /** the portal's host as the request names it (DOMAIN, auth[domain]); checked, never used */
  domain?: string;
  refreshToken?: string;
}

export async function proveThroughOAuth(oauth: OAuthSettings, appCode: string, claim: InstallClaim, journal: RestJournal): Promise<ProvenPortal> {
  if (!claim.refreshToken) throw new InstallRefused('the request carries no refresh token to prove itself with');
  let fresh;
  try {
    fresh = await refreshTokens(oauth, claim.refreshToken);
  } catch (error) {
    if (error instanceof OAuthRefreshError) throw new InstallRefused(`the OAuth server refused the refresh token (${error.code})`, true);
    throw error;
  }
  if (fresh.memberId !== claim.memberId) throw new InstallRefused('the OAuth server names another portal than the request');
  let endpoint: URL;
  try {
    endpoint = new URL(fresh.clientEndpoint);
    if (endpoint.protocol !== 'https:' && endpoint.protocol !== 'http:') throw new Error(endpoint.protocol);
  } catch {
    throw new InstallRefused('the OAuth server named no usable client_endpoint');
  }
  if (claim.domain !== undefined && claim.domain.toLowerCase() !== endpoint.host.toLowerCase()) {
    throw new InstallRefused(`the request names domain ${claim.domain}, the OAuth server ${endpoint.host}`);
  }
  const owner = await requireAdminOfApp(fresh.clientEndpoint, fresh.accessToken, appCode, { journal, memberId: fresh.memberId });
  return {
    memberId: fresh.memberId,
    domain: endpoint.host,
    clientEndpoint: fresh.clientEndpoint,
    serverEndpoint: fresh.serverEndpoint,
    scope: fresh.scope,
    status: fresh.status,
    tokens: { accessToken: fresh.accessToken, refreshToken: fresh.refreshToken, expiresAt: fresh.expires * 1000 },
    owner,
  };
}

/**
 * For a portal we already know: its access token, asked at the endpoint we stored (which the
 * OAuth server named at install). Used when the refresh token of an event was already spent
 * (the install page exchanged the same pair moments before).
 */
export async function proveOnKnownPortal(
  portal: PortalRecord,
  claim: InstallClaim & { accessToken?: string },
  appCode: string,
  journal: RestJournal,
): Promise<TokenOwner> {
  if (!claim.accessToken) throw new InstallRefused('the request carries no access token');
  if (claim.domain !== undefined && claim.domain.toLowerCase() !== portal.domain.toLowerCase()) {
    throw new InstallRefused(`the request names domain ${claim.domain}, the portal is at ${portal.domain}`);
  }
  const accessToken = claim.accessToken;
  return requireAdminOfApp(portal.clientEndpoint, accessToken, appCode, { journal, memberId: portal.memberId });
}

async function requireAdminOfApp(clientEndpoint: string, accessToken: string, appCode: string, journalled: JournalTarget): Promise<TokenOwner> {
  let owner: TokenOwner;
  try {
    owner = await tokenOwner(clientEndpoint, accessToken, journalled);
  } catch (error) {
    if (error instanceof TokenNotVouched) throw new InstallRefused(error.message);
    throw error;
  }
  if (owner.app.CODE !== appCode) throw new InstallRefused(`the token was issued to another application (${String(owner.app.CODE)})`);
  if (!owner.isAdmin) throw new InstallRefused(`user ${owner.userId} is not an administrator: only an administrator installs or updates the application`);
  return owner;
}

export function versionOf(app: AppInfo): number | null {
  const version = Number(app.VERSION);
  return app.VERSION !== undefined && Number.isFinite(version) ? version : null;
}
