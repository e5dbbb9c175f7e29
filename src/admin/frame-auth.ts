/**
 * Who is calling the app's own API from a page in the Bitrix24 frame. The page sends the
 * frame's auth (BX24.getAuth(): access token and member_id); we ask the portal we already know
 * — at its stored endpoint, never one the request names — whose token it is (token-owner.ts:
 * app.info and profile in one batch). The token must have been issued to THIS application:
 * another app of the portal could otherwise act in ours as its users. A vouched token is
 * remembered for an access token's lifetime, so a page load costs no extra request.
 *
 * Anyone can send a token, so what a token nobody vouched for may cost is bounded: requests
 * carrying the same token while it is being checked share that one check (a page's first load
 * sends several at once); a refused token is remembered as refused for a minute; and the checks of
 * unknown tokens a process sends one portal are metered (a leaky bucket: a burst of 10, then 5 a
 * second) — beyond that the request is told to retry (429) at once. A flood of junk tokens naming
 * a portal therefore costs that portal at most those few requests a second, not one per junk
 * request; a page load needs one check for its token.
 */
import { createHash } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { metrics } from '../metrics/metrics.ts';
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
/** How long a token the portal refused is refused without asking again. */
const REFUSED_FOR_MS = 60_000;
/** Checks of unknown tokens one process may send one portal: a burst, then so many a second. */
export const UNKNOWN_TOKEN_CHECKS = { burst: 10, perSecond: 5 };

type Identity = { userId: number; isAdmin: boolean; app: AppInfo };

export class FrameAuth {
  private readonly verified = new Map<string, Identity & { until: number }>();
  private readonly refused = new Map<string, number>();
  private readonly checking = new Map<string, Promise<Identity | null>>();
  /** per portal: the bucket's level and when it was last drained */
  private readonly checkBuckets = new Map<number, { level: number; at: number }>();

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
      metrics.identityRefused('frame', 'no_auth');
      await reply.code(401).send({ error: 'NO_AUTH', error_description: 'send the frame auth: Authorization: Bearer <AUTH_ID> and X-B24-Member-Id' });
      return null;
    }
    const portal = await this.store.findByMemberId(memberId);
    if (!portal || portal.state === 'uninstalled') {
      metrics.identityRefused('frame', 'not_installed');
      await reply.code(401).send({ error: 'NOT_INSTALLED', error_description: 'the application is not installed on this portal' });
      return null;
    }
    const identity = await this.identify(portal, accessToken);
    if (identity === 'busy') {
      await reply.code(429).header('retry-after', '1').send({ error: 'TOO_MANY_TOKEN_CHECKS', error_description: 'too many unknown tokens for this portal are being checked; try again in a second' });
      return null;
    }
    if (!identity) {
      metrics.identityRefused('frame', 'invalid_token');
      await reply.code(401).send({ error: 'INVALID_TOKEN', error_description: 'the portal did not accept this token' });
      return null;
    }
    if (options.admin && !identity.isAdmin) {
      metrics.identityRefused('frame', 'not_admin');
      await reply.code(403).send({ error: 'ADMIN_ONLY', error_description: 'only a portal administrator may do this' });
      return null;
    }
    return { portal, accessToken, ...identity };
  }

  private async identify(portal: PortalRecord, accessToken: string): Promise<Identity | null | 'busy'> {
    const key = createHash('sha256').update(`${portal.memberId}:${accessToken}`).digest('hex');
    const now = Date.now();
    const remembered = this.verified.get(key);
    if (remembered && remembered.until > now) return remembered;
    if ((this.refused.get(key) ?? 0) > now) return null;
    const pending = this.checking.get(key);
    if (pending) return pending;
    if (!this.takeCheck(portal.id, now)) return 'busy';
    const check = this.check(portal, accessToken, key).finally(() => this.checking.delete(key));
    this.checking.set(key, check);
    return check;
  }

  /** One check from the portal's bucket, if it has room. */
  private takeCheck(portalId: number, now: number): boolean {
    const bucket = this.checkBuckets.get(portalId) ?? { level: 0, at: now };
    bucket.level = Math.max(0, bucket.level - ((now - bucket.at) / 1000) * UNKNOWN_TOKEN_CHECKS.perSecond);
    bucket.at = now;
    if (bucket.level + 1 > UNKNOWN_TOKEN_CHECKS.burst) return false;
    bucket.level += 1;
    if (this.checkBuckets.size >= MAX_REMEMBERED) this.checkBuckets.clear();
    this.checkBuckets.set(portalId, bucket);
    return true;
  }

  private async check(portal: PortalRecord, accessToken: string, key: string): Promise<Identity | null> {
    let owner;
    try {
      owner = await tokenOwner(portal.clientEndpoint, accessToken, { journal: this.journal, memberId: portal.memberId });
    } catch (error) {
      if (!(error instanceof TokenNotVouched)) throw error;
      if (error.refusedByPortal) remember(this.refused, key, Date.now() + REFUSED_FOR_MS);
      return null;
    }
    if (owner.app.CODE !== this.appCode) {
      remember(this.refused, key, Date.now() + REFUSED_FOR_MS);
      return null;
    }
    const entry = { until: Date.now() + TOKEN_LIFETIME_MS, userId: owner.userId, isAdmin: owner.isAdmin, app: owner.app };
    remember(this.verified, key, entry);
    return entry;
  }
}

/** Bounded memory: at the cap everything is forgotten at once (and asked again when next seen). */
function remember<V>(map: Map<string, V>, key: string, value: V): void {
  if (map.size >= MAX_REMEMBERED) map.clear();
  map.set(key, value);
}
