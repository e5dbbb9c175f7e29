/** Approve a task: accept the assignee's work on a task under control (tasks.task.approve). */
import { defineHandler } from '../src/robots/definition.ts';
import { ERROR_RETURN, refusalText, TASK_STATUS, taskAfter, unlessRefused } from './_shared/robot-kit.ts';

export default defineHandler({
  code: 'approve_task',
  kind: 'both',
  config: {
    NAME: { en: 'Approve a task', ru: 'Принять работу по задаче', de: 'Aufgabe abnehmen' },
    DESCRIPTION: {
      en: 'Accepts the assignee’s work on a task with task control, which completes the task. Returns the task’s new status.',
      ru: 'Принимает работу исполнителя по задаче с контролем, задача завершается. Возвращает новый статус задачи.',
      de: 'Nimmt die Arbeit des Verantwortlichen an einer Aufgabe mit Kontrolle ab, die Aufgabe wird abgeschlossen. Gibt den neuen Status zurück.',
    },
    PROPERTIES: {
      task_id: {
        Name: { en: 'Task ID', ru: 'ID задачи', de: 'Aufgaben-ID' },
        Type: 'int',
        Required: 'Y',
      },
    },
    RETURN_PROPERTIES: {
      status: { Name: { en: 'Task status', ru: 'Статус задачи', de: 'Aufgabenstatus' }, Type: 'int' },
      status_name: { Name: { en: 'Task status name', ru: 'Название статуса', de: 'Name des Status' }, Type: 'string' },
      ...ERROR_RETURN,
    },
  },
  async run({ properties, portal, log }) {
    const taskId = properties.task_id;
    const answer = await unlessRefused(
      portal.call('tasks.task.approve', { taskId }),
      (refusal) => `Task #${taskId} could not be approved: ${refusalText(refusal)}`,
    );
    const task = await taskAfter(portal, taskId, answer, 'status');
    const status = Number(task.status);
    const name = TASK_STATUS[String(task.status)] ?? `status ${String(task.status)}`;
    await log(`Task #${taskId} approved; it is now ${name}`);
    return { status, status_name: name };
  },
});
