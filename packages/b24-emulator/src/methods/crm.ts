/**
 * crm.item.get for the emulated deals: what the app reads of a CRM document (who is responsible,
 * who created it). Docs: api-reference/crm/universal/crm-item-get.md — `entityTypeId` (Deal = 2)
 * and `id` required; an item that does not exist is 400 NOT_FOUND "Element not found"; fields in
 * camelCase (`assignedById`, `createdBy`, `title`, `stageId`, `opportunity`).
 */
import { RestError, type MethodDefinition } from '../contract.ts';
import { portalIso } from '../dates.ts';
import { param } from '../params.ts';

const DEAL = 2;

export const crmMethods: Record<string, MethodDefinition> = {
  'crm.item.get': {
    scope: 'crm',
    handler(call, params) {
      const entityTypeId = Number(param(params, 'entityTypeId'));
      const id = Number(param(params, 'id'));
      // Only deals are emulated: any other type or id is an element that is not there.
      const document = entityTypeId === DEAL && Number.isInteger(id) ? call.portal.documents.get(`DEAL_${id}`) : undefined;
      if (!document) throw new RestError('NOT_FOUND', 'Element not found', 400);
      const fields = document.fields;
      return {
        item: {
          id,
          entityTypeId,
          title: String(fields.TITLE ?? ''),
          stageId: String(fields.STAGE_ID ?? ''),
          opportunity: Number(fields.OPPORTUNITY ?? 0),
          assignedById: document.responsibleId,
          createdBy: Number(fields.CREATED_BY ?? document.responsibleId),
          createdTime: portalIso(new Date(0), call.portal),
        },
      };
    },
  },
};
