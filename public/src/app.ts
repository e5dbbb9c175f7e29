/**
 * The app's main page in the Bitrix24 frame: tabs for status, calls, workflows and the user's
 * own tasks. Every request carries the frame's auth; the server checks it against the portal.
 */
import { byId, el, replace } from './dom.ts';
import { openFrame } from './frame.ts';
import { translator, type TextKey } from './i18n.ts';
import { renderCalls } from './views/calls.ts';
import type { ViewContext } from './views/context.ts';
import { renderStatus, type Status } from './views/status.ts';
import { renderTasks } from './views/tasks.ts';
import { renderWorkflows } from './views/workflows.ts';

const TABS: Array<[string, TextKey]> = [
  ['status', 'tabStatus'],
  ['calls', 'tabCalls'],
  ['workflows', 'tabWorkflows'],
  ['tasks', 'tabTasks'],
];

async function main() {
  const frame = await openFrame();
  const t = translator(frame.lang);
  document.documentElement.lang = frame.lang;
  document.title = t('title');
  byId('title').textContent = t('title');
  const status = await frame.api<Status>('/api/status');
  const root = byId('view');
  const context: ViewContext = { frame, t, root, handlers: status.handlers, userId: status.user.id };
  const nav = byId('tabs');
  const open = async (tab: string) => {
    nav.querySelectorAll('button').forEach((b) => b.classList.toggle('active', b.dataset.tab === tab));
    root.dataset.view = tab;
    replace(root, el('p', { class: 'muted' }, t('loading')));
    if (tab === 'status') await renderStatus(context, tab === 'status' && root.dataset.fresh ? await frame.api<Status>('/api/status') : status);
    if (tab === 'calls') renderCalls(context);
    if (tab === 'workflows') await renderWorkflows(context);
    if (tab === 'tasks') await renderTasks(context);
    root.dataset.fresh = '1';
  };
  replace(nav, ...TABS.map(([tab, label]) => el('button', { type: 'button', 'data-tab': tab, onclick: () => void open(tab) }, t(label))));
  await open('status');
  document.body.dataset.ready = '1';
}

main().catch((error: Error) => {
  replace(byId('view'), el('p', { class: 'bad', id: 'fatal' }, error.message));
  document.body.dataset.ready = 'error';
});
