/**
 * The application_token is the only proof that an event or handler call comes from the portal.
 * We keep only its SHA-256 and compare digests in constant time.
 */
import { createHash, timingSafeEqual } from 'node:crypto';

export function hashApplicationToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

export function applicationTokenMatches(storedHash: string | null | undefined, presented: unknown): boolean {
  if (!storedHash || typeof presented !== 'string' || presented === '') return false;
  const a = Buffer.from(storedHash, 'hex');
  const b = Buffer.from(hashApplicationToken(presented), 'hex');
  return a.length === b.length && timingSafeEqual(a, b);
}
