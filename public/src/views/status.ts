/** Status: the portal's install state and token health, the robots against their registration, the chart. */
import { act, el, replace } from '../dom.ts';
import { localized } from '../i18n.ts';
import { hourlyChart } from './chart.ts';
import type { ViewContext } from './context.ts';

export interface Status {
  portal: { domain: string; state: string; stateReason: string | null; tokenExpiresAt: string | null; appVersion: number | null };
  user: { id: number; isAdmin: boolean };
  handlers: Array<{ code: string; kind: string; name: unknown; registered: Record<string, boolean> | null }>;
  registrationError: string | null;
}

export async function renderStatus({ frame, t, root }: ViewContext, status: Status): Promise<void> {
  const { portal } = status;
  const token =
    portal.state === 'needs_reauth'
      ? el('span', { class: 'bad' }, t('tokenNeedsReopen'))
      : el('span', { class: 'ok' }, t('tokenValid', portal.tokenExpiresAt ? new Date(portal.tokenExpiresAt).toLocaleString(frame.lang) : '—'));
  const robots = el(
    'table',
    { id: 'robots' },
    ...status.handlers.map((handler) => {
      const ok = handler.registered !== null && Object.values(handler.registered).every(Boolean);
      return el(
        'tr',
        { 'data-code': handler.code },
        el('td', {}, localized(handler.name, frame.lang)),
        el('td', { class: 'muted' }, handler.code),
        el('td', { class: 'muted' }, handler.kind),
        el('td', { class: ok ? 'ok' : 'bad' }, ok ? t('registered') : t('missing')),
      );
    }),
  );
  const note = el('span', { class: 'note', id: 'repair-note' });
  const repair = el('button', { id: 'repair', type: 'button' }, t('repair'));
  repair.addEventListener('click', () =>
    act(repair, note, async () => {
      const report = await frame.api<{ added: string[]; updated: string[]; deleted: string[] }>('/api/registration/sync', { method: 'POST' });
      return t('repaired', report.added.length, report.updated.length, report.deleted.length);
    }),
  );
  const chart = el('div', { id: 'chart' }, t('loading'));
  replace(
    root,
    el(
      'dl',
      { class: 'facts' },
      el('dt', {}, t('portal')),
      el('dd', { id: 'portal-domain' }, portal.domain),
      el('dt', {}, t('installState')),
      el('dd', { id: 'portal-state', class: portal.state === 'installed' ? 'ok' : 'bad' }, portal.state + (portal.stateReason ? `: ${portal.stateReason}` : '')),
      el('dt', {}, t('token')),
      el('dd', {}, token),
    ),
    el('h2', {}, t('robots')),
    status.registrationError ? el('p', { class: 'bad' }, status.registrationError) : null,
    robots,
    status.user.isAdmin ? el('p', {}, repair, ' ', note) : null,
    el('h2', {}, t('callsPerHour')),
    chart,
  );
  try {
    replace(chart, hourlyChart(await frame.api('/api/stats/hourly?hours=48'), t));
  } catch (error) {
    replace(chart, el('p', { class: 'bad' }, (error as Error).message));
  }
}
