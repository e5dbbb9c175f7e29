/**
 * Property values as a portal sends them turned into the typed values a definition declares, or
 * clear reasons why not. The portal externalises each value by its type (restactivity.php
 * execute(): the field type's externalizeValue): a user is what the template holds — `user_5`,
 * or a role or group code it did not resolve (`author`, `responsible`, `group_…`); a date or
 * datetime is in the portal's display format for the user's culture (`11/25/2026`,
 * `11/25/2026 02:05:52 pm` for en; `25.11.2026 14:05:52` for ru/de); a bool `Y`/`N` (also
 * `1`/`0`, `true`/`false`); Multiple values are arrays; an empty value is `""`.
 */
import type { ActivityProperty } from '@bitrix24/b24jssdk';

export type Coerced = { ok: true; values: Record<string, unknown> } | { ok: false; errors: string[] };

/** The document's users a role in a user property stands for, where they could be read. */
export type DocumentRoles = Partial<Record<UserRole, number>> & { unresolved?: string };

export const USER_ROLES = ['author', 'responsible'] as const;
export type UserRole = (typeof USER_ROLES)[number];

/** Whether any user property holds a role, so the document's users must be read first. */
export function mentionsUserRole(declared: Record<string, ActivityProperty> | undefined, raw: unknown): boolean {
  const input = raw && typeof raw === 'object' && !Array.isArray(raw) ? (raw as Record<string, unknown>) : {};
  return Object.entries(declared ?? {}).some(
    ([name, property]) => property.Type === 'user' && presentValues(input[name] ?? property.Default).some((v) => isRole(String(v).trim())),
  );
}

function isRole(text: string): text is UserRole {
  return (USER_ROLES as readonly string[]).includes(text);
}

export function coerceProperties(declared: Record<string, ActivityProperty> | undefined, raw: unknown, roles: DocumentRoles = {}): Coerced {
  const input = raw && typeof raw === 'object' && !Array.isArray(raw) ? (raw as Record<string, unknown>) : {};
  const values: Record<string, unknown> = {};
  const errors: string[] = [];
  for (const [name, property] of Object.entries(declared ?? {})) {
    const label = `«${englishName(property, name)}»`;
    const multiple = property.Multiple === 'Y';
    let given = presentValues(input[name]);
    if (given.length === 0 && property.Default !== undefined && property.Default !== null && property.Default !== '') {
      given = presentValues(property.Default);
    }
    if (given.length === 0) {
      if (property.Required === 'Y') errors.push(`${label} is required`);
      continue;
    }
    if (!multiple && given.length > 1) {
      errors.push(`${label} takes one value, got ${given.length}`);
      continue;
    }
    const converted: unknown[] = [];
    for (const value of given) {
      const result = convert(property, value, roles);
      if (result.ok) converted.push(result.value);
      else errors.push(`${label} ${result.error}`);
    }
    values[name] = multiple ? converted : converted[0];
  }
  return errors.length > 0 ? { ok: false, errors } : { ok: true, values };
}

function presentValues(value: unknown): unknown[] {
  const list = Array.isArray(value) ? value : value && typeof value === 'object' ? Object.values(value) : [value];
  return list.filter((v) => v !== undefined && v !== null && v !== '');
}

type Conversion = { ok: true; value: unknown } | { ok: false; error: string };

function convert(property: ActivityProperty, value: unknown, roles: DocumentRoles): Conversion {
  if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') {
    return { ok: false, error: 'must be a single value, not a list or object' };
  }
  const text = String(value).trim();
  switch (property.Type) {
    case 'bool':
      if (['Y', '1', 'true', 'y'].includes(text)) return { ok: true, value: true };
      if (['N', '0', 'false', 'n'].includes(text)) return { ok: true, value: false };
      return { ok: false, error: `must be Y or N, got "${clip(text)}"` };
    case 'int':
      return /^-?\d{1,15}$/.test(text) ? { ok: true, value: Number(text) } : { ok: false, error: `must be a whole number, got "${clip(text)}"` };
    case 'double': {
      const n = Number(text.replace(',', '.'));
      return text !== '' && Number.isFinite(n) ? { ok: true, value: n } : { ok: false, error: `must be a number, got "${clip(text)}"` };
    }
    case 'date': {
      const date = parseDate(text);
      return date ? { ok: true, value: date.slice(0, 10) } : { ok: false, error: `must be a date (11/25/2026, 25.11.2026 or 2026-11-25), got "${clip(text)}"` };
    }
    case 'datetime': {
      const date = parseDate(text);
      return date ? { ok: true, value: date } : { ok: false, error: `must be a date and time (11/25/2026 02:05:52 pm, 25.11.2026 14:05:52 or ISO 8601), got "${clip(text)}"` };
    }
    case 'user':
      return convertUser(text, property.Multiple === 'Y', roles);
    case 'select': {
      const options = property.Options ?? {};
      return Object.prototype.hasOwnProperty.call(options, text)
        ? { ok: true, value: text }
        : { ok: false, error: `must be one of ${Object.keys(options).join(', ')}, got "${clip(text)}"` };
    }
    case 'string':
    case 'text':
    default:
      return { ok: true, value: String(value) };
  }
}

function convertUser(text: string, multiple: boolean, roles: DocumentRoles): Conversion {
  const match = /^(?:user_)?(\d{1,12})$/.exec(text);
  if (match) return { ok: true, value: Number(match[1]) };
  if (isRole(text)) {
    const id = roles[text];
    if (id) return { ok: true, value: id };
    return { ok: false, error: `"${text}" is the document's ${text === 'author' ? 'author' : 'responsible person'}, who could not be read${roles.unresolved ? `: ${roles.unresolved}` : ''}` };
  }
  if (text.startsWith('group_')) {
    return { ok: false, error: `"${clip(text)}" is a user group; this robot needs ${multiple ? 'users chosen one by one' : 'one user'}` };
  }
  return { ok: false, error: `must be a user (user_<id>), got "${clip(text)}"` };
}

const CLOCK = String.raw`(\d{1,2}):(\d{2})(?::(\d{2}))?(?:\s*([ap]m))?`;
/** en: month/day/year; ru, de and most others: day.month.year; either with an optional time. */
const DISPLAY_DATE = [
  { pattern: new RegExp(String.raw`^(\d{1,2})/(\d{1,2})/(\d{4})(?:\s+${CLOCK})?$`, 'i'), order: 'mdy' },
  { pattern: new RegExp(String.raw`^(\d{1,2})\.(\d{1,2})\.(\d{4})(?:\s+${CLOCK})?$`, 'i'), order: 'dmy' },
] as const;

/**
 * A date as a portal displays it (above) or ISO 8601; an ISO string or null. A display date has
 * no zone: it is the portal's wall clock, kept as such (marked UTC).
 */
function parseDate(text: string): string | null {
  for (const { pattern, order } of DISPLAY_DATE) {
    const m = pattern.exec(text);
    if (!m) continue;
    const [first, second, year] = [Number(m[1]), Number(m[2]), Number(m[3])];
    const [month, day] = order === 'mdy' ? [first, second] : [second, first];
    let hour = Number(m[4] ?? 0);
    const meridiem = m[7]?.toLowerCase();
    if (meridiem && (hour < 1 || hour > 12)) return null;
    if (meridiem === 'pm' && hour < 12) hour += 12;
    if (meridiem === 'am' && hour === 12) hour = 0;
    const [minute, secondOfMinute] = [Number(m[5] ?? 0), Number(m[6] ?? 0)];
    const date = new Date(Date.UTC(year, month - 1, day, hour, minute, secondOfMinute));
    const exact = date.getUTCMonth() === month - 1 && date.getUTCDate() === day && hour < 24 && minute < 60 && secondOfMinute < 60;
    return exact ? date.toISOString() : null;
  }
  if (!/^\d{4}-\d{2}-\d{2}/.test(text)) return null;
  const date = new Date(text.length === 10 ? `${text}T00:00:00Z` : text);
  return Number.isNaN(date.getTime()) ? null : date.toISOString();
}

export function englishName(property: Pick<ActivityProperty, 'Name'>, fallback: string): string {
  const name = property.Name;
  if (typeof name === 'string') return name;
  return name?.en ?? Object.values(name ?? {})[0] ?? fallback;
}

function clip(text: string): string {
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}
