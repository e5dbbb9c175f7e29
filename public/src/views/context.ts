import type { Frame } from '../frame.ts';
import type { Translate } from '../i18n.ts';

/** What every view of the main page gets. */
export interface ViewContext {
  frame: Frame;
  t: Translate;
  /** the view's own element, emptied before each render */
  root: HTMLElement;
  /** the robots and actions of the app, for names and filters */
  handlers: Array<{ code: string; name: unknown }>;
  /** the signed-in user's id on the portal */
  userId: number;
}
