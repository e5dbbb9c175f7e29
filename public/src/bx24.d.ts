/** The part of the BX24 library (//api.bitrix24.com/api/v1/) the pages use. */
interface Bx24Auth {
  access_token: string;
  refresh_token: string;
  expires_in: number;
  domain: string;
  member_id: string;
}

interface Bx24 {
  init(callback: () => void): void;
  getAuth(): Bx24Auth | false;
  refreshAuth(callback: (auth: Bx24Auth | false) => void): void;
  getLang(): string;
  isAdmin(): boolean;
  installFinish(): void;
  setTitle(title: string, callback?: () => void): void;
  placement: {
    info(): { placement: string; options: Record<string, unknown> };
    call(command: string, params: Record<string, unknown>, callback?: (result: unknown) => void): void;
  };
}

interface Window {
  BX24?: Bx24;
}
