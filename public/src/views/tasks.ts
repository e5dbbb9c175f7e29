/** My tasks: the signed-in user's waiting workflow tasks — complete them or delegate them. */
import { act, el, replace } from '../dom.ts';
import type { ViewContext } from './context.ts';

interface Task {
  id: number;
  name: string;
  description: string;
  documentName: string;
  document: string[];
  activity: string;
}

export async function renderTasks(context: ViewContext): Promise<void> {
  const { frame, t, root } = context;
  const list = el('div', { id: 'tasks' }, t('loading'));
  replace(root, el('h2', {}, t('myTasks')), list);
  const load = async () => {
    try {
      const [tasks, users] = await Promise.all([frame.api<Task[]>('/api/tasks'), frame.api<Array<{ id: number; name: string }>>('/api/users')]);
      replace(list, tasks.length === 0 ? el('p', { class: 'muted' }, t('noTasks')) : null, ...tasks.map((task) => taskCard(context, task, users, load)));
    } catch (error) {
      replace(list, el('p', { class: 'bad' }, (error as Error).message));
    }
  };
  await load();
}

function taskCard(context: ViewContext, task: Task, users: Array<{ id: number; name: string }>, reload: () => Promise<void>) {
  const { frame, t } = context;
  const note = el('span', { class: 'note' });
  const comment = el('input', { placeholder: t('comment'), class: 'task-comment', maxlength: '2000' });
  const complete = (status: number, label: string, className: string) => {
    const button = el('button', { type: 'button', class: className }, label);
    button.addEventListener('click', () =>
      act(button, note, async () => {
        await frame.api(`/api/tasks/${task.id}/complete`, { method: 'POST', body: { status, comment: comment.value } });
        setTimeout(() => void reload(), 600);
        return t('completed');
      }),
    );
    return button;
  };
  // Approval tasks take yes/no; review tasks an acknowledgement; the portal refuses what does not fit.
  const choices = /Review/i.test(task.activity) ? [complete(3, t('ok'), 'task-ok')] : [complete(1, t('approve'), 'task-approve'), complete(2, t('reject'), 'task-reject')];
  const to = el('select', { class: 'delegate-to' }, ...users.filter((u) => u.id !== context.userId).map((u) => el('option', { value: String(u.id) }, u.name)));
  const delegate = el('button', { type: 'button', class: 'task-delegate' }, t('delegate'));
  delegate.addEventListener('click', () =>
    act(delegate, note, async () => {
      await frame.api(`/api/tasks/${task.id}/delegate`, { method: 'POST', body: { toUserId: Number(to.value) } });
      setTimeout(() => void reload(), 600);
      return t('delegated');
    }),
  );
  return el(
    'div',
    { class: 'card', 'data-task': String(task.id) },
    el('h3', {}, task.name),
    el('p', { class: 'muted' }, task.documentName || task.document.join(' / ')),
    task.description ? el('p', {}, task.description) : null,
    el('p', {}, comment, ' ', ...choices),
    el('p', {}, t('delegateTo'), ' ', to, ' ', delegate, ' ', note),
  );
}
