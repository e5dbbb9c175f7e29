/**
 * GET /api/journal: the REST journal (rest-journal.ts) of the caller's own portal, for its
 * administrators only. `?call=<id>` lists the requests a handler call's robot made and the ones
 * that carried its answers (log lines, `event.send`), oldest first; otherwise newest first, 50 a page, `before=<id>` for the next page (keyset on the
 * (member_id, id) index), filtered by `method` and `status` (an HTTP status, or `error` for
 * every request that did not succeed). Parameters and answers were redacted when written.
 */
import type { FastifyPluginAsync } from 'fastify';
import type { Prisma, PrismaClient } from '../generated/prisma/client.ts';
import { eventTokenDigest } from '../portals/rest-journal.ts';
import type { FrameAuth } from './frame-auth.ts';

interface JournalQuery {
  call?: string;
  before?: string;
  method?: string;
  status?: string;
  limit?: number;
}

const querySchema = {
  querystring: {
    type: 'object',
    additionalProperties: false,
    properties: {
      call: { type: 'string', pattern: '^[0-9]{1,18}$' },
      before: { type: 'string', pattern: '^[0-9]{1,18}$' },
      method: { type: 'string', pattern: '^[A-Za-z0-9_.]{1,100}$' },
      status: { type: 'string', pattern: '^([0-9]{1,3}|error)$' },
      limit: { type: 'integer', minimum: 1, maximum: 200, default: 50 },
    },
  },
} as const;

const FIELDS = { id: true, at: true, method: true, params: true, status: true, answer: true, error: true, durationMs: true, callId: true } as const;
/** a call's robot rarely makes more; the cap keeps one answer bounded */
const MAX_PER_CALL = 500;

export interface JournalRouteOptions {
  auth: FrameAuth;
  prisma: PrismaClient;
}

export const journalRoute: FastifyPluginAsync<JournalRouteOptions> = async (app, { auth, prisma }) => {
  app.get<{ Querystring: JournalQuery }>('/api/journal', { schema: querySchema }, async (request, reply) => {
    const user = await auth.require(request, reply, { admin: true });
    if (!user) return reply;
    const { call, before, method, status, limit = 50 } = request.query;
    const memberId = user.portal.memberId;

    if (call !== undefined) {
      const served = await prisma.handlerCall.findFirst({ where: { id: BigInt(call), portalId: user.portal.id }, select: { id: true, eventToken: true } });
      if (!served) return { entries: [], next: null };
      const rows = await prisma.restJournalEntry.findMany({
        where: { memberId, OR: [{ callId: served.id }, { answersFor: { has: eventTokenDigest(served.eventToken) } }] },
        orderBy: { id: 'asc' },
        take: MAX_PER_CALL,
        select: FIELDS,
      });
      return { entries: rows.map(publicEntry), next: null };
    }

    const where: Prisma.RestJournalEntryWhereInput = {
      memberId,
      ...(before ? { id: { lt: BigInt(before) } } : {}),
      ...(method ? { method } : {}),
      ...(status === 'error' ? { OR: [{ status: { not: 200 } }, { error: { not: null } }] } : status ? { status: Number(status) } : {}),
    };
    const rows = await prisma.restJournalEntry.findMany({ where, orderBy: { id: 'desc' }, take: limit + 1, select: FIELDS });
    const page = rows.slice(0, limit);
    return { entries: page.map(publicEntry), next: rows.length > limit ? page[page.length - 1]!.id.toString() : null };
  });
};

type Row = { id: bigint; at: Date; method: string; params: string; status: number; answer: string | null; error: string | null; durationMs: number; callId: bigint | null };

function publicEntry(row: Row) {
  return {
    id: row.id.toString(),
    at: row.at,
    method: row.method,
    params: row.params,
    status: row.status,
    answer: row.answer,
    error: row.error,
    durationMs: row.durationMs,
    callId: row.callId === null ? null : row.callId.toString(),
  };
}
