/**
 * The signed-in user's own workflow tasks in the app's pages: list the waiting ones, complete one
 * (approve, reject, acknowledge, …) with a comment, delegate one to a colleague. Done with the
 * user's frame token, so the portal checks that the task is theirs and who they may delegate to.
 */
import type { FastifyPluginAsync } from 'fastify';
import type { PortalClients } from '../portals/portal-client.ts';
import type { FrameAuth } from './frame-auth.ts';
import { withPortal } from './portal-reply.ts';

const TASK_FIELDS = ['ID', 'WORKFLOW_ID', 'DOCUMENT_NAME', 'NAME', 'DESCRIPTION', 'STATUS', 'USER_ID', 'USER_STATUS', 'MODULE_ID', 'ENTITY', 'DOCUMENT_ID', 'ACTIVITY', 'PARAMETERS'];
const idParams = { type: 'object', properties: { id: { type: 'string', pattern: '^[0-9]{1,10}$' } }, required: ['id'] } as const;

export const tasksRoute: FastifyPluginAsync<{ auth: FrameAuth; clients: PortalClients }> = async (app, { auth, clients }) => {
  const asUser = async (request: Parameters<FrameAuth['require']>[0], reply: Parameters<FrameAuth['require']>[1]) => {
    const user = await auth.require(request, reply);
    return user ? { user, portal: clients.forUser(user.portal, user.accessToken) } : null;
  };

  app.get('/api/tasks', async (request, reply) => {
    const me = await asUser(request, reply);
    if (!me) return reply;
    return withPortal(reply, async () => {
      const rows = await me.portal.listAll<Record<string, unknown>>('bizproc.task.list', {
        SELECT: TASK_FIELDS,
        FILTER: { USER_ID: me.user.userId, USER_STATUS: 0 },
        ORDER: { ID: 'DESC' },
      });
      return rows.map((row) => ({
        id: Number(row.ID),
        workflowId: row.WORKFLOW_ID,
        name: row.NAME,
        description: row.DESCRIPTION ?? '',
        documentName: row.DOCUMENT_NAME ?? '',
        document: [row.MODULE_ID, row.ENTITY, row.DOCUMENT_ID],
        activity: row.ACTIVITY,
        parameters: row.PARAMETERS ?? {},
      }));
    });
  });

  app.post<{ Params: { id: string }; Body: { status: number; comment?: string } }>(
    '/api/tasks/:id/complete',
    {
      schema: {
        params: idParams,
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['status'],
          // 1 yes / 2 no (approve), 3 ok (review), 4 cancel (request): the portal checks which fit the task
          properties: { status: { type: 'integer', enum: [1, 2, 3, 4] }, comment: { type: 'string', maxLength: 2000 } },
        },
      },
    },
    async (request, reply) => {
      const me = await asUser(request, reply);
      if (!me) return reply;
      return withPortal(reply, async () => {
        await me.portal.call('bizproc.task.complete', { TASK_ID: Number(request.params.id), STATUS: request.body.status, COMMENT: request.body.comment ?? '' });
        request.log.info({ portal: me.user.portal.memberId, user: me.user.userId, task: Number(request.params.id), status: request.body.status }, 'workflow task completed');
        return { completed: Number(request.params.id) };
      });
    },
  );

  app.post<{ Params: { id: string }; Body: { toUserId: number } }>(
    '/api/tasks/:id/delegate',
    {
      schema: {
        params: idParams,
        body: { type: 'object', additionalProperties: false, required: ['toUserId'], properties: { toUserId: { type: 'integer', minimum: 1 } } },
      },
    },
    async (request, reply) => {
      const me = await asUser(request, reply);
      if (!me) return reply;
      return withPortal(reply, async () => {
        await me.portal.call('bizproc.task.delegate', { TASK_IDS: [Number(request.params.id)], FROM_USER_ID: me.user.userId, TO_USER_ID: request.body.toUserId });
        request.log.info({ portal: me.user.portal.memberId, user: me.user.userId, task: Number(request.params.id), to: request.body.toUserId }, 'workflow task delegated');
        return { delegated: Number(request.params.id), to: request.body.toUserId };
      });
    },
  );

  app.get('/api/users', async (request, reply) => {
    const me = await asUser(request, reply);
    if (!me) return reply;
    return withPortal(reply, async () => {
      const rows = await me.portal.listAll<Record<string, unknown>>('user.get', { FILTER: { ACTIVE: true }, SORT: 'LAST_NAME', ORDER: 'ASC' });
      return rows.map((row) => ({ id: Number(row.ID), name: [row.NAME, row.LAST_NAME].filter(Boolean).join(' ') }));
    });
  });
};
