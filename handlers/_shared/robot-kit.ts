/**
 * What the REST robots share: the `error` return property, `Name=value` lines, document ids
 * typed by an admin, portal refusals turned into messages a user can act on, a user's open
 * workflow tasks, and fan-outs through `batch` with a per-item report.
 * (The loader skips this folder: files and folders starting with `_` are not handlers.)
 */
import { HandlerError, type PortalRest } from '../../src/robots/definition.ts';
import { PortalCallError } from '../../src/portals/portal-client.ts';

export type DocumentId = [string, string, string];

/** Every robot returns `error` (empty on success; the executor fills it on failure). */
export const ERROR_RETURN = {
  error: { Name: { en: 'Error', ru: 'Ошибка', de: 'Fehler' }, Type: 'string' },
} as const;

// ---- Name=value lines ----

export type NamedValues = Record<string, string | string[]>;

/**
 * `Name=value`, one a line (template parameters, request-information fields). The first `=`
 * splits; blank lines are skipped; a name given twice collects its values into a list (for
 * multiple fields). A line without a name is a mistake the user must see.
 */
export function parseNameValueLines(text: string | undefined, label: string): NamedValues {
  const values: NamedValues = {};
  const mistakes: string[] = [];
  (text ?? '').split(/\r?\n/).forEach((raw, index) => {
    const line = raw.trim();
    if (line === '') return;
    const at = line.indexOf('=');
    const name = at > 0 ? line.slice(0, at).trim() : '';
    if (!name) {
      mistakes.push(`line ${index + 1} ("${clip(line)}") is not Name=value`);
      return;
    }
    const value = line.slice(at + 1).trim();
    const previous = values[name];
    values[name] = previous === undefined ? value : [...(Array.isArray(previous) ? previous : [previous]), value];
  });
  if (mistakes.length > 0) throw new HandlerError(`${label}: ${mistakes.join('; ')}.`);
  return values;
}

// ---- document ids ----

/** CRM document codes and the document class a workflow knows them by. */
const CRM_DOCUMENTS: Array<[RegExp, string]> = [
  [/^LEAD_\d+$/, 'CCrmDocumentLead'],
  [/^CONTACT_\d+$/, 'CCrmDocumentContact'],
  [/^COMPANY_\d+$/, 'CCrmDocumentCompany'],
  [/^DEAL_\d+$/, 'CCrmDocumentDeal'],
  [/^DYNAMIC_\d+_\d+$/, 'Bitrix\\Crm\\Integration\\BizProc\\Document\\Dynamic'],
  [/^SMART_INVOICE_\d+$/, 'Bitrix\\Crm\\Integration\\BizProc\\Document\\SmartInvoice'],
];

/**
 * The document an admin typed, relative to the one the robot runs on: empty → this document;
 * `15` → the same kind as this one (DEAL_12 → DEAL_15); `LEAD_3`, `DYNAMIC_147_1` → that CRM
 * document; `module|entity|id` → exactly that.
 */
export function resolveDocumentId(given: string | undefined, current: DocumentId): DocumentId {
  const text = (given ?? '').trim();
  if (text === '') return current;
  const parts = text.split('|').map((part) => part.trim());
  if (parts.length === 3 && parts.every((part) => part !== '')) return parts as DocumentId;
  if (/^\d+$/.test(text)) {
    const prefix = /^(.*_)\d+$/.exec(current[2]);
    return [current[0], current[1], `${prefix ? prefix[1] : ''}${text}`];
  }
  const code = text.toUpperCase();
  const crm = CRM_DOCUMENTS.find(([pattern]) => pattern.test(code));
  if (crm) return ['crm', crm[1], code];
  throw new HandlerError(`"${clip(text)}" is not a document id: give a number (a document of the same kind as this one), a code such as DEAL_15, or module|entity|id.`);
}

// ---- portal refusals ----

/** The portal's own words for a refusal. */
export function refusalText(refusal: { code: string; description: string }): string {
  return refusal.description || refusal.code;
}

/**
 * Runs one REST call; a refusal that will not heal by retrying (not found, not allowed, not
 * yours) ends the step with `explain`'s message. Rate limits, 5xx and the network go on to
 * the executor, which retries them.
 */
export async function unlessRefused<T>(
  work: Promise<T>,
  explain: (refusal: PortalCallError) => string,
  returnValues?: Record<string, unknown>,
): Promise<T> {
  try {
    return await work;
  } catch (error) {
    if (error instanceof PortalCallError && !error.transient) throw new HandlerError(explain(error), returnValues);
    throw error;
  }
}

// ---- fan-outs ----

export interface FanOutItem {
  /** how the item is named in the report, e.g. `task #12 «Approve the deal»` */
  label: string;
  call: [method: string, params: Record<string, unknown>];
}

export interface FanOutReport<T> {
  done: Array<{ label: string; result: T }>;
  failed: Array<{ label: string; reason: string }>;
}

/** One command per item through `batch` (50 a request), each item's outcome kept apart. */
export async function fanOut<T = unknown>(portal: PortalRest, items: FanOutItem[]): Promise<FanOutReport<T>> {
  const report: FanOutReport<T> = { done: [], failed: [] };
  if (items.length === 0) return report;
  const outcomes = await portal.batch<T>(items.map((item) => item.call));
  items.forEach((item, index) => {
    const outcome = outcomes[index];
    if (outcome?.ok) report.done.push({ label: item.label, result: outcome.result });
    else report.failed.push({ label: item.label, reason: outcome ? refusalText({ code: outcome.error, description: outcome.description }) : 'no answer' });
  });
  return report;
}

/** `task #12: reason; task #13: reason`, cut after the first 20. */
export function listFailures(failed: Array<{ label: string; reason: string }>): string {
  const shown = failed.slice(0, 20).map((f) => `${f.label}: ${f.reason}`);
  if (failed.length > shown.length) shown.push(`… and ${failed.length - shown.length} more`);
  return shown.join('; ');
}

// ---- workflow tasks ----

export interface WorkflowTask {
  ID: string;
  NAME?: string;
  ACTIVITY?: string;
  WORKFLOW_ID?: string;
  DOCUMENT_ID?: string;
}

/** A user's workflow tasks still waiting for their answer, every page; optionally on one document. */
export async function openTasksOf(portal: PortalRest, userId: number, document: DocumentId | null): Promise<WorkflowTask[]> {
  const filter: Record<string, unknown> = { USER_ID: userId, STATUS: 0, USER_STATUS: 0 };
  if (document) Object.assign(filter, { MODULE_ID: document[0], ENTITY: document[1], DOCUMENT_ID: document[2] });
  return unlessRefused(
    portal.listAll<WorkflowTask>('bizproc.task.list', {
      SELECT: ['ID', 'NAME', 'ACTIVITY', 'WORKFLOW_ID', 'DOCUMENT_ID'],
      FILTER: filter,
      ORDER: { ID: 'ASC' },
    }),
    (refusal) => `The portal would not list the workflow tasks of user #${userId}: ${refusalText(refusal)}`,
  );
}

export function taskLabel(task: WorkflowTask): string {
  return task.NAME ? `task #${task.ID} «${clip(task.NAME)}»` : `task #${task.ID}`;
}

// ---- tasks of the Tasks module ----

/** The fields of a task (tasks.task.*) the robots read back, as the portal spells them. */
export interface TaskRecord {
  id?: string;
  status?: string | number;
  responsibleId?: string | number;
}

/**
 * The task as an action left it: from the action's own answer (`{task: {...}}`) when it carries
 * the field, else read back with tasks.task.get.
 */
export async function taskAfter(portal: PortalRest, taskId: number, answer: unknown, field: keyof TaskRecord): Promise<TaskRecord> {
  const given = (answer as { task?: TaskRecord } | null)?.task;
  if (given && given[field] !== undefined && given[field] !== null) return given;
  const read = await portal.call<{ task?: TaskRecord }>('tasks.task.get', { taskId, select: ['ID', 'STATUS', 'RESPONSIBLE_ID'] });
  return read?.task ?? {};
}

/** Names of tasks.task status codes. */
export const TASK_STATUS: Record<string, string> = {
  '1': 'new',
  '2': 'pending',
  '3': 'in progress',
  '4': 'supposedly completed',
  '5': 'completed',
  '6': 'deferred',
  '7': 'declined',
};

// ---- small things ----

/** A user as a `user` return property carries it. */
export function userValue(id: number | string | null | undefined): string {
  return id === null || id === undefined || id === '' || Number(id) === 0 ? '' : `user_${Number(id)}`;
}

export function clip(text: string, max = 60): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}
