/**
 * The workflow side of the emulator: templates (.bpt), workflow runs, workflow tasks, the tasks
 * module, and the queue server that calls app handlers. The REST core imports only this file.
 */
import type { FastifyPluginAsync } from 'fastify';
import { RestError, type ActivityNode, type EmulatorContext, type Portal, type Task, type WorkflowEngine } from '../contract.ts';
import { readBpt, sequentialTemplate, writeBpt } from './bpt.ts';
import { WorkflowRuntime } from './engine.ts';

export { workflowMethods } from './methods.ts';
export { readBpt, sequentialTemplate, writeBpt } from './bpt.ts';

export function createWorkflowEngine(ctx: EmulatorContext): WorkflowEngine {
  return new WorkflowRuntime(ctx);
}

/**
 * Seed tasks of the tasks module: 1 and 3 await their creator's approval (task control), 2 and 4
 * are in progress. Creators and responsibles are the seed users (see seed.ts).
 */
export function seedPortalWorkflows(portal: Portal): void {
  const now = new Date().toISOString();
  const seed: Array<Omit<Task, 'changedDate'>> = [
    { id: 1, title: 'Prepare the contract', createdBy: 1, responsibleId: 3, taskControl: true, status: 4 },
    { id: 2, title: 'Call the client', createdBy: 2, responsibleId: 3, taskControl: false, status: 3 },
    { id: 3, title: 'Review the offer', createdBy: 2, responsibleId: 4, taskControl: true, status: 4 },
    { id: 4, title: 'Update the price list', createdBy: 3, responsibleId: 3, taskControl: false, status: 2 },
  ];
  for (const task of seed) portal.workflows.tasks.set(task.id, { ...task, changedDate: now });
}

type Params = { memberId: string };

/** workflows one control request may start */
const MAX_STARTED_AT_ONCE = 10_000;

/** Control and inspection routes of the workflow side, registered under /_emulator. */
export const workflowControl: FastifyPluginAsync<{ ctx: EmulatorContext }> = async (app, { ctx }) => {
  const runtime = ctx.workflows as WorkflowRuntime;
  const portalOf = (memberId: string) => {
    const portal = ctx.portals.get(memberId);
    if (!portal) throw new RestError('NOT_FOUND', `no portal ${memberId}`, 404);
    return portal;
  };

  /** Adds a template as a portal admin would (no owning app): from a .bpt (base64) or a list of steps. */
  app.post<{ Params: Params; Body: { name?: string; documentType?: [string, string, string]; bpt?: string; steps?: ActivityNode[]; ownerClientId?: string } }>(
    '/portals/:memberId/templates',
    async (request) => {
      const portal = portalOf(request.params.memberId);
      const b = request.body ?? {};
      const data = b.bpt ? readBpt(Buffer.from(b.bpt, 'base64')) : readBpt(writeBpt({ TEMPLATE: sequentialTemplate(b.steps ?? []) }));
      const id = Math.max(0, ...[...ctx.portals.values()].flatMap((p) => [...p.workflows.templates.keys()])) + 1000;
      const documentType = b.documentType ?? ['crm', 'CCrmDocumentDeal', 'DEAL'];
      portal.workflows.templates.set(id, {
        id,
        moduleId: documentType[0],
        entity: documentType[1],
        documentType,
        autoExecute: 0,
        name: b.name ?? `Template ${id}`,
        description: '',
        template: data.TEMPLATE,
        parameters: data.PARAMETERS,
        variables: data.VARIABLES,
        constants: data.CONSTANTS,
        documentFields: data.DOCUMENT_FIELDS,
        ownerClientId: b.ownerClientId ?? null,
        userId: 1,
        modified: new Date().toISOString(),
        isModified: false,
        active: true,
      });
      return { id };
    },
  );

  /** Builds a .bpt file (base64) from a list of steps: what our code and the demo upload. */
  app.post<{ Body: { steps: ActivityNode[]; title?: string } }>('/bpt', async (request) => ({
    bpt: writeBpt({ TEMPLATE: sequentialTemplate(request.body?.steps ?? [], request.body?.title) }).toString('base64'),
  }));

  /**
   * Starts a workflow, or `count` of them on the same document at once (what an automation rule
   * does when many deals enter its stage together): `{ id }`, and `ids` in start order.
   */
  app.post<{ Params: Params; Body: { templateId: number; documentId: [string, string, string]; parameters?: Record<string, unknown>; userId?: number; count?: number } }>(
    '/portals/:memberId/workflows',
    {
      schema: {
        body: {
          type: 'object',
          required: ['templateId', 'documentId'],
          properties: {
            templateId: { type: 'integer' },
            documentId: { type: 'array', items: { type: 'string' }, minItems: 3, maxItems: 3 },
            parameters: { type: 'object' },
            userId: { type: 'integer' },
            count: { type: 'integer', minimum: 1, maximum: MAX_STARTED_AT_ONCE },
          },
        },
      },
    },
    async (request) => {
      const b = request.body;
      const portal = portalOf(request.params.memberId);
      const ids: string[] = [];
      for (let i = 0; i < (b.count ?? 1); i += 1) {
        const instance = await runtime.start(portal, { templateId: b.templateId, documentId: b.documentId, parameters: b.parameters, startedBy: b.userId ?? 1 });
        ids.push(instance.id);
      }
      return { id: ids[0], ids };
    },
  );

  app.get<{ Params: Params }>('/portals/:memberId/workflows', async (request) => [...portalOf(request.params.memberId).workflows.instances.values()]);

  app.get<{ Params: Params & { id: string }; Querystring: { wait?: string } }>('/portals/:memberId/workflows/:id', async (request) => {
    const portal = portalOf(request.params.memberId);
    const waitMs = Math.min(Number(request.query.wait ?? 0), 120_000);
    return waitMs > 0 ? runtime.waitFor(portal, request.params.id, waitMs) : portal.workflows.instances.get(request.params.id) ?? null;
  });

  app.get<{ Params: Params }>('/portals/:memberId/bizproc-tasks', async (request) =>
    [...portalOf(request.params.memberId).workflows.bizprocTasks.values()].map((t) => ({ ...t, userStatus: Object.fromEntries(t.userStatus) })),
  );

  app.get<{ Params: Params }>('/portals/:memberId/tasks', async (request) => [...portalOf(request.params.memberId).workflows.tasks.values()]);

  app.get<{ Querystring: { memberId?: string; code?: string; eventToken?: string } }>('/deliveries', async (request) =>
    ctx.deliveries.filter(
      (d) =>
        (!request.query.memberId || d.memberId === request.query.memberId) &&
        (!request.query.eventToken || d.eventToken === request.query.eventToken) &&
        (!request.query.code || d.fields.some(([k, v]) => k === 'code' && v === request.query.code)),
    ),
  );

  /** Per event token: how many bizproc.event.send and bizproc.activity.log calls were taken. */
  app.get('/answers', async () => Object.fromEntries(runtime.answers));
};
