/**
 * One token refresh per portal across every process of the app, with no transaction held open
 * while the OAuth server answers.
 *
 * A refresh token can be spent only once. The process that needs a refresh first takes the
 * portal's refresh lease (one short UPDATE … RETURNING), exchanges the token with nothing open in
 * PostgreSQL, and stores the new pair with a compare-and-set on the refresh token it spent,
 * releasing the lease in the same statement. The others, finding the lease taken, wait for it and
 * then find the stored access token no longer the one they failed with: they reuse it. A process
 * that dies holding the lease holds it no longer than LEASE_MS, longer than the exchange's own
 * timeout, so nobody ever refreshes while another exchange may still be under way.
 */
import { randomUUID } from 'node:crypto';
import { metrics } from '../metrics/metrics.ts';
import { OAuthRefreshError, refreshTokens, type FreshTokens, type OAuthSettings } from './oauth-refresh.ts';
import type { PortalStore, PortalTokens } from './portal-store.ts';
/** The portal cannot be called until an admin opens the app again (or it was uninstalled). */
export class PortalUnavailableError extends Error {
  readonly code = 'PORTAL_UNAVAILABLE';
  constructor(readonly reason: string) {
    super(reason);
  }
}

interface PortalRow {
  access_token_enc: string | null;
  refresh_token_enc: string | null;
  access_expires_at: Date | null;
  state: string;
  state_reason: string | null;
  claimed: boolean;
}

/** Considered fresh when it still has this long to live: avoids reusing a token about to die. */
const FRESH_MARGIN_MS = 10_000;
/** How long a refresh may hold the lease: longer than refreshTokens' own 30 s timeout. */
const LEASE_MS = 45_000;
/** How soon a process waiting for another's refresh looks again: sooner first, then less often,
 *  so a mass expiry (every portal at once, every process waiting) does not flood PostgreSQL. */
const FIRST_POLL_MS = 100;
const MAX_POLL_MS = 1_000;

export async function refreshOncePerPortal(
  store: PortalStore,
  oauth: OAuthSettings,
  portalId: number,
  failedAccessToken: string,
  onRefreshed?: (tokens: FreshTokens) => void,
): Promise<PortalTokens> {
  const { prisma } = store;
  const owner = randomUUID();
  const giveUpAt = Date.now() + LEASE_MS + 15_000;
  let pollMs = FIRST_POLL_MS;
  for (;;) {
    // Takes the lease if nobody holds it (or its holder outlived it), and reads the row either way.
    const [row] = await prisma.$queryRaw<PortalRow[]>`
      WITH claim AS (
        UPDATE portals SET refresh_lease_until = clock_timestamp() + ${LEASE_MS} * interval '1 millisecond', refresh_lease_owner = ${owner}
        WHERE id = ${portalId} AND state = 'installed' AND (refresh_lease_until IS NULL OR refresh_lease_until < clock_timestamp())
        RETURNING id
      )
      SELECT access_token_enc, refresh_token_enc, access_expires_at, state::text AS state, state_reason,
             EXISTS (SELECT 1 FROM claim) AS claimed
      FROM portals WHERE id = ${portalId}`;
    if (!row) throw new PortalUnavailableError('the portal is not installed');
    if (row.state !== 'installed') throw new PortalUnavailableError(row.state_reason ?? `portal is ${row.state}`);
    const release = () => prisma.$executeRaw`
      UPDATE portals SET refresh_lease_until = NULL, refresh_lease_owner = NULL WHERE id = ${portalId} AND refresh_lease_owner = ${owner}`;
    const stored = store.decryptTokens({ accessToken: row.access_token_enc, refreshToken: row.refresh_token_enc, accessExpiresAt: row.access_expires_at });
    if (!stored) {
      if (row.claimed) await release();
      throw new PortalUnavailableError('the portal has no tokens');
    }
    const someoneElseRefreshed = stored.accessToken !== failedAccessToken && (stored.expiresAt ?? 0) > Date.now() + FRESH_MARGIN_MS;
    if (someoneElseRefreshed) {
      if (row.claimed) await release();
      return stored;
    }
    if (!row.claimed) {
      if (Date.now() > giveUpAt) throw new Error('token refresh: another process held the refresh lease too long');
      await new Promise((resolve) => setTimeout(resolve, pollMs * (0.5 + Math.random())));
      pollMs = Math.min(MAX_POLL_MS, pollMs * 1.5);
      continue;
    }

    let fresh: FreshTokens;
    try {
      fresh = await refreshTokens(oauth, stored.refreshToken);
      metrics.tokenRefresh('refreshed');
    } catch (error) {
      metrics.tokenRefresh(error instanceof OAuthRefreshError && error.isFinal ? 'refused' : 'failed');
      if (error instanceof OAuthRefreshError && error.isFinal) {
        const reason =
          error.code === 'PAYMENT_REQUIRED'
            ? 'the app’s subscription on this portal has ended (PAYMENT_REQUIRED): renew it in the Bitrix24 Market, then an administrator opens the app again'
            : `token refresh refused (${error.code}): an administrator must open the app again`;
        // Only if the refresh token refused is still the stored one: a reinstall meanwhile wins.
        await prisma.$executeRaw`
          UPDATE portals SET state = 'needs_reauth', state_reason = ${reason}
          WHERE id = ${portalId} AND refresh_token_enc = ${row.refresh_token_enc}`;
        await release();
        throw new PortalUnavailableError(reason);
      }
      await release();
      throw error;
    }
    const next: PortalTokens = { accessToken: fresh.accessToken, refreshToken: fresh.refreshToken, expiresAt: fresh.expires * 1000 };
    const sealed = store.encryptTokens(next);
    // Compare-and-set on the refresh token just spent: nobody else can have stored a pair from it.
    const swapped = await prisma.$executeRaw`
      UPDATE portals SET access_token_enc = ${sealed.accessToken}, refresh_token_enc = ${sealed.refreshToken},
                         access_expires_at = ${sealed.accessExpiresAt}, updated_at = now(),
                         refresh_lease_until = NULL, refresh_lease_owner = NULL
      WHERE id = ${portalId} AND refresh_token_enc = ${row.refresh_token_enc}`;
    if (swapped === 0) {
      // The tokens changed under us (a reinstall stored a new pair): those are the ones to use.
      await release();
      continue;
    }
    onRefreshed?.(fresh);
    return next;
  }
}
