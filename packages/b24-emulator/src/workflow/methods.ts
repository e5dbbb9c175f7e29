/**
 * The workflow side's REST methods, as their reference pages specify: templates
 * (bizproc.workflow.template.*), runs (bizproc.workflow.start/instances/terminate/kill),
 * workflow tasks (bizproc.task.*), the tasks module (tasks.task.*), and the app's answers
 * (bizproc.event.send, bizproc.activity.log).
 */
import {
  listPage,
  RestError,
  type BizprocTask,
  type CallContext,
  type MethodDefinition,
  type Portal,
  type Task,
  type WorkflowInstance,
  type WorkflowTemplate,
} from '../contract.ts';
import { portalIso } from '../dates.ts';
import { param, requireAdmin, requireAppContext, startOf } from '../params.ts';
import { BptError, readBpt } from './bpt.ts';
import type { WorkflowRuntime } from './engine.ts';

const runtime = (call: CallContext) => call.emulator.workflows as WorkflowRuntime;
const templateError = (description: string) => new RestError('ERROR_TEMPLATE_VALIDATION_FAILURE', description, 400);
const adminOnly = (call: CallContext) => requireAdmin(call, 'Access denied! Method was not executed by an administrator');

let nextTemplateId = 1;

function isTriple(value: unknown): value is [string, string, string] {
  return Array.isArray(value) && value.length === 3 && value.every((v) => typeof v === 'string' && v !== '');
}

/** TEMPLATE_DATA: a file, sent as ["name.bpt", "<base64>"] (or {fileData: [...]}) or bare base64. */
function templateData(value: unknown) {
  const file = value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>).fileData : value;
  const base64 = Array.isArray(file) ? file[1] : file;
  if (typeof base64 !== 'string' || base64 === '') throw templateError('Incorrect field TEMPLATE_DATA!');
  try {
    return readBpt(Buffer.from(base64, 'base64'));
  } catch (error) {
    if (error instanceof BptError) throw templateError('Incorrect field TEMPLATE_DATA!');
    throw error;
  }
}

function autoExecute(value: unknown): number {
  if (value === undefined || value === null || value === '') return 0;
  const n = Number(value);
  if (![0, 1, 2, 3].includes(n)) throw templateError('Incorrect field AUTO_EXECUTE!');
  return n;
}

function ownTemplate(call: CallContext, id: unknown): WorkflowTemplate {
  const template = call.portal.workflows.templates.get(Number(id));
  if (!template) throw new RestError('ERROR_TEMPLATE_NOT_FOUND', 'Workflow template not found.', 400);
  if (template.ownerClientId !== call.app!.application.clientId) {
    throw new RestError('ERROR_TEMPLATE_NOT_OWNER', 'You can update ONLY templates created by current application', 400);
  }
  return template;
}

function templateRow(portal: Portal, t: WorkflowTemplate): Record<string, unknown> {
  return {
    ID: String(t.id),
    MODULE_ID: t.moduleId,
    ENTITY: t.entity,
    DOCUMENT_TYPE: t.documentType,
    AUTO_EXECUTE: String(t.autoExecute),
    NAME: t.name,
    DESCRIPTION: t.description,
    TEMPLATE: t.template,
    PARAMETERS: t.parameters,
    VARIABLES: t.variables,
    CONSTANTS: t.constants,
    MODIFIED: portalIso(t.modified, portal),
    IS_MODIFIED: t.isModified ? 'Y' : 'N',
    USER_ID: String(t.userId),
    SYSTEM_CODE: t.ownerClientId ? `rest_${t.ownerClientId}` : '',
  };
}

/** The workflow instance named by ID (terminate, kill), with the portal's errors for none or unknown. */
function workflowInstance(call: CallContext, params: Record<string, any>): WorkflowInstance {
  const id = param(params, 'ID');
  if (!id) throw new RestError('ERROR_WRONG_WORKFLOW_ID', 'Empty workflow instance ID', 400);
  const instance = call.portal.workflows.instances.get(String(id));
  if (!instance) throw new RestError('ERROR_WRONG_WORKFLOW_ID', 'Workflow instance not found', 400);
  return instance;
}

/** The filter operations restservice.php accepts (`$allowedOperations`); others drop the condition. */
const FILTER_OPERATIONS = ['', '!', '<', '<=', '>', '>='];

interface ListSpec {
  /** every field a client may select, filter or order by */
  fields: string[];
  defaultSelect: string[];
  /** fields always returned whatever the SELECT (task.list's MODULE_ID, ENTITY, DOCUMENT_ID) */
  alwaysSelect?: string[];
  defaultOrder: Record<string, 'ASC' | 'DESC'>;
  /** ISO dates in rows; a filter value for them is read as a date (CRestUtil::unConvertDateTime) */
  dateFields?: string[];
}

function compare(a: unknown, b: unknown, dates: boolean): number {
  if (dates) return new Date(String(a)).getTime() - new Date(String(b)).getTime();
  const [x, y] = [Number(a), Number(b)];
  if (a !== null && b !== null && a !== '' && b !== '' && Number.isFinite(x) && Number.isFinite(y)) return x - y;
  return String(a ?? '') < String(b ?? '') ? -1 : String(a ?? '') > String(b ?? '') ? 1 : 0;
}

/**
 * SELECT / FILTER / ORDER / start as restservice.php's getSelect, getFilter and getOrder read
 * them: names upper-cased; unknown fields and operations ignored; an empty SELECT or ORDER takes
 * the method's default.
 */
function query(rows: Array<Record<string, unknown>>, params: Record<string, any>, spec: ListSpec) {
  const known = new Set(spec.fields);
  const dates = new Set(spec.dateFields ?? []);
  const rawSelect = param(params, 'SELECT');
  const picked = Array.isArray(rawSelect) ? [...new Set(rawSelect.map((f) => String(f).toUpperCase()).filter((f) => known.has(f)))] : [];
  const select = [...new Set([...(spec.alwaysSelect ?? []), ...(picked.length > 0 ? picked : spec.defaultSelect)])];
  const rawFilter = param(params, 'FILTER');
  const conditions: Array<{ op: string; field: string; wanted: unknown }> = [];
  if (rawFilter && typeof rawFilter === 'object' && !Array.isArray(rawFilter)) {
    for (const [key, wanted] of Object.entries(rawFilter as Record<string, unknown>)) {
      const match = /^([^a-zA-Z]*)(.*)$/.exec(key)!;
      const [op, field] = [match[1]!, match[2]!.toUpperCase()];
      if (FILTER_OPERATIONS.includes(op) && known.has(field)) conditions.push({ op, field, wanted });
    }
  }
  const filtered = rows.filter((row) =>
    conditions.every(({ op, field, wanted }) => {
      const actual = row[field];
      if (op === '' || op === '!') {
        const list = (Array.isArray(wanted) ? wanted : [wanted]).map(String);
        const hit = Array.isArray(actual) ? list.some((w) => actual.map(String).includes(w)) : list.includes(String(actual));
        return op === '!' ? !hit : hit;
      }
      const c = compare(actual, wanted, dates.has(field));
      return op === '<' ? c < 0 : op === '<=' ? c <= 0 : op === '>' ? c > 0 : c >= 0;
    }),
  );
  const rawOrder = param(params, 'ORDER');
  const order: Array<[string, number]> = [];
  if (rawOrder && typeof rawOrder === 'object' && !Array.isArray(rawOrder)) {
    for (const [field, direction] of Object.entries(rawOrder as Record<string, unknown>)) {
      if (known.has(field.toUpperCase())) order.push([field.toUpperCase(), String(direction).toUpperCase() === 'DESC' ? -1 : 1]);
    }
  }
  const sortBy = order.length > 0 ? order : Object.entries(spec.defaultOrder).map(([f, d]): [string, number] => [f, d === 'DESC' ? -1 : 1]);
  filtered.sort((a, b) => {
    for (const [field, sign] of sortBy) {
      const c = compare(a[field], b[field], dates.has(field));
      if (c !== 0) return c * sign;
    }
    return 0;
  });
  const projected = filtered.map((row) => Object.fromEntries(select.filter((f) => f in row).map((f) => [f, row[f]])));
  return listPage(projected, startOf(params));
}

function taskRow(portal: Portal, task: Task) {
  return {
    id: String(task.id),
    title: task.title,
    createdBy: String(task.createdBy),
    responsibleId: String(task.responsibleId),
    status: String(task.status),
    taskControl: task.taskControl ? 'Y' : 'N',
    changedDate: portalIso(task.changedDate, portal),
    closedDate: task.status === 5 ? portalIso(task.changedDate, portal) : null,
  };
}

const notAllowed = () => new RestError('1048582', 'Action on the task is not allowed', 400);

/** Records a change of a task of the tasks module and answers as the methods do: `{task}`. */
function changed(portal: Portal, task: Task, change: Partial<Task>) {
  Object.assign(task, change, { changedDate: new Date().toISOString() });
  return { task: taskRow(portal, task) };
}

function taskOf(call: CallContext, id: unknown): Task {
  const n = Number(id);
  if (id === undefined || id === null || id === '') throw new RestError('100', 'CTaskItem All parameters in the constructor must have real class type', 400);
  if (!Number.isInteger(n) || n <= 0) throw new RestError('0', 'wrong task id', 400);
  const task = call.portal.workflows.tasks.get(n);
  if (!task) throw new RestError('0', 'Action on the task is not allowed', 400);
  return task;
}

function bizprocTaskRows(portal: Portal, task: BizprocTask): Array<Record<string, unknown>> {
  const instance = portal.workflows.instances.get(task.workflowId);
  const template = instance ? portal.workflows.templates.get(instance.templateId) : undefined;
  return task.userIds.map((userId) => ({
    ID: String(task.id),
    WORKFLOW_ID: task.workflowId,
    DOCUMENT_NAME: String(portal.documents.get(task.documentId[2])?.fields.TITLE ?? task.documentId[2]),
    DESCRIPTION: task.description,
    NAME: task.name,
    MODIFIED: portalIso(task.modified, portal),
    WORKFLOW_STARTED: instance ? portalIso(instance.started, portal) : null,
    WORKFLOW_STARTED_BY: String(instance?.startedBy ?? ''),
    OVERDUE_DATE: null,
    WORKFLOW_TEMPLATE_ID: String(instance?.templateId ?? ''),
    WORKFLOW_TEMPLATE_NAME: template?.name ?? '',
    WORKFLOW_STATE: instance?.status ?? '',
    STATUS: String(task.status),
    USER_ID: String(userId),
    USER_STATUS: String(task.userStatus.get(userId) ?? 0),
    MODULE_ID: task.documentId[0],
    ENTITY: task.documentId[1],
    DOCUMENT_ID: task.documentId[2],
    ACTIVITY: { approve: 'ApproveActivity', review: 'ReviewActivity', request: 'RequestInformationActivity', 'request-reject': 'RequestInformationOptionalActivity' }[task.kind],
    ACTIVITY_NAME: task.activityName,
    PARAMETERS: task.fields ? { Fields: task.fields } : {},
    DOCUMENT_URL: documentUrl(task.documentId),
  }));
}

/** CBPDocument::getDocumentAdminPage for a CRM document: its details page. */
function documentUrl([moduleId, , documentId]: [string, string, string]): string {
  const match = /^([A-Z]+)_(\d+)$/.exec(documentId);
  return moduleId === 'crm' && match ? `/crm/${match[1]!.toLowerCase()}/details/${match[2]}/` : '';
}

/** CBPHelper::checkUserSubordination: the target works in a department the user heads. */
function isSubordinate(portal: Portal, headId: number, userId: number): boolean {
  const user = portal.users.get(userId);
  if (!user || userId === headId) return false;
  return user.departmentIds.some((d) => portal.departments.get(d)?.headUserId === headId);
}

const TEMPLATE_LIST: ListSpec = {
  fields: ['ID', 'MODULE_ID', 'ENTITY', 'DOCUMENT_TYPE', 'AUTO_EXECUTE', 'NAME', 'DESCRIPTION', 'TEMPLATE', 'PARAMETERS', 'VARIABLES', 'CONSTANTS', 'MODIFIED', 'IS_MODIFIED', 'USER_ID', 'SYSTEM_CODE'],
  defaultSelect: ['ID'],
  defaultOrder: { ID: 'ASC' },
  dateFields: ['MODIFIED'],
};

const INSTANCE_LIST: ListSpec = {
  fields: ['ID', 'MODIFIED', 'OWNED_UNTIL', 'MODULE_ID', 'ENTITY', 'DOCUMENT_ID', 'STARTED', 'STARTED_BY', 'TEMPLATE_ID'],
  defaultSelect: ['ID', 'MODIFIED', 'OWNED_UNTIL'],
  defaultOrder: { MODIFIED: 'DESC' },
  dateFields: ['MODIFIED', 'OWNED_UNTIL'],
};

const TASK_LIST: ListSpec = {
  fields: ['ID', 'ACTIVITY', 'ACTIVITY_NAME', 'WORKFLOW_ID', 'DOCUMENT_NAME', 'DESCRIPTION', 'NAME', 'MODIFIED', 'WORKFLOW_STARTED', 'WORKFLOW_STARTED_BY', 'OVERDUE_DATE', 'WORKFLOW_TEMPLATE_ID', 'WORKFLOW_TEMPLATE_NAME', 'WORKFLOW_STATE', 'STATUS', 'USER_ID', 'USER_STATUS', 'MODULE_ID', 'ENTITY', 'DOCUMENT_ID', 'PARAMETERS'],
  defaultSelect: ['ID', 'WORKFLOW_ID', 'DOCUMENT_NAME', 'NAME'],
  alwaysSelect: ['MODULE_ID', 'ENTITY', 'DOCUMENT_ID', 'DOCUMENT_URL'],
  defaultOrder: { ID: 'DESC' },
  dateFields: ['MODIFIED', 'WORKFLOW_STARTED', 'OVERDUE_DATE'],
};

/** bizproc.workflow.instances and its alias bizproc.workflow.instance.list: running workflows only (ended ones have no instance row). */
function workflowInstances(call: CallContext, params: Record<string, any>) {
  adminOnly(call);
  const rows = [...call.portal.workflows.instances.values()]
    .filter((i) => i.status === 'running')
    .map((i) => ({
      ID: i.id,
      MODIFIED: portalIso(i.modified, call.portal),
      OWNED_UNTIL: null,
      MODULE_ID: i.documentId[0],
      ENTITY: i.documentId[1],
      DOCUMENT_ID: i.documentId[2],
      STARTED: portalIso(i.started, call.portal),
      STARTED_BY: String(i.startedBy),
      TEMPLATE_ID: String(i.templateId),
    }));
  return query(rows, params, INSTANCE_LIST);
}

/** CBPTaskUserStatus::resolveStatus: 1–4, or yes / no / ok / cancel (bizproc.task.complete docs). */
function taskUserStatus(value: unknown): number | null {
  const names: Record<string, number> = { yes: 1, no: 2, ok: 3, cancel: 4 };
  const text = String(value ?? '').trim().toLowerCase();
  if (text in names) return names[text]!;
  const n = Number(text);
  return text !== '' && Number.isInteger(n) && n >= 1 && n <= 4 ? n : null;
}

const STATUS_FOR_KIND: Record<BizprocTask['kind'], number[]> = { approve: [1, 2], review: [3], request: [3], 'request-reject': [3, 4] };

export const workflowMethods: Record<string, MethodDefinition> = {
  'bizproc.workflow.template.add': {
    scope: 'bizproc',
    handler(call, params) {
      const app = requireAppContext(call);
      adminOnly(call);
      const documentType = param(params, 'DOCUMENT_TYPE');
      if (!isTriple(documentType)) throw templateError('Incorrect field DOCUMENT_TYPE!');
      const name = param(params, 'NAME');
      if (typeof name !== 'string' || name.trim() === '') throw templateError('Empty template name!');
      const auto = autoExecute(param(params, 'AUTO_EXECUTE'));
      const data = templateData(param(params, 'TEMPLATE_DATA'));
      const id = nextTemplateId++;
      call.portal.workflows.templates.set(id, {
        id,
        moduleId: documentType[0],
        entity: documentType[1],
        documentType,
        autoExecute: auto,
        name,
        description: String(param(params, 'DESCRIPTION') ?? ''),
        template: data.TEMPLATE,
        parameters: data.PARAMETERS,
        variables: data.VARIABLES,
        constants: data.CONSTANTS,
        documentFields: data.DOCUMENT_FIELDS,
        ownerClientId: app.application.clientId,
        userId: call.user.id,
        modified: new Date().toISOString(),
        isModified: false,
        active: true,
      });
      return id;
    },
  },
  'bizproc.workflow.template.update': {
    scope: 'bizproc',
    handler(call, params) {
      requireAppContext(call);
      adminOnly(call);
      const fields = param(params, 'FIELDS') as Record<string, unknown> | undefined;
      const template = ownTemplate(call, param(params, 'ID'));
      if (!fields || typeof fields !== 'object' || Object.keys(fields).length === 0) throw templateError('No fields to update.');
      if (fields.NAME !== undefined) {
        if (typeof fields.NAME !== 'string' || fields.NAME.trim() === '') throw templateError('Empty template name!');
        template.name = fields.NAME;
      }
      if (fields.DESCRIPTION !== undefined) template.description = String(fields.DESCRIPTION);
      if (fields.AUTO_EXECUTE !== undefined) template.autoExecute = autoExecute(fields.AUTO_EXECUTE);
      if (fields.TEMPLATE_DATA !== undefined) {
        const data = templateData(fields.TEMPLATE_DATA);
        Object.assign(template, { template: data.TEMPLATE, parameters: data.PARAMETERS, variables: data.VARIABLES, constants: data.CONSTANTS, documentFields: data.DOCUMENT_FIELDS });
      }
      template.modified = new Date().toISOString();
      template.isModified = true;
      return true;
    },
  },
  'bizproc.workflow.template.delete': {
    scope: 'bizproc',
    handler(call, params) {
      requireAppContext(call);
      adminOnly(call);
      const template = ownTemplate(call, param(params, 'ID'));
      call.portal.workflows.templates.delete(template.id);
      return true;
    },
  },
  'bizproc.workflow.template.list': {
    scope: 'bizproc',
    handler(call, params) {
      adminOnly(call);
      const rows = [...call.portal.workflows.templates.values()].map((t) => templateRow(call.portal, t));
      return query(rows, params, TEMPLATE_LIST);
    },
  },
  'bizproc.workflow.start': {
    scope: 'bizproc',
    async handler(call, params) {
      // restservice.php startWorkflow: the template, then the document, then the rights; the
      // document errors carry no code (the docs' "Empty value").
      const templateId = param(params, 'TEMPLATE_ID');
      if (!templateId || templateId === '0') throw new RestError('ERROR_WRONG_WORKFLOW_ID', 'Empty TEMPLATE_ID', 400);
      const template = call.portal.workflows.templates.get(Number.parseInt(String(templateId), 10));
      if (!template) throw new RestError('ERROR_WRONG_WORKFLOW_ID', 'Template not found', 400);
      const documentId = param(params, 'DOCUMENT_ID');
      const document = isTriple(documentId) ? call.portal.documents.get(documentId[2]) : undefined;
      if (!isTriple(documentId) || !document || document.documentId[0] !== documentId[0] || document.documentId[1] !== documentId[1]) {
        throw new RestError('', 'Wrong DOCUMENT_ID!', 400);
      }
      if (template.documentType.join('|') !== document.documentType.join('|')) throw new RestError('', 'Template type and DOCUMENT_ID mismatch!', 400);
      adminOnly(call);
      const parameters = param(params, 'PARAMETERS');
      const instance = await runtime(call).start(call.portal, {
        templateId: template.id,
        documentId,
        parameters: {
          ...(parameters && typeof parameters === 'object' && !Array.isArray(parameters) ? (parameters as Record<string, unknown>) : {}),
          // CBPDocument::PARAM_TAGRET_USER: the REST caller, as the core adds it.
          TargetUser: `user_${call.user.id}`,
        },
        startedBy: call.user.id,
      });
      return instance.id;
    },
  },
  'bizproc.workflow.instances': { scope: 'bizproc', handler: workflowInstances },
  // The core registers both names for one handler (restservice.php onRestServiceBuildDescription).
  'bizproc.workflow.instance.list': { scope: 'bizproc', handler: workflowInstances },
  'bizproc.workflow.terminate': {
    scope: 'bizproc',
    handler(call, params) {
      adminOnly(call);
      const instance = workflowInstance(call, params);
      if (instance.status !== 'running') throw new RestError('ERROR_WRONG_WORKFLOW_ID', 'Workflow instance not found', 400);
      const status = param(params, 'STATUS');
      runtime(call).log(instance, 'Template', `Terminated${status ? `: ${status}` : ''}`);
      runtime(call).stop(call.portal, instance, 'terminated', status === undefined ? undefined : String(status));
      return true;
    },
  },
  'bizproc.workflow.kill': {
    scope: 'bizproc',
    handler(call, params) {
      adminOnly(call);
      const instance = workflowInstance(call, params);
      if (instance.status === 'running') runtime(call).stop(call.portal, instance, 'terminated', 'killed');
      call.portal.workflows.instances.delete(instance.id);
      for (const task of [...call.portal.workflows.bizprocTasks.values()]) {
        if (task.workflowId === instance.id) call.portal.workflows.bizprocTasks.delete(task.id);
      }
      return true;
    },
  },
  'bizproc.task.list': {
    scope: 'bizproc',
    handler(call, params) {
      // restservice.php getTaskList: a user sees their own tasks and their subordinates';
      // an administrator sees everyone's, and without a USER_ID filter all of them.
      const filter = { ...((param(params, 'FILTER') ?? {}) as Record<string, unknown>) };
      const userKey = Object.keys(filter).find((k) => k.toUpperCase() === 'USER_ID');
      if (!call.user.isAdmin && userKey === undefined) filter.USER_ID = call.user.id;
      const target = Number(userKey === undefined ? (filter.USER_ID ?? 0) : filter[userKey]) || 0;
      if (target !== call.user.id && !isSubordinate(call.portal, call.user.id, target)) {
        requireAdmin(call, 'Access denied! The method was not initiated by an administrator or you cannot view the tasks of the specified employee');
      }
      const rows = [...call.portal.workflows.bizprocTasks.values()].flatMap((t) => bizprocTaskRows(call.portal, t));
      return query(rows, { ...params, FILTER: filter }, TASK_LIST);
    },
  },
  'bizproc.task.complete': {
    scope: 'bizproc',
    handler(call, params) {
      const id = param(params, 'TASK_ID');
      if (id === undefined || id === '') throw new RestError('ERROR_TASK_VALIDATION', 'empty TASK_ID', 400);
      const task = call.portal.workflows.bizprocTasks.get(Number(id));
      if (!task || !task.userIds.includes(call.user.id)) throw new RestError('ERROR_TASK_NOT_FOUND', 'Task not found', 400);
      const status = taskUserStatus(param(params, 'STATUS'));
      if (status === null || !STATUS_FOR_KIND[task.kind].includes(status)) throw new RestError('ERROR_TASK_VALIDATION', 'incorrect STATUS', 400);
      if (task.status !== 0 || task.userStatus.get(call.user.id) !== 0) throw new RestError('ERROR_TASK_COMPLETED', 'Task already completed', 400);
      task.userStatus.set(call.user.id, status);
      task.status = status as BizprocTask['status'];
      task.modified = new Date().toISOString();
      const instance = call.portal.workflows.instances.get(task.workflowId);
      if (instance) {
        const comment = param(params, 'COMMENT');
        runtime(call).log(instance, task.activityName, `user_${call.user.id}: ${['', 'approved', 'rejected', 'done', 'cancelled'][status]}${comment ? ` — ${comment}` : ''}`);
        const fields = param(params, 'FIELDS');
        if (fields && typeof fields === 'object') Object.assign(instance.variables, fields);
      }
      runtime(call).taskDone(task);
      return true;
    },
  },
  'bizproc.task.delegate': {
    scope: 'bizproc',
    handler(call, params) {
      const ids = param(params, 'TASK_IDS');
      const list = (Array.isArray(ids) ? ids : ids === undefined ? [] : [ids]).map(Number);
      if (list.length === 0 || list.some((n) => !Number.isInteger(n) || n <= 0)) throw new RestError('ERROR_TASK_VALIDATION', 'Invalid TASK_IDS', 400);
      const from = call.portal.users.get(Number(param(params, 'FROM_USER_ID')));
      if (!from) throw new RestError('ERROR_INVALID_USER_ID', 'Invalid FROM_USER_ID', 400);
      const to = call.portal.users.get(Number(param(params, 'TO_USER_ID')));
      if (!to || !to.active) throw new RestError('ERROR_INVALID_USER_ID', 'Invalid TO_USER_ID', 400);
      if (from.id !== call.user.id && !call.user.isAdmin) throw new RestError('ACCESS_DENIED', 'Access denied!', 403);
      const errors: string[] = [];
      const tasks: BizprocTask[] = [];
      for (const id of list) {
        const task = call.portal.workflows.bizprocTasks.get(id);
        if (!task || task.status !== 0 || !task.userIds.includes(from.id)) errors.push('User is not responsible for the task');
        else if (!to.canReceiveDelegation) errors.push('Task delegation is only available for intranet users');
        else tasks.push(task);
      }
      if (errors.length > 0) throw new RestError('ERROR_DELEGATION_NOT_ALLOWED', [...new Set(errors)].join('; '), 400);
      for (const task of tasks) {
        task.userIds = task.userIds.map((u) => (u === from.id ? to.id : u));
        task.userStatus.delete(from.id);
        task.userStatus.set(to.id, 0);
        task.modified = new Date().toISOString();
        const instance = call.portal.workflows.instances.get(task.workflowId);
        if (instance) runtime(call).log(instance, task.activityName, `Task #${task.id} delegated from user_${from.id} to user_${to.id}`);
      }
      return true;
    },
  },
  'bizproc.event.send': {
    scope: 'bizproc',
    handler(call, params) {
      return runtime(call).eventSend(call.portal, param(params, 'EVENT_TOKEN'), param(params, 'RETURN_VALUES'), param(params, 'LOG_MESSAGE'));
    },
  },
  'bizproc.activity.log': {
    scope: 'bizproc',
    handler: (call, params) => runtime(call).activityLog(call.portal, param(params, 'EVENT_TOKEN'), param(params, 'LOG_MESSAGE')),
  },
  'tasks.task.add': {
    scope: 'task',
    handler(call, params) {
      const fields = (param(params, 'fields') ?? {}) as Record<string, unknown>;
      if (!fields.TITLE) throw new RestError('ERROR_CORE', 'TITLE is required', 400);
      const id = Math.max(0, ...call.portal.workflows.tasks.keys()) + 1;
      const task: Task = {
        id,
        title: String(fields.TITLE),
        createdBy: Number(fields.CREATED_BY ?? call.user.id),
        responsibleId: Number(fields.RESPONSIBLE_ID ?? call.user.id),
        taskControl: fields.TASK_CONTROL === 'Y',
        status: 2,
        changedDate: new Date().toISOString(),
      };
      call.portal.workflows.tasks.set(id, task);
      return { task: taskRow(call.portal, task) };
    },
  },
  'tasks.task.get': {
    scope: 'task',
    handler: (call, params) => ({ task: taskRow(call.portal, taskOf(call, param(params, 'taskId'))) }),
  },
  'tasks.task.list': {
    scope: 'task',
    handler(call, params) {
      const page = listPage([...call.portal.workflows.tasks.values()].map((t) => taskRow(call.portal, t)), startOf(params));
      return { ...page, result: { tasks: page.result } };
    },
  },
  'tasks.task.complete': {
    scope: 'task',
    handler(call, params) {
      const task = taskOf(call, param(params, 'taskId'));
      if (task.responsibleId !== call.user.id && !call.user.isAdmin) throw notAllowed();
      return changed(call.portal, task, { status: task.taskControl && task.createdBy !== call.user.id ? 4 : 5 });
    },
  },
  'tasks.task.approve': {
    scope: 'task',
    handler(call, params) {
      const task = taskOf(call, param(params, 'taskId'));
      const allowed = (task.createdBy === call.user.id || call.user.isAdmin) && task.taskControl && task.status === 4;
      if (!allowed) throw notAllowed();
      return changed(call.portal, task, { status: 5 });
    },
  },
  'tasks.task.delegate': {
    scope: 'task',
    handler(call, params) {
      const task = taskOf(call, param(params, 'taskId'));
      const userId = param(params, 'userId');
      if (userId === undefined || userId === '') throw new RestError('100', 'Could not find value for parameter {userId}', 400);
      const to = call.portal.users.get(Number(userId));
      const mayDelegate = task.responsibleId === call.user.id || task.createdBy === call.user.id || call.user.isAdmin;
      if (!mayDelegate || !to || !to.active || !to.canReceiveDelegation || task.status === 5) {
        throw new RestError('0', 'Action on the task is not allowed', 400);
      }
      return changed(call.portal, task, { responsibleId: to.id });
    },
  },
};
