/**
 * Content-Security-Policy for the pages shown in the portal's frame. Scripts come from us only
 * (the SDK's frame client is bundled into them), never inline; the pages may be framed by the
 * portal that opened them — the origin we stored from the OAuth server where the portal is known,
 * else the one the frame names (the install page, before we know the portal) — and by nobody
 * otherwise.
 */
import { randomBytes } from 'node:crypto';

export interface PagePolicyOptions {
  /** origins allowed to frame the page; none = the page may not be framed */
  frameAncestors: string[];
  /** for the one inline style of a server-rendered page (the install page) */
  nonce?: string;
}

export function pagePolicy({ frameAncestors, nonce }: PagePolicyOptions): string {
  return [
    "default-src 'self'",
    "script-src 'self'",
    `style-src 'self'${nonce ? ` 'nonce-${nonce}'` : ''}`,
    "img-src 'self' data:",
    "connect-src 'self'",
    `frame-ancestors ${frameAncestors.length > 0 ? frameAncestors.join(' ') : "'none'"}`,
    "base-uri 'none'",
    "form-action 'none'",
  ].join('; ');
}

export function newNonce(): string {
  return randomBytes(16).toString('base64');
}

/** The origin of a stored endpoint (`https://portal.bitrix24.com/rest/` → `https://portal.bitrix24.com`). */
export function originOf(endpoint: string): string {
  return new URL(endpoint).origin;
}

/** The origin a Bitrix24 frame names: `DOMAIN` and `PROTOCOL` (1 = https, 0 = http). */
export function frameOrigin(domain: string | undefined, protocol: string | undefined): string[] {
  if (!domain || !/^[a-z0-9.-]+(:\d{1,5})?$/i.test(domain)) return [];
  return [`${protocol === '0' ? 'http' : 'https'}://${domain}`];
}
