/**
 * The page's link to the portal: BX24 gives the frame's auth and language; every call to the
 * app's API carries that auth, and a refused token is renewed once through BX24.refreshAuth.
 * A request told to retry (429, Retry-After) goes again, a few times.
 */
export interface Frame {
  lang: Lang;
  isAdmin: boolean;
  api<T = unknown>(path: string, init?: { method?: string; body?: unknown }): Promise<T>;
}

export type Lang = 'en' | 'ru' | 'de';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    description: string,
  ) {
    super(description || code);
  }
}

export function openFrame(): Promise<Frame> {
  const bx24 = window.BX24;
  if (!bx24) return Promise.reject(new Error('Open this page from your Bitrix24 portal: the BX24 library did not load.'));
  return new Promise((resolve) =>
    bx24.init(() => {
      const lang = (['en', 'ru', 'de'].includes(bx24.getLang()) ? bx24.getLang() : 'en') as Lang;
      const refreshed = () => new Promise<Bx24Auth | false>((done) => bx24.refreshAuth(done));
      const send = async (path: string, init: { method?: string; body?: unknown }, auth: Bx24Auth | false) => {
        if (!auth) throw new ApiError(401, 'NO_AUTH', 'The portal gave no auth to this page: reload it.');
        return fetch(path, {
          method: init.method ?? 'GET',
          headers: {
            authorization: `Bearer ${auth.access_token}`,
            'x-b24-member-id': auth.member_id,
            ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}),
          },
          body: init.body !== undefined ? JSON.stringify(init.body) : undefined,
        });
      };
      const api = async <T>(path: string, init: { method?: string; body?: unknown } = {}): Promise<T> => {
        let response = await send(path, init, bx24.getAuth());
        // 429: the app is metering checks of unknown tokens for this portal (a flood of junk ones);
        // nothing was done, so the same request goes again when it says.
        for (let attempt = 0; response.status === 429 && attempt < 5; attempt += 1) {
          const seconds = Math.min(5, Number(response.headers.get('retry-after')) || 1);
          await new Promise((wait) => setTimeout(wait, seconds * 1000));
          response = await send(path, init, bx24.getAuth());
        }
        if (response.status === 401) response = await send(path, init, await refreshed());
        const text = await response.text();
        const body = text ? JSON.parse(text) : null;
        if (!response.ok) throw new ApiError(response.status, body?.error ?? 'ERROR', body?.error_description ?? body?.message ?? response.statusText);
        return body as T;
      };
      resolve({ lang, isAdmin: bx24.isAdmin(), api });
    }),
  );
}
