/**
 * Complete a user's open workflow tasks on this document with one decision
 * (bizproc.task.list + bizproc.task.complete). "Approve" approves an approval, acknowledges a
 * review and submits a request for information; "Reject" rejects an approval and declines a
 * request that may be declined. The portal completes only the calling user's own tasks.
 */
import { defineHandler, HandlerError } from '../src/robots/definition.ts';
import { ERROR_RETURN, fanOut, listFailures, openTasksOf, parseNameValueLines, taskLabel, type FanOutItem } from './_shared/robot-kit.ts';

/** bizproc.task.complete STATUS by task type and decision: 1 yes, 2 no, 3 ok, 4 cancel. */
const STATUS: Record<string, { approve: number; reject?: number }> = {
  ApproveActivity: { approve: 1, reject: 2 },
  ReviewActivity: { approve: 3 },
  RequestInformationActivity: { approve: 3 },
  RequestInformationOptionalActivity: { approve: 3, reject: 4 },
};
const REQUESTS = new Set(['RequestInformationActivity', 'RequestInformationOptionalActivity']);

export default defineHandler({
  code: 'complete_workflow_tasks',
  kind: 'both',
  config: {
    NAME: { en: 'Complete workflow tasks', ru: 'Выполнить задания бизнес-процессов', de: 'Workflow-Aufgaben abschließen' },
    DESCRIPTION: {
      en: 'Completes a user’s open workflow tasks on this document with a decision and comment; request-for-information fields as Name=value lines.',
      ru: 'Выполняет открытые задания пользователя по этому документу с решением и комментарием; поля запроса информации — строками Имя=значение.',
      de: 'Schließt die offenen Workflow-Aufgaben eines Benutzers zu diesem Dokument mit Entscheidung und Kommentar ab; Felder einer Informationsanfrage als Zeilen Name=Wert.',
    },
    PROPERTIES: {
      user: {
        Name: { en: 'Whose tasks', ru: 'Чьи задания', de: 'Wessen Aufgaben' },
        Type: 'user',
        Required: 'Y',
      },
      decision: {
        Name: { en: 'Decision', ru: 'Решение', de: 'Entscheidung' },
        Type: 'select',
        Options: { approve: 'Approve / acknowledge / submit', reject: 'Reject / decline' },
        Default: 'approve',
      },
      comment: {
        Name: { en: 'Comment', ru: 'Комментарий', de: 'Kommentar' },
        Type: 'text',
      },
      fields: {
        Name: { en: 'Requested fields', ru: 'Поля запроса', de: 'Angefragte Felder' },
        Description: {
          en: 'For requests for information, one per line: Name=value',
          ru: 'Для запросов информации, по одному в строке: Имя=значение',
          de: 'Für Informationsanfragen, einer pro Zeile: Name=Wert',
        },
        Type: 'text',
      },
    },
    RETURN_PROPERTIES: {
      completed: { Name: { en: 'Tasks completed', ru: 'Выполнено заданий', de: 'Abgeschlossene Aufgaben' }, Type: 'int' },
      not_completed: { Name: { en: 'Not completed, and why', ru: 'Не выполнены и почему', de: 'Nicht abgeschlossen, und warum' }, Type: 'text' },
      ...ERROR_RETURN,
    },
  },
  async run({ properties, document, portal, log }) {
    const userId = properties.user;
    const decision = properties.decision === 'reject' ? 'reject' : 'approve';
    const fields = parseNameValueLines(properties.fields, 'Requested fields');
    const comment = properties.comment?.trim();

    const tasks = await openTasksOf(portal, userId, document.id);
    if (tasks.length === 0) {
      await log(`User #${userId} has no open workflow tasks on ${document.id[2]}`);
      return { completed: 0, not_completed: '' };
    }

    const skipped: Array<{ label: string; reason: string }> = [];
    const items: FanOutItem[] = [];
    for (const task of tasks) {
      const kind = task.ACTIVITY ?? '';
      const known = STATUS[kind];
      const status = known ? known[decision] : decision === 'approve' ? 1 : 2; // a kind we do not know: the portal judges
      if (status === undefined) {
        skipped.push({ label: taskLabel(task), reason: `a ${kind.replace(/Activity$/, '')} task cannot be rejected` });
        continue;
      }
      const params: Record<string, unknown> = { TASK_ID: Number(task.ID), STATUS: status };
      if (comment) params.COMMENT = comment;
      if (REQUESTS.has(kind) && Object.keys(fields).length > 0) params.FIELDS = fields;
      items.push({ label: taskLabel(task), call: ['bizproc.task.complete', params] });
    }

    if (items.length > 0) await log(`Completing ${items.length} task(s) of user #${userId} on ${document.id[2]} (${decision})`);
    const report = await fanOut(portal, items);
    const failed = [...skipped, ...report.failed];
    const notCompleted = listFailures(failed);
    if (report.done.length === 0) {
      throw new HandlerError(`None of the ${tasks.length} task(s) of user #${userId} could be completed: ${notCompleted}`, {
        completed: 0,
        not_completed: notCompleted,
      });
    }
    if (failed.length > 0) await log(`Not completed: ${notCompleted}`);
    return { completed: report.done.length, not_completed: notCompleted };
  },
});
