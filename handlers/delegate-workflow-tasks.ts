/**
 * Delegate a user's open workflow tasks (all, or only this document's) to another user
 * (bizproc.task.list + bizproc.task.delegate, one command per task so each gets its own answer).
 */
import { defineHandler, HandlerError } from '../src/robots/definition.ts';
import { ERROR_RETURN, fanOut, listFailures, openTasksOf, taskLabel } from './_shared/robot-kit.ts';

export default defineHandler({
  code: 'delegate_workflow_tasks',
  kind: 'both',
  config: {
    NAME: { en: 'Delegate workflow tasks', ru: 'Делегировать задания бизнес-процессов', de: 'Workflow-Aufgaben delegieren' },
    DESCRIPTION: {
      en: 'Hands a user’s open workflow tasks over to another user. Returns how many were delegated and which could not be, and why.',
      ru: 'Передаёт открытые задания бизнес-процессов одного пользователя другому. Возвращает, сколько передано, какие не удалось передать и почему.',
      de: 'Übergibt die offenen Workflow-Aufgaben eines Benutzers an einen anderen. Gibt zurück, wie viele delegiert wurden und welche nicht, mit Grund.',
    },
    PROPERTIES: {
      from_user: {
        Name: { en: 'Whose tasks', ru: 'Чьи задания', de: 'Wessen Aufgaben' },
        Type: 'user',
        Required: 'Y',
      },
      to_user: {
        Name: { en: 'Delegate to', ru: 'Кому делегировать', de: 'Delegieren an' },
        Type: 'user',
        Required: 'Y',
      },
      this_document_only: {
        Name: { en: 'Only tasks on this document', ru: 'Только задания этого документа', de: 'Nur Aufgaben dieses Dokuments' },
        Type: 'bool',
        Default: 'Y',
      },
    },
    RETURN_PROPERTIES: {
      delegated: { Name: { en: 'Tasks delegated', ru: 'Делегировано заданий', de: 'Delegierte Aufgaben' }, Type: 'int' },
      not_delegated: { Name: { en: 'Not delegated, and why', ru: 'Не делегированы и почему', de: 'Nicht delegiert, und warum' }, Type: 'text' },
      ...ERROR_RETURN,
    },
  },
  async run({ properties, document, portal, log }) {
    const { from_user: from, to_user: to } = properties;
    if (from === to) throw new HandlerError(`The tasks of user #${from} cannot be delegated to the same user.`, { delegated: 0 });
    const onlyHere = properties.this_document_only ?? true;

    const tasks = await openTasksOf(portal, from, onlyHere ? document.id : null);
    const where = onlyHere ? ` on ${document.id[2]}` : '';
    if (tasks.length === 0) {
      await log(`User #${from} has no open workflow tasks${where}`);
      return { delegated: 0, not_delegated: '' };
    }

    await log(`Delegating ${tasks.length} open task(s)${where} from user #${from} to user #${to}`);
    const report = await fanOut(
      portal,
      tasks.map((task) => ({
        label: taskLabel(task),
        call: ['bizproc.task.delegate', { TASK_IDS: [Number(task.ID)], FROM_USER_ID: from, TO_USER_ID: to }],
      })),
    );
    const notDelegated = listFailures(report.failed);
    if (report.done.length === 0) {
      throw new HandlerError(`None of the ${tasks.length} task(s) of user #${from} could be delegated to user #${to}: ${notDelegated}`, {
        delegated: 0,
        not_delegated: notDelegated,
      });
    }
    if (report.failed.length > 0) await log(`Not delegated: ${notDelegated}`);
    return { delegated: report.done.length, not_delegated: notDelegated };
  },
});
