/**
 * Property values as the queue server sends them (strings; `Y`/`N`; `user_12`; arrays for
 * Multiple) turned into the typed values a definition declares, or clear reasons why not.
 */
import type { ActivityProperty } from '@bitrix24/b24jssdk';

export type Coerced = { ok: true; values: Record<string, unknown> } | { ok: false; errors: string[] };

export function coerceProperties(declared: Record<string, ActivityProperty> | undefined, raw: unknown): Coerced {
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
      const result = convert(property, value);
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

function convert(property: ActivityProperty, value: unknown): Conversion {
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
      return date ? { ok: true, value: date.slice(0, 10) } : { ok: false, error: `must be a date (YYYY-MM-DD or DD.MM.YYYY), got "${clip(text)}"` };
    }
    case 'datetime': {
      const date = parseDate(text);
      return date ? { ok: true, value: date } : { ok: false, error: `must be a date and time, got "${clip(text)}"` };
    }
    case 'user': {
      const match = /^(?:user_)?(\d{1,12})$/.exec(text);
      return match ? { ok: true, value: Number(match[1]) } : { ok: false, error: `must be a user (user_<id>), got "${clip(text)}"` };
    }
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

/** ISO 8601, or the portal's DD.MM.YYYY [HH:MM[:SS]]; returns an ISO string or null. */
function parseDate(text: string): string | null {
  const ru = /^(\d{2})\.(\d{2})\.(\d{4})(?:\s+(\d{2}):(\d{2})(?::(\d{2}))?)?$/.exec(text);
  const candidate = ru ? `${ru[3]}-${ru[2]}-${ru[1]}T${ru[4] ?? '00'}:${ru[5] ?? '00'}:${ru[6] ?? '00'}Z` : text;
  if (!/^\d{4}-\d{2}-\d{2}/.test(candidate)) return null;
  const date = new Date(candidate.length === 10 ? `${candidate}T00:00:00Z` : candidate);
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
