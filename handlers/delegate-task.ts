/** Delegate a task: make another user responsible for it (tasks.task.delegate). */
import { defineHandler } from '../src/robots/definition.ts';
import { ERROR_RETURN, refusalText, taskAfter, unlessRefused, userValue } from './_shared/robot-kit.ts';

export default defineHandler({
  code: 'delegate_task',
  kind: 'both',
  config: {
    NAME: { en: 'Delegate a task', ru: 'Делегировать задачу', de: 'Aufgabe delegieren' },
    DESCRIPTION: {
      en: 'Delegates a task to another user, who becomes responsible for it. Returns the task’s new responsible person.',
      ru: 'Делегирует задачу другому пользователю, он становится ответственным. Возвращает нового ответственного.',
      de: 'Delegiert eine Aufgabe an einen anderen Benutzer, der verantwortlich wird. Gibt den neuen Verantwortlichen zurück.',
    },
    PROPERTIES: {
      task_id: {
        Name: { en: 'Task ID', ru: 'ID задачи', de: 'Aufgaben-ID' },
        Type: 'int',
        Required: 'Y',
      },
      user: {
        Name: { en: 'Delegate to', ru: 'Кому делегировать', de: 'Delegieren an' },
        Type: 'user',
        Required: 'Y',
      },
    },
    RETURN_PROPERTIES: {
      responsible: { Name: { en: 'Responsible person', ru: 'Ответственный', de: 'Verantwortlicher' }, Type: 'user' },
      ...ERROR_RETURN,
    },
  },
  async run({ properties, portal, log }) {
    const { task_id: taskId, user } = properties;
    const answer = await unlessRefused(
      portal.call('tasks.task.delegate', { taskId, userId: user }),
      (refusal) => `Task #${taskId} could not be delegated to user #${user}: ${refusalText(refusal)}`,
    );
    const task = await taskAfter(portal, taskId, answer, 'responsibleId');
    await log(`Task #${taskId} delegated; responsible is now user #${String(task.responsibleId)}`);
    return { responsible: userValue(task.responsibleId) };
  },
});
