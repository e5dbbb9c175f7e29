/**
 * Workflows for an admin in the app's pages: the portal's templates (add one from an uploaded
 * .bpt file; update and delete those this app added), starting a template on a document, and
 * the running workflows (terminate with a message, kill). Everything is done on the portal with
 * the admin's own frame token, so the portal applies the admin's rights and logs the admin.
 */
import type { FastifyPluginAsync } from 'fastify';
import type { PrismaClient } from '../generated/prisma/client.ts';
import { PortalCache } from '../portals/portal-cache.ts';
import type { PortalClients } from '../portals/portal-client.ts';
import type { FrameAuth } from './frame-auth.ts';
import { withPortal } from './portal-reply.ts';

interface TemplateRow {
  ID: string | number;
  NAME: string;
  DESCRIPTION?: string;
  MODULE_ID: string;
  ENTITY: string;
  DOCUMENT_TYPE: [string, string, string];
  AUTO_EXECUTE: string | number;
  MODIFIED?: string;
}

const TEMPLATE_FIELDS = ['ID', 'NAME', 'DESCRIPTION', 'MODULE_ID', 'ENTITY', 'DOCUMENT_TYPE', 'AUTO_EXECUTE', 'MODIFIED'];
const INSTANCE_FIELDS = ['ID', 'MODIFIED', 'MODULE_ID', 'ENTITY', 'DOCUMENT_ID', 'STARTED', 'STARTED_BY', 'TEMPLATE_ID'];
/**
 * The portal's template list, as the settings page asks for it again and again, is shared for
 * this long by every admin of the portal (an admin sees every template); the app's own adds,
 * updates and deletes clear it at once, a change made in the portal's designer shows within it.
 */
const TEMPLATE_LIST_TTL_MS = 30_000;
const TEMPLATE_LIST_KEY = 'workflow-templates';
// A .bpt is a small compressed file; 700 KB of base64 stays under the server's 1 MiB body limit.
const MAX_BPT_BASE64 = 700_000;

const idParams = { type: 'object', properties: { id: { type: 'string', pattern: '^[0-9]{1,10}$' } }, required: ['id'] } as const;
const workflowIdParams = { type: 'object', properties: { id: { type: 'string', pattern: '^[A-Za-z0-9._-]{1,64}$' } }, required: ['id'] } as const;
const templateFile = { type: 'string', minLength: 4, maxLength: MAX_BPT_BASE64, pattern: '^[A-Za-z0-9+/=\\s]+$' } as const;
const templateText = { name: { type: 'string', minLength: 1, maxLength: 255 }, description: { type: 'string', maxLength: 2000 }, autoExecute: { type: 'integer', enum: [0, 1, 2, 3] } } as const;

interface TemplateBody {
  name: string;
  description?: string;
  autoExecute?: number;
  documentType: [string, string, string];
  file: string;
  fileName?: string;
}

export interface WorkflowsRouteOptions {
  auth: FrameAuth;
  clients: PortalClients;
  prisma: PrismaClient;
}

export const workflowsRoute: FastifyPluginAsync<WorkflowsRouteOptions> = async (app, { auth, clients, prisma }) => {
  const asAdmin = async (request: Parameters<FrameAuth['require']>[0], reply: Parameters<FrameAuth['require']>[1]) => {
    const user = await auth.require(request, reply, { admin: true });
    return user ? { user, portal: clients.forUser(user.portal, user.accessToken) } : null;
  };
  const cache = new PortalCache(prisma);
  const templatesChanged = (portalId: number) => cache.forget(portalId, TEMPLATE_LIST_KEY);
  const owned = async (portalId: number, templateId: number) =>
    prisma.ownedTemplate.findUnique({ where: { portalId_templateId: { portalId, templateId } } });

  app.get('/api/templates', async (request, reply) => {
    const admin = await asAdmin(request, reply);
    if (!admin) return reply;
    return withPortal(reply, async () => {
      const [rows, mine] = await Promise.all([
        cache.remember(admin.user.portal.id, TEMPLATE_LIST_KEY, TEMPLATE_LIST_TTL_MS, () =>
          admin.portal.listAll<TemplateRow>('bizproc.workflow.template.list', { SELECT: TEMPLATE_FIELDS, ORDER: { ID: 'DESC' } }),
        ),
        prisma.ownedTemplate.findMany({ where: { portalId: admin.user.portal.id }, select: { templateId: true } }),
      ]);
      const ours = new Set(mine.map((m) => m.templateId));
      return rows.map((row) => ({
        id: Number(row.ID),
        name: row.NAME,
        description: row.DESCRIPTION ?? '',
        documentType: row.DOCUMENT_TYPE ?? [row.MODULE_ID, row.ENTITY, ''],
        autoExecute: Number(row.AUTO_EXECUTE ?? 0),
        modified: row.MODIFIED ?? null,
        owned: ours.has(Number(row.ID)),
      }));
    });
  });

  app.post<{ Body: TemplateBody }>(
    '/api/templates',
    {
      schema: {
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['name', 'documentType', 'file'],
          properties: {
            ...templateText,
            documentType: { type: 'array', items: { type: 'string', minLength: 1, maxLength: 100 }, minItems: 3, maxItems: 3 },
            file: templateFile,
            fileName: { type: 'string', maxLength: 255 },
          },
        },
      },
    },
    async (request, reply) => {
      const admin = await asAdmin(request, reply);
      if (!admin) return reply;
      const { name, description, autoExecute, documentType, file, fileName } = request.body;
      return withPortal(reply, async () => {
        const id = await admin.portal.call<number>('bizproc.workflow.template.add', {
          DOCUMENT_TYPE: documentType,
          NAME: name,
          DESCRIPTION: description ?? '',
          AUTO_EXECUTE: autoExecute ?? 0,
          TEMPLATE_DATA: [fileName || 'template.bpt', file.replace(/\s+/g, '')],
        });
        await templatesChanged(admin.user.portal.id);
        await prisma.ownedTemplate.create({ data: { portalId: admin.user.portal.id, templateId: Number(id), name, addedBy: admin.user.userId } });
        request.log.info({ portal: admin.user.portal.memberId, user: admin.user.userId, template: Number(id) }, 'workflow template added');
        return { id: Number(id) };
      });
    },
  );

  app.put<{ Params: { id: string }; Body: Partial<TemplateBody> }>(
    '/api/templates/:id',
    {
      schema: {
        params: idParams,
        body: { type: 'object', additionalProperties: false, minProperties: 1, properties: { ...templateText, file: templateFile, fileName: { type: 'string', maxLength: 255 } } },
      },
    },
    async (request, reply) => {
      const admin = await asAdmin(request, reply);
      if (!admin) return reply;
      const templateId = Number(request.params.id);
      if (!(await owned(admin.user.portal.id, templateId))) {
        return reply.code(403).send({ error: 'NOT_OWNED', error_description: 'this app changes only the templates it added' });
      }
      const { name, description, autoExecute, file, fileName } = request.body;
      return withPortal(reply, async () => {
        await admin.portal.call('bizproc.workflow.template.update', {
          ID: templateId,
          FIELDS: {
            ...(name !== undefined ? { NAME: name } : {}),
            ...(description !== undefined ? { DESCRIPTION: description } : {}),
            ...(autoExecute !== undefined ? { AUTO_EXECUTE: autoExecute } : {}),
            ...(file !== undefined ? { TEMPLATE_DATA: [fileName || 'template.bpt', file.replace(/\s+/g, '')] } : {}),
          },
        });
        await templatesChanged(admin.user.portal.id);
        if (name !== undefined) await prisma.ownedTemplate.update({ where: { portalId_templateId: { portalId: admin.user.portal.id, templateId } }, data: { name } });
        request.log.info({ portal: admin.user.portal.memberId, user: admin.user.userId, template: templateId }, 'workflow template updated');
        return { id: templateId };
      });
    },
  );

  app.delete<{ Params: { id: string } }>('/api/templates/:id', { schema: { params: idParams } }, async (request, reply) => {
    const admin = await asAdmin(request, reply);
    if (!admin) return reply;
    const templateId = Number(request.params.id);
    if (!(await owned(admin.user.portal.id, templateId))) {
      return reply.code(403).send({ error: 'NOT_OWNED', error_description: 'this app deletes only the templates it added' });
    }
    return withPortal(reply, async () => {
      await admin.portal.call('bizproc.workflow.template.delete', { ID: templateId });
      await templatesChanged(admin.user.portal.id);
      await prisma.ownedTemplate.delete({ where: { portalId_templateId: { portalId: admin.user.portal.id, templateId } } });
      request.log.info({ portal: admin.user.portal.memberId, user: admin.user.userId, template: templateId }, 'workflow template deleted');
      return { deleted: templateId };
    });
  });

  app.post<{ Body: { templateId: number; documentId: string } }>(
    '/api/workflows',
    {
      schema: {
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['templateId', 'documentId'],
          properties: { templateId: { type: 'integer', minimum: 1 }, documentId: { type: 'string', pattern: '^[A-Za-z0-9_]{1,64}$' } },
        },
      },
    },
    async (request, reply) => {
      const admin = await asAdmin(request, reply);
      if (!admin) return reply;
      const { templateId, documentId } = request.body;
      return withPortal(reply, async () => {
        const [template] = await admin.portal.call<TemplateRow[]>('bizproc.workflow.template.list', { SELECT: TEMPLATE_FIELDS, FILTER: { ID: templateId } });
        if (!template) return reply.code(404).send({ error: 'NOT_FOUND', error_description: `no template #${templateId} on this portal` });
        const id = await admin.portal.call<string>('bizproc.workflow.start', { TEMPLATE_ID: templateId, DOCUMENT_ID: [template.MODULE_ID, template.ENTITY, documentId] });
        request.log.info({ portal: admin.user.portal.memberId, user: admin.user.userId, template: templateId, workflow: id }, 'workflow started');
        return { id };
      });
    },
  );

  app.get<{ Querystring: { start?: number } }>(
    '/api/workflows',
    { schema: { querystring: { type: 'object', additionalProperties: false, properties: { start: { type: 'integer', minimum: 0, maximum: 1_000_000 } } } } },
    async (request, reply) => {
      const admin = await asAdmin(request, reply);
      if (!admin) return reply;
      const start = request.query.start ?? 0;
      return withPortal(reply, async () => {
        const page = await admin.portal.page<Array<Record<string, string>>>('bizproc.workflow.instances', { SELECT: INSTANCE_FIELDS, ORDER: { STARTED: 'DESC' }, start });
        return {
          items: page.result.map((row) => ({
            id: row.ID,
            templateId: Number(row.TEMPLATE_ID),
            document: [row.MODULE_ID, row.ENTITY, row.DOCUMENT_ID],
            started: row.STARTED,
            startedBy: Number(row.STARTED_BY),
            modified: row.MODIFIED,
          })),
          total: page.total,
          next: page.more ? start + page.result.length : null,
        };
      });
    },
  );

  app.post<{ Params: { id: string }; Body: { message?: string } }>(
    '/api/workflows/:id/terminate',
    { schema: { params: workflowIdParams, body: { type: 'object', additionalProperties: false, properties: { message: { type: 'string', maxLength: 1000 } } } } },
    async (request, reply) => {
      const admin = await asAdmin(request, reply);
      if (!admin) return reply;
      return withPortal(reply, async () => {
        await admin.portal.call('bizproc.workflow.terminate', { ID: request.params.id, STATUS: request.body?.message ?? '' });
        request.log.info({ portal: admin.user.portal.memberId, user: admin.user.userId, workflow: request.params.id }, 'workflow terminated');
        return { terminated: request.params.id };
      });
    },
  );

  app.post<{ Params: { id: string } }>('/api/workflows/:id/kill', { schema: { params: workflowIdParams } }, async (request, reply) => {
    const admin = await asAdmin(request, reply);
    if (!admin) return reply;
    return withPortal(reply, async () => {
      await admin.portal.call('bizproc.workflow.kill', { ID: request.params.id });
      request.log.info({ portal: admin.user.portal.memberId, user: admin.user.userId, workflow: request.params.id }, 'workflow killed');
      return { killed: request.params.id };
    });
  });
};
