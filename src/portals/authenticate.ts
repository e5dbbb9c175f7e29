/**
 * Is this request really from the portal it names? The auth block's member_id must be an
 * installed portal of ours and its application_token must match the stored one (constant time).
 * Shared by the events endpoint and the robot handler endpoint.
 */
import { isMemberId } from '../lifecycle/fields.ts';
import { metrics } from '../metrics/metrics.ts';
import type { PortalRecord, PortalStore } from './portal-store.ts';

export type Authenticated = { ok: true; portal: PortalRecord } | { ok: false; reason: string };

export async function authenticatePortalRequest(store: PortalStore, auth: Record<string, unknown> | undefined): Promise<Authenticated> {
  const memberId = auth?.member_id;
  if (typeof memberId !== 'string' || !isMemberId(memberId)) {
    metrics.identityRefused('portal_request', 'malformed_member_id');
    return { ok: false, reason: 'auth[member_id] is missing or not a member id' };
  }
  const portal = await store.findAuthenticated(memberId, auth?.application_token);
  // The same answer for an unknown portal and a wrong token: a caller learns nothing of who is installed.
  if (!portal) {
    metrics.identityRefused('portal_request', 'unknown_portal_or_token');
    return { ok: false, reason: 'unknown portal or application_token mismatch' };
  }
  return { ok: true, portal };
}
