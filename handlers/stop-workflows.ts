/**
 * Stop the workflows running on this document — all of them or one template's — with a status
 * message (bizproc.workflow.terminate), or delete them with their data (bizproc.workflow.kill).
 * The workflow this robot runs in is never touched.
 */
import { defineHandler, HandlerError } from '../src/robots/definition.ts';
import { ERROR_RETURN, fanOut, listFailures, refusalText, unlessRefused } from './_shared/robot-kit.ts';

interface Instance {
  ID: string;
  TEMPLATE_ID?: string;
}

export default defineHandler({
  code: 'stop_workflows',
  kind: 'both',
  config: {
    NAME: { en: 'Stop workflows on this document', ru: 'Остановить бизнес-процессы документа', de: 'Workflows dieses Dokuments stoppen' },
    DESCRIPTION: {
      en: 'Stops the running workflows of a template (or of all templates) on this document, or deletes them. The workflow running this step is left alone.',
      ru: 'Останавливает запущенные бизнес-процессы шаблона (или всех шаблонов) на этом документе либо удаляет их. Процесс, выполняющий этот шаг, не затрагивается.',
      de: 'Stoppt die laufenden Workflows einer Vorlage (oder aller Vorlagen) dieses Dokuments oder löscht sie. Der Workflow, der diesen Schritt ausführt, bleibt unberührt.',
    },
    PROPERTIES: {
      template_id: {
        Name: { en: 'Template ID (empty: all templates)', ru: 'ID шаблона (пусто: все шаблоны)', de: 'Vorlagen-ID (leer: alle Vorlagen)' },
        Type: 'int',
      },
      mode: {
        Name: { en: 'What to do', ru: 'Действие', de: 'Aktion' },
        Type: 'select',
        Options: { terminate: 'Stop (keep their data)', kill: 'Delete with all their data' },
        Default: 'terminate',
      },
      status: {
        Name: { en: 'Status message', ru: 'Текст статуса', de: 'Statusmeldung' },
        Type: 'string',
        Default: 'Stopped by an automation rule',
      },
    },
    RETURN_PROPERTIES: {
      stopped: { Name: { en: 'Workflows stopped', ru: 'Остановлено процессов', de: 'Gestoppte Workflows' }, Type: 'int' },
      not_stopped: { Name: { en: 'Not stopped, and why', ru: 'Не остановлены и почему', de: 'Nicht gestoppt, und warum' }, Type: 'text' },
      ...ERROR_RETURN,
    },
  },
  async run({ properties, document, workflowId, portal, log }) {
    const [moduleId, entity, documentId] = document.id;
    const templateId = properties.template_id;
    const kill = properties.mode === 'kill';

    const running = await unlessRefused(
      portal.listAll<Instance>('bizproc.workflow.instances', {
        SELECT: ['ID', 'TEMPLATE_ID'],
        FILTER: { MODULE_ID: moduleId, ENTITY: entity, DOCUMENT_ID: documentId, ...(templateId ? { TEMPLATE_ID: templateId } : {}) },
      }),
      (refusal) => `The portal would not list the workflows on ${documentId}: ${refusalText(refusal)}`,
      { stopped: 0 },
    );
    const targets = running.filter((instance) => instance.ID !== workflowId);
    const which = templateId ? `of template #${templateId}` : 'of any template';
    if (targets.length === 0) {
      await log(`No other running workflows ${which} on ${documentId}`);
      return { stopped: 0, not_stopped: '' };
    }

    await log(`${kill ? 'Deleting' : 'Stopping'} ${targets.length} workflow(s) ${which} on ${documentId}`);
    const status = properties.status ?? '';
    const report = await fanOut(
      portal,
      targets.map((instance) => ({
        label: `workflow ${instance.ID}`,
        call: kill ? ['bizproc.workflow.kill', { ID: instance.ID }] : ['bizproc.workflow.terminate', { ID: instance.ID, STATUS: status }],
      })),
    );
    const notStopped = listFailures(report.failed);
    if (report.done.length === 0) {
      throw new HandlerError(`None of the ${targets.length} workflow(s) could be ${kill ? 'deleted' : 'stopped'}: ${notStopped}`, {
        stopped: 0,
        not_stopped: notStopped,
      });
    }
    if (report.failed.length > 0) await log(`Not ${kill ? 'deleted' : 'stopped'}: ${notStopped}`);
    return { stopped: report.done.length, not_stopped: notStopped };
  },
});
