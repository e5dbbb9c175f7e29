/** Start a workflow: a template, by id, on this document or another one (bizproc.workflow.start). */
import { defineHandler } from '../src/robots/definition.ts';
import { ERROR_RETURN, parseNameValueLines, refusalText, resolveDocumentId, unlessRefused } from './_shared/robot-kit.ts';

export default defineHandler({
  code: 'start_workflow',
  kind: 'both',
  config: {
    // Settings open in the app's own page (/placement/start_workflow), where values are checked before saving.
    USE_PLACEMENT: 'Y',
    NAME: { en: 'Start a workflow', ru: 'Запустить бизнес-процесс', de: 'Workflow starten' },
    DESCRIPTION: {
      en: 'Starts a workflow from a template on this document or on another one, and returns the new workflow’s ID.',
      ru: 'Запускает бизнес-процесс по шаблону на этом или другом документе и возвращает ID нового процесса.',
      de: 'Startet einen Workflow aus einer Vorlage für dieses oder ein anderes Dokument und gibt die ID des neuen Workflows zurück.',
    },
    PROPERTIES: {
      template_id: {
        Name: { en: 'Template ID', ru: 'ID шаблона', de: 'Vorlagen-ID' },
        Type: 'int',
        Required: 'Y',
      },
      document_id: {
        Name: { en: 'Document (empty: this one)', ru: 'Документ (пусто: этот)', de: 'Dokument (leer: dieses)' },
        Description: {
          en: '15 (same kind as this document), DEAL_15, or module|entity|id',
          ru: '15 (того же типа, что этот документ), DEAL_15 или модуль|сущность|id',
          de: '15 (gleiche Art wie dieses Dokument), DEAL_15 oder Modul|Entität|ID',
        },
        Type: 'string',
      },
      parameters: {
        Name: { en: 'Template parameters', ru: 'Параметры шаблона', de: 'Vorlagenparameter' },
        Description: {
          en: 'One per line: Name=value (users as user_12; repeat a name for several values)',
          ru: 'По одному в строке: Имя=значение (пользователи как user_12; повторите имя для нескольких значений)',
          de: 'Einer pro Zeile: Name=Wert (Benutzer als user_12; Namen wiederholen für mehrere Werte)',
        },
        Type: 'text',
      },
    },
    RETURN_PROPERTIES: {
      workflow_id: { Name: { en: 'Workflow ID', ru: 'ID бизнес-процесса', de: 'Workflow-ID' }, Type: 'string' },
      ...ERROR_RETURN,
    },
  },
  async run({ properties, document, portal, log }) {
    const templateId = properties.template_id;
    const target = resolveDocumentId(properties.document_id, document.id);
    const parameters = parseNameValueLines(properties.parameters, 'Template parameters');

    await log(`Starting template #${templateId} on ${target[2]}`);
    const workflowId = await unlessRefused(
      portal.call<string>('bizproc.workflow.start', {
        TEMPLATE_ID: templateId,
        DOCUMENT_ID: target,
        ...(Object.keys(parameters).length > 0 ? { PARAMETERS: parameters } : {}),
      }),
      (refusal) =>
        refusal.code === 'ERROR_WRONG_WORKFLOW_ID'
          ? `Template #${templateId} does not exist on this portal (${refusalText(refusal)}).`
          : `Template #${templateId} could not be started on ${target[2]}: ${refusalText(refusal)}`,
      { workflow_id: '' },
    );
    await log(`Started workflow ${workflowId}`);
    return { workflow_id: String(workflowId) };
  },
});
