/**
 * The calls behind the app's pages, always of the caller's own portal: a keyset-paged list
 * (newest first, filters by robot, status and time; fast at millions of rows because every
 * filter has an index that starts with the portal), one call in full, a retry, and an hourly
 * count of calls and failures for the chart. Event tokens never leave the server.
 */
import type { FastifyPluginAsync } from 'fastify';
import { Prisma, type PrismaClient } from '../generated/prisma/client.ts';
import type { FrameAuth } from './frame-auth.ts';

const STATUSES = ['received', 'running', 'answered', 'failed', 'timed_out'] as const;

interface ListQuery {
  code?: string;
  status?: (typeof STATUSES)[number];
  from?: string;
  to?: string;
  before?: string;
  limit?: number;
}

const listSchema = {
  querystring: {
    type: 'object',
    additionalProperties: false,
    properties: {
      code: { type: 'string', maxLength: 64 },
      status: { type: 'string', enum: [...STATUSES] },
      from: { type: 'string', format: 'date-time' },
      to: { type: 'string', format: 'date-time' },
      before: { type: 'string', pattern: '^[0-9TZ:.+-]+_[0-9]+$', maxLength: 64 },
      limit: { type: 'integer', minimum: 1, maximum: 200, default: 50 },
    },
  },
} as const;

const idSchema = { params: { type: 'object', properties: { id: { type: 'string', pattern: '^[0-9]{1,18}$' } }, required: ['id'] } } as const;

const PUBLIC_FIELDS = {
  id: true,
  code: true,
  workflowId: true,
  documentId: true,
  documentType: true,
  properties: true,
  useSubscription: true,
  timeoutSeconds: true,
  authUserId: true,
  status: true,
  attempts: true,
  error: true,
  returnValues: true,
  receivedAt: true,
  deadlineAt: true,
  startedAt: true,
  finishedAt: true,
  answeredAt: true,
} as const;

export interface CallsRouteOptions {
  auth: FrameAuth;
  prisma: PrismaClient;
}

export const callsRoute: FastifyPluginAsync<CallsRouteOptions> = async (app, { auth, prisma }) => {
  app.get<{ Querystring: ListQuery }>('/api/calls', { schema: listSchema }, async (request, reply) => {
    const user = await auth.require(request, reply);
    if (!user) return reply;
    const { code, status, from, to, before, limit = 50 } = request.query;
    const where: Prisma.HandlerCallWhereInput = {
      portalId: user.portal.id,
      ...(code ? { code } : {}),
      ...(status ? { status } : {}),
      ...(from || to ? { receivedAt: { ...(from ? { gte: new Date(from) } : {}), ...(to ? { lt: new Date(to) } : {}) } } : {}),
    };
    if (before) {
      const [at, id] = before.split('_') as [string, string];
      const cursorAt = new Date(at);
      where.OR = [{ receivedAt: { lt: cursorAt } }, { receivedAt: cursorAt, id: { lt: BigInt(id) } }];
    }
    const rows = await prisma.handlerCall.findMany({
      where,
      orderBy: [{ receivedAt: 'desc' }, { id: 'desc' }],
      take: limit + 1,
      select: PUBLIC_FIELDS,
    });
    const page = rows.slice(0, limit);
    const last = page.at(-1);
    return {
      items: page.map(serialize),
      next: rows.length > limit && last ? `${last.receivedAt.toISOString()}_${last.id}` : null,
    };
  });

  app.get<{ Params: { id: string } }>('/api/calls/:id', { schema: idSchema }, async (request, reply) => {
    const user = await auth.require(request, reply);
    if (!user) return reply;
    const call = await prisma.handlerCall.findFirst({ where: { id: BigInt(request.params.id), portalId: user.portal.id }, select: PUBLIC_FIELDS });
    if (!call) return reply.code(404).send({ error: 'NOT_FOUND', error_description: 'no such call on this portal' });
    return serialize(call);
  });

  app.post<{ Params: { id: string } }>('/api/calls/:id/retry', { schema: idSchema }, async (request, reply) => {
    const user = await auth.require(request, reply, { admin: true });
    if (!user) return reply;
    const id = BigInt(request.params.id);
    // The reset is the whole retry: a stored call that has not finished is due again in the run
    // queue (src/runtime/call-queue.ts), here or in any other process.
    const reset = await prisma.handlerCall.updateMany({
      where: { id, portalId: user.portal.id, status: { in: ['failed', 'timed_out'] } },
      data: { status: 'received', error: null, returnValues: Prisma.DbNull, finishedAt: null, answeredAt: null },
    });
    const retried = reset.count > 0;
    if (!retried) {
      return reply.code(409).send({ error: 'NOT_RETRYABLE', error_description: 'only a failed or timed-out call of this portal can be retried' });
    }
    request.log.info({ portal: user.portal.memberId, call: id.toString(), user: user.userId }, 'call retried by an admin');
    return { result: 'queued' };
  });

  app.get<{ Querystring: { hours?: number } }>(
    '/api/stats/hourly',
    { schema: { querystring: { type: 'object', properties: { hours: { type: 'integer', minimum: 1, maximum: 24 * 14, default: 48 } } } } },
    async (request, reply) => {
      const user = await auth.require(request, reply);
      if (!user) return reply;
      const hours = request.query.hours ?? 48;
      const rows = await prisma.$queryRaw<Array<{ hour: Date; calls: bigint; failed: bigint }>>`
        SELECT date_trunc('hour', received_at) AS hour, count(*) AS calls,
               count(*) FILTER (WHERE status IN ('failed', 'timed_out')) AS failed
        FROM handler_calls
        WHERE portal_id = ${user.portal.id} AND received_at >= now() - make_interval(hours => ${hours}::int)
        GROUP BY 1 ORDER BY 1`;
      return rows.map((r) => ({ hour: r.hour.toISOString(), calls: Number(r.calls), failed: Number(r.failed) }));
    },
  );
};

function serialize<T extends { id: bigint }>(row: T) {
  return { ...row, id: row.id.toString() };
}
