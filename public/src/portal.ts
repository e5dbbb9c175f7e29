/**
 * The portal's own dialogs, frame size and placement, through the SDK's B24Frame: the user
 * dialog (dialog.selectUser / selectUsers), the CRM entity dialog with its search
 * (dialog.selectCRM), parent.fitWindow so the frame grows with the page and only the portal
 * scrolls, and the placement's commands (placement.call).
 * A dialog the user closes without choosing answers nothing, as on the portal.
 */
import type { SelectCRMParamsEntityType } from '@bitrix24/b24jssdk';
import { portalFrame } from './frame.ts';

export interface PickedUser {
  id: number;
  name: string;
}

export async function pickUser(): Promise<PickedUser | null> {
  const user = await (await portalFrame()).dialog.selectUser();
  return user ? { id: Number(user.id), name: user.name } : null;
}

export async function pickUsers(): Promise<PickedUser[]> {
  const users = await (await portalFrame()).dialog.selectUsers();
  return (users ?? []).map((u) => ({ id: Number(u.id), name: u.name }));
}

/** CRM document types the dialog knows, by the entity of a bizproc document type (DEAL → deal, D_). */
const CRM_ENTITIES: Record<string, { type: SelectCRMParamsEntityType; prefix: string }> = {
  DEAL: { type: 'deal', prefix: 'D' },
  LEAD: { type: 'lead', prefix: 'L' },
  CONTACT: { type: 'contact', prefix: 'C' },
  COMPANY: { type: 'company', prefix: 'CO' },
  QUOTE: { type: 'quote', prefix: 'Q' },
};

export interface PickedDocument {
  /** the bizproc document id's last part, e.g. DEAL_3 */
  id: string;
  title: string;
}

/** A CRM document of one entity (DEAL, LEAD, …) picked in the portal's CRM dialog, as a bizproc id (DEAL_3). */
export async function pickDocument(entity: string): Promise<PickedDocument | null> {
  const known = CRM_ENTITIES[entity];
  if (!known) throw new Error(`no CRM dialog for ${entity} documents`);
  const selected = await (await portalFrame()).dialog.selectCRM({ entityType: [known.type], multiple: false });
  const first = selected[known.type]?.[0];
  const number = first ? first.id.slice(known.prefix.length + 1) : '';
  return first && /^\d+$/.test(number) ? { id: `${entity}_${number}`, title: first.title } : null;
}

/** Keeps the frame as tall as the page (parent.fitWindow) whenever the page's size changes. */
export async function fitFrameToContent(): Promise<void> {
  const b24 = await portalFrame();
  let queued = false;
  const fit = () => {
    if (queued) return;
    queued = true;
    requestAnimationFrame(() => {
      queued = false;
      void b24.parent.fitWindow();
    });
  };
  new ResizeObserver(fit).observe(document.body);
  fit();
}

/**
 * A command of the page's placement (a robot's settings: setPropertyValue), answered by the
 * portal. The SDK stops waiting for a placement's answer after `safelyTime` ms; the portal saves
 * before it answers, so the wait is long enough for a busy portal.
 */
export async function placementCall(command: string, params: Record<string, unknown>): Promise<unknown> {
  return (await portalFrame()).placement.call(command, { ...params, safelyTime: 15_000 });
}

/** The page's title, on the page and on the portal's page around the frame (parent.setTitle). */
export async function showTitle(title: string): Promise<void> {
  document.title = title;
  await (await portalFrame()).parent.setTitle(title);
}
