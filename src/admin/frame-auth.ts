/**
 * Who is calling the app's own API from a page in the Bitrix24 frame. The page sends the
 * frame's auth (BX24.getAuth(): access token and member_id); we ask the portal we already know
 * — at its stored endpoint, never one the request names — whose token it is (token-owner.ts:
 * app.info and profile in one batch). The token must have been issued to THIS application:
 * another app of the portal could otherwise act in ours as its users. A vouched token is
 * remembered for an access token's lifetime, so a page load costs no extra request.
 */
import { createHash } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { PortalRecord, PortalStore } from '../portals/portal-store.ts';
import type { RestJournal } from '../portals/rest-journal.ts';
import { TokenNotVouched, tokenOwner, type AppInfo } from '../portals/token-owner.ts';

export interface FrameUser {
  portal: PortalRecord;
  userId: number;
  isAdmin: boolean;
  accessToken: string;
  /** app.info as the portal answered it with this token: version, licence and payment state */
  app: AppInfo;
}

/** A Bitrix24 access token lives an hour; the portal's state is read on every request regardless. */
const TOKEN_LIFETIME_MS = 60 * 60_000;
const MAX_REMEMBERED = 10_000;

export class FrameAuth {
  private readonly verified = new Map<string, { until: number; userId: number; isAdmin: boolean; app: AppInfo }>();

  constructor(
    private readonly store: PortalStore,
    private readonly appCode: string,
    private readonly journal: RestJournal,
  ) {}

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

  private async identify(portal: PortalRecord, accessToken: string): Promise<{ userId: number; isAdmin: boolean; app: AppInfo } | null> {
    const key = createHash('sha256').update(`${portal.memberId}:${accessToken}`).digest('hex');
    const remembered = this.verified.get(key);
    if (remembered && remembered.until > Date.now()) return remembered;
    let owner;
    try {
      owner = await tokenOwner(portal.clientEndpoint, accessToken, { journal: this.journal, memberId: portal.memberId });
    } catch (error) {
      if (error instanceof TokenNotVouched) return null;
      throw error;
    }
    if (owner.app.CODE !== this.appCode) return null;
    const entry = { until: Date.now() + TOKEN_LIFETIME_MS, userId: owner.userId, isAdmin: owner.isAdmin, app: owner.app };
    if (this.verified.size >= MAX_REMEMBERED) this.verified.clear();
    this.verified.set(key, entry);
    return entry;
  }
}
