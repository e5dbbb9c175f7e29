/**
 * The page's link to the portal: the official SDK's B24Frame (initializeB24Frame) gives the
 * frame's auth, language, placement data and whether the user is an administrator; every call to
 * the app's API carries that auth (bearer token and member id). Auth the portal said has run out
 * is renewed through the SDK's auth refresh before the request, and a refused token once after
 * it (one refresh at a time, shared). A request told to retry (429, Retry-After) goes again, a few
 * times.
 */
import { SdkError, initializeB24Frame, type AuthData, type B24Frame } from '@bitrix24/b24jssdk';

export interface Frame {
  lang: Lang;
  isAdmin: boolean;
  /** the placement's data (getInitData's PLACEMENT_OPTIONS): a robot's settings page gets its properties and values here */
  placementOptions: Record<string, unknown>;
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

/** The SDK's frame client, the same one for the whole page (initializeB24Frame keeps it). */
export function portalFrame(): Promise<B24Frame> {
  return initializeB24Frame().catch((error: unknown) => {
    // the SDK's answer to a page with no portal frame around it (no DOMAIN|PROTOCOL|APP_SID window name)
    if (error instanceof SdkError && error.code === 'JSSDK_CLIENT_SIDE_WARNING') throw new Error('Open this page from your Bitrix24 portal.');
    throw error;
  });
}

export async function openFrame(): Promise<Frame> {
  const b24 = await portalFrame();
  const portalLang = b24.getLang() as string;
  const lang: Lang = portalLang === 'ru' || portalLang === 'de' ? portalLang : 'en';
  let refreshing: Promise<AuthData> | null = null;
  const renewed = () => (refreshing ??= b24.auth.refreshAuth().finally(() => (refreshing = null)));
  const current = async () => b24.auth.getAuthData() || renewed();
  const send = (path: string, init: { method?: string; body?: unknown }, auth: AuthData | false) => {
    if (!auth) throw new ApiError(401, 'NO_AUTH', 'The portal gave no auth to this page: reload it.');
    return fetch(path, {
      method: init.method ?? 'GET',
      headers: {
        authorization: `Bearer ${auth.access_token}`,
        'x-b24-member-id': auth.member_id ?? '',
        ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      body: init.body !== undefined ? JSON.stringify(init.body) : undefined,
    });
  };
  const api = async <T>(path: string, init: { method?: string; body?: unknown } = {}): Promise<T> => {
    let response = await send(path, init, await current());
    // 429: the app is metering checks of unknown tokens for this portal (a flood of junk ones);
    // nothing was done, so the same request goes again when it says.
    for (let attempt = 0; response.status === 429 && attempt < 5; attempt += 1) {
      const seconds = Math.min(5, Number(response.headers.get('retry-after')) || 1);
      await new Promise((wait) => setTimeout(wait, seconds * 1000));
      response = await send(path, init, await current());
    }
    if (response.status === 401) response = await send(path, init, await renewed());
    const text = await response.text();
    const body = text ? JSON.parse(text) : null;
    if (!response.ok) throw new ApiError(response.status, body?.error ?? 'ERROR', body?.error_description ?? body?.message ?? response.statusText);
    return body as T;
  };
  return { lang, isAdmin: b24.auth.isAdmin, placementOptions: (b24.placement.options ?? {}) as Record<string, unknown>, api };
}
