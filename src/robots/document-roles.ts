/**
 * The users a role in a user property stands for on a CRM document: `responsible` is the item's
 * assignedById, `author` its createdBy (crm.item.get; needs the `crm` scope). What cannot be read
 * is said in `unresolved`, so the step ends with an error that names the value it got.
 */
import type { PortalRest } from './definition.ts';
import type { DocumentRoles } from './properties.ts';

const ENTITY_TYPE_IDS: Record<string, number> = { LEAD: 1, DEAL: 2, CONTACT: 3, COMPANY: 4, QUOTE: 7, SMART_INVOICE: 31 };

/** The crm.item entityTypeId and id of a CRM document id (`['crm', 'CCrmDocumentDeal', 'DEAL_12']`), or null. */
export function crmItemOf(documentId: readonly string[]): { entityTypeId: number; id: number } | null {
  if (documentId[0] !== 'crm') return null;
  const match = /^([A-Z_]+?)(?:_(\d+))?_(\d+)$/.exec(documentId[2] ?? '');
  if (!match) return null;
  const [, type, dynamicTypeId, id] = match;
  const entityTypeId = type === 'DYNAMIC' && dynamicTypeId ? Number(dynamicTypeId) : ENTITY_TYPE_IDS[type!];
  return entityTypeId ? { entityTypeId, id: Number(id) } : null;
}

export async function readDocumentRoles(portal: PortalRest, documentId: readonly string[]): Promise<DocumentRoles> {
  const item = crmItemOf(documentId);
  if (!item) return { unresolved: `the document ${documentId.join(':')} is not a CRM item` };
  try {
    const answer = await portal.call<{ item?: { assignedById?: unknown; createdBy?: unknown } }>('crm.item.get', item);
    const id = (value: unknown) => (Number.isInteger(Number(value)) && Number(value) > 0 ? Number(value) : undefined);
    return { responsible: id(answer.item?.assignedById), author: id(answer.item?.createdBy), unresolved: 'the document has no such user' };
  } catch (error) {
    // A rate limit or an outage: the call is tried again later rather than answered with an error.
    if ((error as { transient?: boolean }).transient) throw error;
    return { unresolved: `crm.item.get refused: ${error instanceof Error ? error.message : String(error)}` };
  }
}
