/**
 * Keeps the REST journal (rest-journal.ts) to REST_LOG_RETENTION_DAYS days and at most
 * REST_LOG_MAX_ROWS_PER_PORTAL rows a portal (the oldest beyond it go), so one busy portal
 * cannot fill the disk; expired entries of the portal cache go in the same pass. A pg-boss
 * schedule runs it every 10 minutes in whichever process takes the job (one at a time).
 * Deletes go in chunks so no statement holds many rows locked for long.
 */
import type { PgBoss } from 'pg-boss';
import type { Logger } from 'pino';
import type { PrismaClient } from '../generated/prisma/client.ts';

export const JOURNAL_PRUNE_QUEUE = 'rest-journal-prune';
const EVERY_TEN_MINUTES = '*/10 * * * *';
const CHUNK = 5_000;

export interface JournalRetention {
  retentionDays: number;
  maxRowsPerPortal: number;
}

export interface PruneReport {
  expired: number;
  overCap: number;
  cacheEntries: number;
}

export async function pruneRestJournal(prisma: PrismaClient, retention: JournalRetention, now = new Date()): Promise<PruneReport> {
  const cutoff = new Date(now.getTime() - retention.retentionDays * 86_400_000);
  const expired = await deleteInChunks(prisma, `SELECT id FROM rest_journal WHERE at < $1::timestamp LIMIT ${CHUNK}`, utcTimestamp(cutoff));

  let overCap = 0;
  // The portals with rows, by skipping through the (member_id, id) index rather than reading it all.
  const members = await prisma.$queryRawUnsafe<Array<{ member_id: string }>>(
    `WITH RECURSIVE m AS (
       (SELECT member_id FROM rest_journal ORDER BY member_id LIMIT 1)
       UNION ALL
       SELECT (SELECT member_id FROM rest_journal WHERE member_id > m.member_id ORDER BY member_id LIMIT 1) FROM m WHERE m.member_id IS NOT NULL
     )
     SELECT member_id FROM m WHERE member_id IS NOT NULL`,
  );
  for (const { member_id: memberId } of members) {
    const [boundary] = await prisma.$queryRawUnsafe<Array<{ id: bigint }>>(
      'SELECT id FROM rest_journal WHERE member_id = $1 ORDER BY id DESC OFFSET $2 LIMIT 1',
      memberId,
      retention.maxRowsPerPortal,
    );
    if (!boundary) continue;
    overCap += await deleteInChunks(
      prisma,
      `SELECT id FROM rest_journal WHERE member_id = $1 AND id <= $2 ORDER BY id DESC LIMIT ${CHUNK}`,
      memberId,
      boundary.id,
    );
  }
  const cacheEntries = await prisma.$executeRawUnsafe('DELETE FROM portal_cache WHERE expires_at <= $1::timestamp', utcTimestamp(now));
  return { expired, overCap, cacheEntries };
}

/** Prisma keeps DateTime as UTC in `timestamp` columns: compare in those terms, whatever the session's time zone. */
function utcTimestamp(date: Date): string {
  return date.toISOString().replace('Z', '');
}

async function deleteInChunks(prisma: PrismaClient, select: string, ...values: unknown[]): Promise<number> {
  let total = 0;
  for (;;) {
    const deleted = await prisma.$executeRawUnsafe(`DELETE FROM rest_journal WHERE id IN (${select})`, ...values);
    total += deleted;
    if (deleted < CHUNK) return total;
  }
}

/** The schedule and its worker; the returned function stops the worker. */
export async function scheduleJournalPrune(boss: PgBoss, prisma: PrismaClient, retention: JournalRetention, logger: Logger): Promise<() => Promise<void>> {
  await boss.createQueue(JOURNAL_PRUNE_QUEUE, { policy: 'singleton', retryLimit: 2, expireInSeconds: 15 * 60 });
  await boss.schedule(JOURNAL_PRUNE_QUEUE, EVERY_TEN_MINUTES);
  await boss.work(JOURNAL_PRUNE_QUEUE, { pollingIntervalSeconds: 30 }, async () => {
    const report = await pruneRestJournal(prisma, retention);
    if (report.expired + report.overCap > 0) logger.info(report, 'REST journal pruned');
  });
  return () => boss.offWork(JOURNAL_PRUNE_QUEUE);
}
