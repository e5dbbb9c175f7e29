/**
 * The portal's request budget, shared by every process of the app through PostgreSQL.
 *
 * Bitrix24 meters each portal with a leaky bucket per source IP (drains 2 requests/s, blocks
 * above 50). Every app process on a server shares that one bucket, so the SDK's in-process
 * limiter is not enough: each request first takes a slot here, in one atomic UPDATE, and waits
 * when the shared bucket is full. One row per portal; the cost is one short statement per REST
 * request, which is small beside the REST round trip itself.
 */
import type { PrismaClient } from '../generated/prisma/client.ts';

export interface RateBudgetSettings {
  /** requests per second the portal drains */
  drainPerSec: number;
  /** how full we let the bucket get; below the portal's own block level, for clock slack */
  capacity: number;
}

export class RateBudget {
  constructor(
    private readonly prisma: PrismaClient,
    private readonly settings: RateBudgetSettings,
  ) {}

  /** Waits until `cost` requests fit in the portal's bucket, then takes them. */
  async take(portalId: number, cost = 1, signal?: AbortSignal): Promise<void> {
    for (;;) {
      const waitMs = await this.tryTake(portalId, cost);
      if (waitMs === 0) return;
      signal?.throwIfAborted();
      await new Promise((resolve) => setTimeout(resolve, waitMs));
    }
  }

  /**
   * Waits until `cost` requests would fit, without taking them: a caller that can still add to
   * what it is about to send (the answer flush fills its batch) waits first, then fills.
   */
  async whenRoom(portalId: number, cost = 1): Promise<void> {
    const { drainPerSec, capacity } = this.settings;
    for (;;) {
      const rows = await this.prisma.$queryRaw<Array<{ level: number }>>`
        SELECT GREATEST(0, level - EXTRACT(EPOCH FROM (clock_timestamp() - updated_at)) * ${drainPerSec}::float8)::float8 AS level
        FROM portal_rate_state WHERE portal_id = ${portalId}`;
      const level = rows[0]?.level ?? 0;
      if (level + cost <= capacity) return;
      await new Promise((resolve) => setTimeout(resolve, Math.max(10, Math.ceil(((level + cost - capacity) / drainPerSec) * 1000))));
    }
  }

  /**
   * The portal said its bucket is full (QUERY_LIMIT_EXCEEDED) while ours had room: a request
   * reached it later than its slot was taken, and the portal's drain meanwhile was lost. Ours is
   * set full too, so every process waits for the next drained slot before asking again.
   */
  async full(portalId: number): Promise<void> {
    await this.prisma.$executeRaw`
      UPDATE portal_rate_state SET level = ${this.settings.capacity}::float8, updated_at = clock_timestamp()
      WHERE portal_id = ${portalId}`;
  }

  /** 0 when taken, else how long to wait before the bucket has room. */
  private async tryTake(portalId: number, cost: number): Promise<number> {
    const { drainPerSec, capacity } = this.settings;
    const rows = await this.prisma.$queryRaw<Array<{ granted: boolean; level: number }>>`
      WITH current AS (
        SELECT GREATEST(0, level - EXTRACT(EPOCH FROM (clock_timestamp() - updated_at)) * ${drainPerSec}::float8) AS drained
        FROM portal_rate_state WHERE portal_id = ${portalId} FOR UPDATE
      )
      UPDATE portal_rate_state AS s
      SET level = CASE WHEN current.drained + ${cost}::float8 <= ${capacity}::float8
                       THEN current.drained + ${cost}::float8 ELSE current.drained END,
          updated_at = clock_timestamp()
      FROM current WHERE s.portal_id = ${portalId}
      RETURNING (current.drained + ${cost}::float8 <= ${capacity}::float8) AS granted, current.drained::float8 AS level`;
    const row = rows[0];
    if (!row) {
      await this.prisma.$executeRaw`
        INSERT INTO portal_rate_state (portal_id, level, updated_at) VALUES (${portalId}, 0, clock_timestamp())
        ON CONFLICT (portal_id) DO NOTHING`;
      return this.tryTake(portalId, cost);
    }
    if (row.granted) return 0;
    return Math.max(10, Math.ceil(((row.level + cost - capacity) / drainPerSec) * 1000));
  }
}
