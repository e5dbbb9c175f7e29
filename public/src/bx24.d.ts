/** The part of the BX24 library (//api.bitrix24.com/api/v1/) the pages use. */
interface Bx24Auth {
  access_token: string;
  refresh_token: string;
  expires_in: number;
  domain: string;
  member_id: string;
}

/** What BX24.selectUser / selectUsers call back with (the portal's user dialog). */
interface Bx24SelectedUser {
  id: string;
  name: string;
  photo?: string;
  position?: string;
  url?: string;
  sub?: boolean;
  sup?: boolean;
}

/** What BX24.selectCRM calls back with: the chosen entities by type (`deal`: [{id: 'D_3', title}]). */
type Bx24SelectedCrm = Partial<Record<'lead' | 'contact' | 'company' | 'deal' | 'quote', Array<{ id: string; type: string; title: string; desc?: string; url?: string }>>>;

interface Bx24 {
  init(callback: () => void): void;
  getAuth(): Bx24Auth | false;
  refreshAuth(callback: (auth: Bx24Auth | false) => void): void;
  getLang(): string;
  isAdmin(): boolean;
  installFinish(): void;
  setTitle(title: string, callback?: () => void): void;
  resizeWindow(width: number | string, height: number, callback?: () => void): void;
  fitWindow(callback?: () => void): void;
  getScrollSize(): { scrollWidth: number; scrollHeight: number };
  selectUser(callback: (user: Bx24SelectedUser | null) => void): void;
  selectUsers(callback: (users: Bx24SelectedUser[]) => void): void;
  selectCRM(params: { entityType: string[]; multiple?: boolean; value?: Record<string, number[]> }, callback: (selected: Bx24SelectedCrm) => void): void;
  placement: {
    info(): { placement: string; options: Record<string, unknown> };
    call(command: string, params: Record<string, unknown>, callback?: (result: unknown) => void): void;
  };
}

interface Window {
  BX24?: Bx24;
}

declare module '*.vue' {
  import type { DefineComponent } from 'vue';
  const component: DefineComponent<object, object, unknown>;
  export default component;
}

declare module '*.css';
