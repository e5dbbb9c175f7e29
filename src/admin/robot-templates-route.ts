/**
 * GET /api/robot-templates?documentType=crm,CCrmDocumentDeal,DEAL: the portal's templates of one
 * document type with their own parameter lists (bizproc.workflow.template.list, PARAMETERS), for a
 * robot's settings page to offer a template and a form for its parameters. Asked with the
 * admin's own token: the portal lists templates to administrators only.
 *
 * GET /api/crm-documents/:id (DEAL_3): a CRM document's title (crm.item.get), so a page shows a
 * document chosen before by its name. Asked with the user's own token: the portal shows them only
 * what their rights let them read.
 */
import type { FastifyPluginAsync } from 'fastify';
import type { PortalClients } from '../portals/portal-client.ts';
import { crmItemOf } from '../robots/document-roles.ts';
import type { FrameAuth } from './frame-auth.ts';
import { withPortal } from './portal-reply.ts';

interface TemplateRow {
  ID: string | number;
  NAME: string;
  DOCUMENT_TYPE: [string, string, string];
  PARAMETERS?: Record<string, Record<string, unknown>> | unknown[] | null;
}

const query = {
  type: 'object',
  properties: { documentType: { type: 'string', pattern: '^[A-Za-z0-9_]{1,64},[A-Za-z0-9_\\\\]{1,128},[A-Za-z0-9_]{1,64}$' } },
  required: ['documentType'],
} as const;

const documentParams = {
  type: 'object',
  properties: { id: { type: 'string', pattern: '^[A-Z][A-Z_]{0,40}_[0-9]{1,12}$' } },
  required: ['id'],
} as const;

export const robotTemplatesRoute: FastifyPluginAsync<{ auth: FrameAuth; clients: PortalClients }> = async (app, { auth, clients }) => {
  app.get<{ Params: { id: string } }>('/api/crm-documents/:id', { schema: { params: documentParams } }, async (request, reply) => {
    const user = await auth.require(request, reply);
    if (!user) return reply;
    const item = crmItemOf(['crm', '', request.params.id]);
    if (!item) return reply.code(400).send({ error: 'NOT_A_CRM_DOCUMENT', error_description: `${request.params.id} is not a CRM document of a known kind` });
    return withPortal(reply, async () => {
      const answer = await clients.forUser(user.portal, user.accessToken).call<{ item?: { title?: unknown } }>('crm.item.get', item);
      return { id: request.params.id, title: typeof answer.item?.title === 'string' ? answer.item.title : '' };
    });
  });

  app.get<{ Querystring: { documentType: string } }>('/api/robot-templates', { schema: { querystring: query } }, async (request, reply) => {
    const user = await auth.require(request, reply, { admin: true });
    if (!user) return reply;
    const documentType = request.query.documentType.split(',');
    return withPortal(reply, async () => {
      const rows = await clients.forUser(user.portal, user.accessToken).listAll<TemplateRow>('bizproc.workflow.template.list', {
        SELECT: ['ID', 'NAME', 'DOCUMENT_TYPE', 'PARAMETERS'],
        FILTER: { MODULE_ID: documentType[0], ENTITY: documentType[1] },
        ORDER: { ID: 'ASC' },
      });
      return rows
        .filter((row) => !row.DOCUMENT_TYPE || row.DOCUMENT_TYPE[2] === documentType[2])
        .map((row) => ({ id: Number(row.ID), name: row.NAME, parameters: parameterList(row.PARAMETERS) }));
    });
  });
};

/** A template's PARAMETERS ({Id: {Name, Type, Required, Multiple, Options, Default, Description}}) as a list. */
function parameterList(parameters: TemplateRow['PARAMETERS']) {
  if (!parameters || Array.isArray(parameters)) return [];
  return Object.entries(parameters).map(([id, p]) => ({
    id,
    name: typeof p.Name === 'string' && p.Name ? p.Name : id,
    description: typeof p.Description === 'string' ? p.Description : '',
    type: typeof p.Type === 'string' ? p.Type : 'string',
    required: p.Required === true || p.Required === 1 || p.Required === '1' || p.Required === 'Y',
    multiple: p.Multiple === true || p.Multiple === 1 || p.Multiple === '1' || p.Multiple === 'Y',
    options: p.Options && typeof p.Options === 'object' ? p.Options : null,
    default: p.Default ?? null,
  }));
}
