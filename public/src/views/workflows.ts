/**
 * Workflows (admin): the portal's templates — start one on a document, add one from a .bpt file,
 * replace the file of or delete one this app added — and the running workflows (terminate with a
 * message for the log, or kill).
 */
import { act, el, readFileBase64, replace } from '../dom.ts';
import { ApiError } from '../frame.ts';
import type { ViewContext } from './context.ts';

interface Template {
  id: number;
  name: string;
  documentType: [string, string, string];
  owned: boolean;
}

interface Running {
  id: string;
  templateId: number;
  document: [string, string, string];
  started: string;
}

const DOCUMENT_TYPES: Array<[string, [string, string, string]]> = [
  ['Deal', ['crm', 'CCrmDocumentDeal', 'DEAL']],
  ['Lead', ['crm', 'CCrmDocumentLead', 'LEAD']],
  ['Contact', ['crm', 'CCrmDocumentContact', 'CONTACT']],
  ['Company', ['crm', 'CCrmDocumentCompany', 'COMPANY']],
];

export async function renderWorkflows(context: ViewContext): Promise<void> {
  const { frame, t, root } = context;
  const templates = el('tbody', { id: 'templates' });
  const running = el('tbody', { id: 'running' });
  replace(
    root,
    el('h2', {}, t('templates')),
    el('table', {}, templates),
    addTemplateForm(context, () => void loadTemplates()),
    el('h2', {}, t('running')),
    el('table', {}, running),
  );

  let names = new Map<number, string>();
  const loadTemplates = async () => {
    const list = await frame.api<Template[]>('/api/templates');
    names = new Map(list.map((template) => [template.id, template.name]));
    replace(templates, list.length === 0 ? el('tr', {}, el('td', { class: 'muted' }, t('noTemplates'))) : null, ...list.map((template) => templateRow(context, template, loadTemplates, loadRunning)));
  };
  const loadRunning = async () => {
    const page = await frame.api<{ items: Running[] }>('/api/workflows');
    replace(running, page.items.length === 0 ? el('tr', {}, el('td', { class: 'muted' }, t('noRunning'))) : null, ...page.items.map((workflow) => runningRow(context, workflow, names.get(workflow.templateId), loadRunning)));
  };
  try {
    await loadTemplates();
    await loadRunning();
  } catch (error) {
    replace(root, el('p', { class: 'bad', id: 'workflows-refused' }, error instanceof ApiError && error.status === 403 ? t('adminOnly') : (error as Error).message));
  }
}

function templateRow({ frame, t }: ViewContext, template: Template, reload: () => Promise<void>, reloadRunning: () => Promise<void>) {
  const note = el('span', { class: 'note' });
  const documentId = el('input', { placeholder: t('documentId'), size: '14', class: 'document-id' });
  const start = el('button', { type: 'button', class: 'start' }, t('start'));
  start.addEventListener('click', () =>
    act(start, note, async () => {
      const { id } = await frame.api<{ id: string }>('/api/workflows', { method: 'POST', body: { templateId: template.id, documentId: documentId.value.trim() } });
      void reloadRunning();
      return t('started', id);
    }),
  );
  const cells = [el('td', {}, `#${template.id}`), el('td', {}, template.name, template.owned ? el('span', { class: 'badge' }, t('ownedByApp')) : null), el('td', { class: 'muted' }, template.documentType[2])];
  const actions = el('td', {}, documentId, ' ', start);
  if (template.owned) {
    const file = el('input', { type: 'file', accept: '.bpt', class: 'replace-file' });
    const update = el('button', { type: 'button', class: 'update' }, t('updateFile'));
    update.addEventListener('click', () =>
      act(update, note, async () => {
        const chosen = file.files?.[0];
        if (!chosen) throw new Error(t('file'));
        await frame.api(`/api/templates/${template.id}`, { method: 'PUT', body: { file: await readFileBase64(chosen), fileName: chosen.name } });
        return t('updated');
      }),
    );
    const remove = el('button', { type: 'button', class: 'delete' }, t('delete'));
    remove.addEventListener('click', () =>
      act(remove, note, async () => {
        await frame.api(`/api/templates/${template.id}`, { method: 'DELETE' });
        setTimeout(() => void reload(), 300);
        return t('deleted');
      }),
    );
    actions.append(' ', file, update, ' ', remove);
  }
  actions.append(' ', note);
  return el('tr', { 'data-template': String(template.id) }, ...cells, actions);
}

function runningRow({ frame, t }: ViewContext, workflow: Running, templateName: string | undefined, reload: () => Promise<void>) {
  const note = el('span', { class: 'note' });
  const message = el('input', { placeholder: t('terminateMessage'), class: 'terminate-message' });
  const terminate = el('button', { type: 'button', class: 'terminate' }, t('terminate'));
  terminate.addEventListener('click', () =>
    act(terminate, note, async () => {
      await frame.api(`/api/workflows/${encodeURIComponent(workflow.id)}/terminate`, { method: 'POST', body: { message: message.value } });
      setTimeout(() => void reload(), 600);
      return t('terminated');
    }),
  );
  const kill = el('button', { type: 'button', class: 'kill' }, t('kill'));
  kill.addEventListener('click', () =>
    act(kill, note, async () => {
      await frame.api(`/api/workflows/${encodeURIComponent(workflow.id)}/kill`, { method: 'POST' });
      setTimeout(() => void reload(), 600);
      return t('killed');
    }),
  );
  return el(
    'tr',
    { 'data-workflow': workflow.id },
    el('td', {}, workflow.id),
    el('td', {}, templateName ?? `${t('template')} #${workflow.templateId}`),
    el('td', {}, workflow.document[2]),
    el('td', {}, new Date(workflow.started).toLocaleString(frame.lang)),
    el('td', {}, message, ' ', terminate, ' ', kill, ' ', note),
  );
}

function addTemplateForm({ frame, t }: ViewContext, reload: () => void) {
  const name = el('input', { id: 'new-template-name', required: true, maxlength: '255' });
  const type = el('select', { id: 'new-template-type' }, ...DOCUMENT_TYPES.map(([label], i) => el('option', { value: String(i) }, label)));
  const file = el('input', { id: 'new-template-file', type: 'file', accept: '.bpt' });
  const note = el('span', { class: 'note', id: 'new-template-note' });
  const add = el('button', { type: 'button', id: 'new-template-add' }, t('add'));
  add.addEventListener('click', () =>
    act(add, note, async () => {
      const chosen = file.files?.[0];
      if (!name.value.trim() || !chosen) throw new Error(`${t('name')}, ${t('file')}: ${t('required')}`);
      const { id } = await frame.api<{ id: number }>('/api/templates', {
        method: 'POST',
        body: { name: name.value.trim(), documentType: DOCUMENT_TYPES[Number(type.value)]![1], file: await readFileBase64(chosen), fileName: chosen.name },
      });
      reload();
      return t('added', id);
    }),
  );
  return el(
    'fieldset',
    {},
    el('legend', {}, t('addTemplate')),
    el('label', {}, t('name'), ' ', name),
    ' ',
    el('label', {}, t('documentType'), ' ', type),
    ' ',
    el('label', {}, t('file'), ' ', file),
    ' ',
    add,
    ' ',
    note,
  );
}
