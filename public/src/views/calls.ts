/**
 * Calls: this portal's robot calls, newest first, filtered by robot, status and dates, paged by
 * the server's cursor; a row opens the call in full; a failed one can be retried by an admin.
 */
import { act, el, replace } from '../dom.ts';
import { localized, type TextKey } from '../i18n.ts';
import type { ViewContext } from './context.ts';

export interface Call {
  id: string;
  code: string;
  workflowId: string;
  documentId: string[];
  properties: unknown;
  status: 'received' | 'running' | 'answered' | 'failed' | 'timed_out';
  attempts: number;
  error: string | null;
  returnValues: unknown;
  receivedAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  answeredAt: string | null;
  deadlineAt: string | null;
}

const STATUSES = ['received', 'running', 'answered', 'failed', 'timed_out'] as const;

export function renderCalls(context: ViewContext): void {
  const { frame, t, root, handlers } = context;
  const robot = el('select', { id: 'filter-robot' }, el('option', { value: '' }, t('any')), ...handlers.map((h) => el('option', { value: h.code }, localized(h.name, frame.lang))));
  const status = el('select', { id: 'filter-status' }, el('option', { value: '' }, t('any')), ...STATUSES.map((s) => el('option', { value: s }, t(`st_${s}` as TextKey))));
  const from = el('input', { id: 'filter-from', type: 'date' });
  const to = el('input', { id: 'filter-to', type: 'date' });
  const body = el('tbody', { id: 'calls' });
  const detail = el('div', { id: 'call-detail', class: 'detail', hidden: true });
  const more = el('button', { id: 'calls-more', type: 'button', hidden: true }, t('more'));
  let next: string | null = null;

  const query = () => {
    const params = new URLSearchParams({ limit: '50' });
    if (robot.value) params.set('code', robot.value);
    if (status.value) params.set('status', status.value);
    if (from.value) params.set('from', new Date(`${from.value}T00:00:00`).toISOString());
    if (to.value) params.set('to', new Date(new Date(`${to.value}T00:00:00`).getTime() + 86_400_000).toISOString());
    if (next) params.set('before', next);
    return params;
  };
  const load = async (reset: boolean) => {
    if (reset) {
      next = null;
      replace(body, el('tr', {}, el('td', { colspan: '6', class: 'muted' }, t('loading'))));
    }
    try {
      const page = await frame.api<{ items: Call[]; next: string | null }>(`/api/calls?${query()}`);
      if (reset) replace(body);
      if (reset && page.items.length === 0) body.append(el('tr', {}, el('td', { colspan: '6', class: 'muted' }, t('noCalls'))));
      for (const call of page.items) body.append(row(call));
      next = page.next;
      more.hidden = next === null;
    } catch (error) {
      replace(body, el('tr', {}, el('td', { colspan: '6', class: 'bad' }, (error as Error).message)));
    }
  };
  const statusText = (call: Call) => (call.status === 'running' && call.finishedAt && !call.answeredAt ? t('answerPending') : t(`st_${call.status}` as TextKey));
  const statusClass = (call: Call) => (call.status === 'answered' ? 'ok' : call.status === 'failed' || call.status === 'timed_out' ? 'bad' : 'pending');
  const row = (call: Call) =>
    el(
      'tr',
      { 'data-call': call.id, 'data-status': call.status, class: 'clickable', onclick: () => show(call) },
      el('td', {}, new Date(call.receivedAt).toLocaleString(frame.lang)),
      el('td', {}, localized(handlers.find((h) => h.code === call.code)?.name ?? call.code, frame.lang)),
      el('td', { class: statusClass(call) }, statusText(call)),
      el('td', {}, call.documentId[2] ?? ''),
      el('td', {}, call.attempts),
      el('td', {}, call.startedAt && call.finishedAt ? `${new Date(call.finishedAt).getTime() - new Date(call.startedAt).getTime()} ms` : ''),
    );
  const show = (call: Call) => {
    const note = el('span', { class: 'note' });
    const retry = el('button', { type: 'button', id: 'retry' }, t('retry'));
    retry.addEventListener('click', () =>
      act(retry, note, async () => {
        await frame.api(`/api/calls/${call.id}/retry`, { method: 'POST' });
        return t('retried');
      }),
    );
    const json = (value: unknown) => el('pre', {}, JSON.stringify(value, null, 2));
    const time = (value: string | null) => (value ? new Date(value).toLocaleString(frame.lang) : '—');
    replace(
      detail,
      el('h3', {}, `#${call.id} · ${call.code} · ${statusText(call)}`),
      el('p', { class: 'muted' }, `${call.workflowId} · ${call.documentId.join(' / ')}`),
      el('h4', {}, t('properties')),
      json(call.properties),
      call.returnValues !== null ? el('h4', {}, t('returned')) : null,
      call.returnValues !== null ? json(call.returnValues) : null,
      call.error ? el('h4', {}, t('error')) : null,
      call.error ? el('p', { class: 'bad', id: 'call-error' }, call.error) : null,
      el('h4', {}, t('timings')),
      el('p', {}, `${t('received')}: ${time(call.receivedAt)} · ${time(call.startedAt)} → ${time(call.finishedAt)} · ${t('st_answered')}: ${time(call.answeredAt)} · ${t('attempts')}: ${call.attempts}`),
      (call.status === 'failed' || call.status === 'timed_out') && frame.isAdmin ? el('p', {}, retry, ' ', note) : null,
    );
    detail.hidden = false;
  };
  more.addEventListener('click', () => void load(false));
  const apply = el('button', { type: 'button', id: 'filter-apply', onclick: () => void load(true) }, t('apply'));
  replace(
    root,
    el(
      'div',
      { class: 'filters' },
      el('label', {}, t('filterRobot'), ' ', robot),
      el('label', {}, t('filterStatus'), ' ', status),
      el('label', {}, t('filterFrom'), ' ', from),
      el('label', {}, t('filterTo'), ' ', to),
      apply,
    ),
    el(
      'table',
      {},
      el('thead', {}, el('tr', {}, ...(['received', 'robot', 'status', 'document', 'attempts', 'took'] as const).map((k) => el('th', {}, t(k))))),
      body,
    ),
    more,
    detail,
  );
  void load(true);
}
