/**
 * Who is calling the app's own API from a page in the Bitrix24 frame. The page sends the
 * frame's auth (BX24.getAuth(): access token and member_id); we ask the portal we already know
 * — at its stored endpoint, never one the request names — who that token belongs to (`profile`),
 * and whether they are an administrator. A verified token is remembered for a minute.
 */
import { createHash } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { PortalRecord, PortalStore } from '../portals/portal-store.ts';

export interface FrameUser {
  portal: PortalRecord;
  userId: number;
  isAdmin: boolean;
  accessToken: string;
}

interface Profile {
  ID?: string | number;
  ADMIN?: boolean;
}

const CACHE_MS = 60_000;

export class FrameAuth {
  private readonly verified = new Map<string, { at: number; userId: number; isAdmin: boolean }>();

  constructor(private readonly store: PortalStore) {}

  /** The frame user, or a reply already sent (401) and null. */
  async require(request: FastifyRequest, reply: FastifyReply, options: { admin?: boolean } = {}): Promise<FrameUser | null> {
    const header = request.headers.authorization ?? '';
    const accessToken = /^Bearer (.{1,512})$/.exec(header)?.[1];
    const memberId = request.headers['x-b24-member-id'];
    if (!accessToken || typeof memberId !== 'string' || memberId.length > 64) {
      await reply.code(401).send({ error: 'NO_AUTH', error_description: 'send the frame auth: Authorization: Bearer <AUTH_ID> and X-B24-Member-Id' });
      return null;
    }
    const portal = await this.store.findByMemberId(memberId);
    if (!portal || portal.state === 'uninstalled') {
      await reply.code(401).send({ error: 'NOT_INSTALLED', error_description: 'the application is not installed on this portal' });
      return null;
    }
    const identity = await this.identify(portal, accessToken);
    if (!identity) {
      await reply.code(401).send({ error: 'INVALID_TOKEN', error_description: 'the portal did not accept this token' });
      return null;
    }
    if (options.admin && !identity.isAdmin) {
      await reply.code(403).send({ error: 'ADMIN_ONLY', error_description: 'only a portal administrator may do this' });
      return null;
    }
    return { portal, accessToken, ...identity };
  }

  private async identify(portal: PortalRecord, accessToken: string): Promise<{ userId: number; isAdmin: boolean } | null> {
    const key = createHash('sha256').update(`${portal.memberId}:${accessToken}`).digest('hex');
    const cached = this.verified.get(key);
    if (cached && Date.now() - cached.at < CACHE_MS) return cached;
    let profile: Profile | undefined;
    try {
      // Plain fetch: this is the user's frame token, not ours; it must not enter our refresh or budget.
      const response = await fetch(new URL('profile.json', portal.clientEndpoint), {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ auth: accessToken }),
        signal: AbortSignal.timeout(15_000),
      });
      if (!response.ok) return null;
      profile = ((await response.json()) as { result?: Profile }).result;
    } catch {
      return null;
    }
    const userId = Number(profile?.ID);
    if (!Number.isInteger(userId) || userId <= 0) return null;
    const entry = { at: Date.now(), userId, isAdmin: profile?.ADMIN === true };
    if (this.verified.size > 10_000) this.verified.clear();
    this.verified.set(key, entry);
    return entry;
  }
}
