/**
 * One token refresh per portal across every process of the app.
 *
 * The SDK already coalesces simultaneous refreshes inside one client object; across processes
 * a refresh token can be spent only once, so the portal's row is locked (SELECT … FOR UPDATE)
 * while one process refreshes. Whoever gets the lock next finds the stored access token no
 * longer the one it failed with, and reuses it instead of refreshing again. The new pair is
 * committed before anyone uses it.
 */
import { OAuthRefreshError, refreshTokens, type FreshTokens, type OAuthSettings } from './oauth-refresh.ts';
import type { PortalStore, PortalTokens } from './portal-store.ts';

/** The portal cannot be called until an admin opens the app again (or it was uninstalled). */
export class PortalUnavailableError extends Error {
  readonly code = 'PORTAL_UNAVAILABLE';
  constructor(readonly reason: string) {
    super(reason);
  }
}

interface LockedRow {
  access_token_enc: string | null;
  refresh_token_enc: string | null;
  access_expires_at: Date | null;
  state: string;
  state_reason: string | null;
}

/** Considered fresh when it still has this long to live: avoids reusing a token about to die. */
const FRESH_MARGIN_MS = 10_000;

export async function refreshOncePerPortal(
  store: PortalStore,
  oauth: OAuthSettings,
  portalId: number,
  failedAccessToken: string,
  onRefreshed?: (tokens: FreshTokens) => void,
): Promise<PortalTokens> {
  let finalFailure: OAuthRefreshError | null = null;
  const tokens = await store.prisma.$transaction(
    async (tx) => {
      const [row] = await tx.$queryRaw<LockedRow[]>`
        SELECT access_token_enc, refresh_token_enc, access_expires_at, state::text AS state, state_reason
        FROM portals WHERE id = ${portalId} FOR UPDATE`;
      if (!row) throw new PortalUnavailableError('the portal is not installed');
      if (row.state !== 'installed') throw new PortalUnavailableError(row.state_reason ?? `portal is ${row.state}`);
      const stored = store.decryptTokens({
        accessToken: row.access_token_enc,
        refreshToken: row.refresh_token_enc,
        accessExpiresAt: row.access_expires_at,
      });
      if (!stored) throw new PortalUnavailableError('the portal has no tokens');
      const someoneElseRefreshed =
        stored.accessToken !== failedAccessToken && (stored.expiresAt ?? 0) > Date.now() + FRESH_MARGIN_MS;
      if (someoneElseRefreshed) return stored;

      let fresh: FreshTokens;
      try {
        fresh = await refreshTokens(oauth, stored.refreshToken);
      } catch (error) {
        if (error instanceof OAuthRefreshError && error.isFinal) {
          finalFailure = error;
          await tx.portal.update({
            where: { id: portalId },
            data: { state: 'needs_reauth', stateReason: `token refresh refused (${error.code}): an administrator must open the app again` },
          });
          return null;
        }
        throw error;
      }
      const next: PortalTokens = {
        accessToken: fresh.accessToken,
        refreshToken: fresh.refreshToken,
        expiresAt: fresh.expires * 1000,
      };
      await tx.portal.update({ where: { id: portalId }, data: store.encryptTokens(next) });
      onRefreshed?.(fresh);
      return next;
    },
    { maxWait: 60_000, timeout: 60_000 },
  );
  if (finalFailure || !tokens) {
    const failure = finalFailure as OAuthRefreshError | null;
    throw new PortalUnavailableError(
      `token refresh refused (${failure?.code ?? 'unknown'}): an administrator must open the app again`,
    );
  }
  return tokens;
}
