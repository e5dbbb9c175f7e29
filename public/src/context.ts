/** What every view gets from the page around it: the frame, texts, clock and the robots' names. */
import { inject, type InjectionKey } from 'vue';
import type { Frame } from './frame.ts';
import type { Translate } from './i18n.ts';
import type { Clock } from './time.ts';

export interface Handler {
  code: string;
  kind: string;
  name: unknown;
  registered: Record<string, boolean> | null;
}

export interface PageContext {
  frame: Frame;
  t: Translate;
  clock: Clock;
  /** the signed-in user's id on the portal and whether they administer it */
  user: { id: number; isAdmin: boolean };
}

export const PAGE: InjectionKey<PageContext> = Symbol('page');

export function usePage(): PageContext {
  const page = inject(PAGE);
  if (!page) throw new Error('a view was rendered outside a page');
  return page;
}
