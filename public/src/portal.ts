/**
 * The portal's own dialogs and frame size, through the BX24 library: the user dialog
 * (selectUser/selectUsers), the CRM entity dialog with its search (selectCRM), and fitWindow so
 * the frame grows with the page and only the portal scrolls.
 */
function bx24(): Bx24 {
  if (!window.BX24) throw new Error('the BX24 library did not load');
  return window.BX24;
}

export interface PickedUser {
  id: number;
  name: string;
}

export function pickUser(): Promise<PickedUser | null> {
  return new Promise((resolve) => bx24().selectUser((user) => resolve(user ? { id: Number(user.id), name: user.name } : null)));
}

export function pickUsers(): Promise<PickedUser[]> {
  return new Promise((resolve) => bx24().selectUsers((users) => resolve((users ?? []).map((u) => ({ id: Number(u.id), name: u.name })))));
}

/** CRM document types the dialog knows, by the entity of a bizproc document type (DEAL → deal, D_). */
const CRM_ENTITIES: Record<string, { type: 'lead' | 'contact' | 'company' | 'deal' | 'quote'; prefix: string }> = {
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
export function pickDocument(entity: string): Promise<PickedDocument | null> {
  const known = CRM_ENTITIES[entity];
  if (!known) return Promise.reject(new Error(`no CRM dialog for ${entity} documents`));
  return new Promise((resolve) =>
    bx24().selectCRM({ entityType: [known.type], multiple: false }, (selected) => {
      const first = selected?.[known.type]?.[0];
      const number = first ? first.id.slice(known.prefix.length + 1) : '';
      resolve(first && /^\d+$/.test(number) ? { id: `${entity}_${number}`, title: first.title } : null);
    }),
  );
}

/** Keeps the frame as tall as the page (BX24.fitWindow) whenever the page's size changes. */
export function fitFrameToContent(): void {
  const library = bx24();
  let queued = false;
  const fit = () => {
    if (queued) return;
    queued = true;
    requestAnimationFrame(() => {
      queued = false;
      library.fitWindow();
    });
  };
  new ResizeObserver(fit).observe(document.body);
  fit();
}
