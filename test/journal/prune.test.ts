/**
 * Pruning the REST journal on a real database: lines older than the retention go, a portal
 * beyond its cap keeps only its newest lines, everything else stays; expired cache entries go.
 * Also the buffered writer: lines recorded are written in one flush, redacted.
 */
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventTokenDigest, RestJournal } from '../../src/portals/rest-journal.ts';
import { pruneRestJournal } from '../../src/runtime/journal-prune.ts';
import { freshDatabase, type FreshDatabase } from '../support/db.ts';

describe('REST journal retention', () => {
  let database: FreshDatabase;
  const prisma = () => database.db.prisma;
  beforeAll(async () => {
    database = await freshDatabase();
  });
  afterAll(() => database?.drop());

  const line = (memberId: string, at: Date, method = 'user.get') => ({ memberId, at, method, params: '{}', status: 200, durationMs: 1 });

  it('removes lines older than the retention and the oldest beyond the per-portal cap', async () => {
    const now = new Date();
    const daysAgo = (days: number) => new Date(now.getTime() - days * 86_400_000);
    await prisma().restJournalEntry.createMany({
      data: [
        ...Array.from({ length: 30 }, () => line('old-and-new', daysAgo(4))),
        ...Array.from({ length: 20 }, () => line('old-and-new', daysAgo(2.9))),
        ...Array.from({ length: 1_250 }, (_, i) => line('busy', new Date(now.getTime() - (1_250 - i) * 1_000), `m${i}`)),
        ...Array.from({ length: 10 }, () => line('quiet', daysAgo(1))),
      ],
    });
    await prisma().portalCacheEntry.createMany({
      data: [
        { portalId: 1, key: 'gone', value: { v: 1 }, expiresAt: new Date(now.getTime() - 1_000) },
        { portalId: 1, key: 'kept', value: { v: 2 }, expiresAt: new Date(now.getTime() + 60_000) },
      ],
    });

    const report = await pruneRestJournal(prisma(), { retentionDays: 3, maxRowsPerPortal: 1_000 }, now);

    expect(report).toEqual({ expired: 30, overCap: 250, cacheEntries: 1 });
    const counts = await prisma().restJournalEntry.groupBy({ by: ['memberId'], _count: true, orderBy: { memberId: 'asc' } });
    expect(counts.map((c) => [c.memberId, c._count])).toEqual([
      ['busy', 1_000],
      ['old-and-new', 20],
      ['quiet', 10],
    ]);
    const oldestBusy = await prisma().restJournalEntry.findFirstOrThrow({ where: { memberId: 'busy' }, orderBy: { id: 'asc' } });
    expect(oldestBusy.method).toBe('m250');
    expect(await prisma().restJournalEntry.count({ where: { at: { lt: daysAgo(3) } } })).toBe(0);
    expect((await prisma().portalCacheEntry.findMany()).map((e) => e.key)).toEqual(['kept']);

    // a second pass has nothing left to do
    expect(await pruneRestJournal(prisma(), { retentionDays: 3, maxRowsPerPortal: 1_000 }, now)).toEqual({ expired: 0, overCap: 0, cacheEntries: 0 });
  });

  it('writes recorded lines in one flush, redacted, and keeps nothing after stop', async () => {
    const journal = new RestJournal(prisma(), pino({ level: 'silent' }));
    for (let i = 0; i < 3; i += 1) {
      journal.record({
        memberId: 'writer',
        method: 'batch',
        params: { auth: 'secret-access', cmd: { a: 'bizproc.event.send?event_token=tok-123&RETURN_VALUES[x]=1' }, nested: [{ client_secret: 's', refresh_token: 'r' }] },
        status: 200,
        answer: { result: { application_token: 'app-tok' }, big: 'x'.repeat(20_000) },
        durationMs: 4,
      });
    }
    await journal.stop();
    journal.record({ memberId: 'writer', method: 'late', params: {}, status: 200, durationMs: 1 });
    await journal.flush();
    const rows = await prisma().restJournalEntry.findMany({ where: { memberId: 'writer' } });
    expect(rows).toHaveLength(3);
    const text = JSON.stringify(rows.map(({ params, answer }) => ({ params, answer })));
    for (const secret of ['secret-access', 'tok-123', 'app-tok', '"s"', '"r"']) expect(text).not.toContain(secret);
    expect(JSON.parse(rows[0]!.params)).toEqual({
      auth: '[redacted]',
      cmd: { a: 'bizproc.event.send?event_token=%5Bredacted%5D&RETURN_VALUES%5Bx%5D=1' },
      nested: [{ client_secret: '[redacted]', refresh_token: '[redacted]' }],
    });
    expect(rows[0]!.answersFor).toEqual([eventTokenDigest('tok-123')]);
    expect(rows[0]!.answer!.length).toBeLessThan(8_300);
    expect(rows[0]!.answer).toMatch(/…\[\d+ more characters\]$/);
  });

  it('keeps lines the database could not take and writes them once it can', async () => {
    const journal = new RestJournal(prisma(), pino({ level: 'silent' }));
    await prisma().$executeRawUnsafe('ALTER TABLE rest_journal RENAME TO rest_journal_away');
    try {
      journal.record({ memberId: 'outage', method: 'user.get', params: {}, status: 200, durationMs: 1 });
      await journal.flush();
    } finally {
      await prisma().$executeRawUnsafe('ALTER TABLE rest_journal_away RENAME TO rest_journal');
    }
    journal.record({ memberId: 'outage', method: 'department.get', params: {}, status: 200, durationMs: 1 });
    await journal.stop();
    const rows = await prisma().restJournalEntry.findMany({ where: { memberId: 'outage' }, orderBy: { id: 'asc' } });
    expect(rows.map((row) => row.method)).toEqual(['user.get', 'department.get']);
  });
});
