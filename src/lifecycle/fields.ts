/** Reading untrusted form fields: a value is a non-empty string of bounded length, or absent. */
export function text(source: unknown, name: string, maxLength = 4096): string | undefined {
  if (!source || typeof source !== 'object') return undefined;
  const value = (source as Record<string, unknown>)[name];
  if (typeof value !== 'string' || value === '' || value.length > maxLength) return undefined;
  return value;
}

export function record(source: unknown, name: string): Record<string, unknown> | undefined {
  if (!source || typeof source !== 'object') return undefined;
  const value = (source as Record<string, unknown>)[name];
  return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

const HOST = /^[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:\d{1,5})?$/i;
const MEMBER_ID = /^[A-Za-z0-9_.-]{1,64}$/;

export function isHost(value: string | undefined): value is string {
  return value !== undefined && HOST.test(value);
}

export function isMemberId(value: string | undefined): value is string {
  return value !== undefined && MEMBER_ID.test(value);
}
