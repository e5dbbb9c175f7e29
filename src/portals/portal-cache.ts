/**
 * A short cache per portal, shared by every process through PostgreSQL (`portal_cache`): what a
 * robot or a page reads from a portal that cannot change within minutes (the department tree,
 * a user's card, the template list) is asked of the portal once per expiry rather than once per
 * call (the Market: "cache what cannot change during the session"). One statement reads, one
 * writes. Concurrent misses may each load once; the last write wins, which is harmless for
 * values this stable.
 */
import type { Prisma, PrismaClient } from '../generated/prisma/client.ts';

export class PortalCache {
  constructor(private readonly prisma: PrismaClient) {}

  /** The cached value, or `load()`'s, kept for `ttlMs` if `worthKeeping` (a failed load is never kept). */
  async remember<T>(portalId: number, key: string, ttlMs: number, load: () => Promise<T>, worthKeeping: (value: T) => boolean = () => true): Promise<T> {
    const hit = await this.prisma.portalCacheEntry.findFirst({
      where: { portalId, key, expiresAt: { gt: new Date() } },
      select: { value: true },
    });
    if (hit) return (hit.value as { v: T }).v;
    const value = await load();
    if (!worthKeeping(value)) return value;
    const row = { value: { v: value } as unknown as Prisma.InputJsonValue, expiresAt: new Date(Date.now() + ttlMs) };
    await this.prisma.portalCacheEntry.upsert({
      where: { portalId_key: { portalId, key } },
      create: { portalId, key, ...row },
      update: row,
    });
    return value;
  }

  /** Forget keys after the app itself changed what they hold (a template added or deleted). */
  async forget(portalId: number, key: string): Promise<void> {
    await this.prisma.portalCacheEntry.deleteMany({ where: { portalId, key } });
  }

  /** Expired entries, for the scheduled clean-up. */
  async purgeExpired(): Promise<number> {
    return (await this.prisma.portalCacheEntry.deleteMany({ where: { expiresAt: { lte: new Date() } } })).count;
  }
}
