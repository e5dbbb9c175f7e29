/**
 * Property values as the bizproc core converts them at the app's boundary.
 *
 * Outbound (CBPRestActivity::execute): each property value the step holds is externalised by its
 * field type with the activity's name as context — not 'rest' — so a user value stays what the
 * template holds (`user_5`, `author`, `group_…`; basetype/user.php without ExternalExtract), a
 * date object becomes the site culture's display format (basetype/date.php: `(string)` of the
 * system object, i.e. Main\Type\Date::toString), and everything else goes as held. A falsy value
 * is not externalised at all, and null is sent as "".
 *
 * Inbound (CBPRestActivity::onExternalEvent): RETURN_VALUES keys are upper-cased and matched to
 * RETURN_PROPERTIES; a truthy value is internalised by its type.
 */
import type { Lang, Portal, RobotProperty } from '../contract.ts';

/**
 * The culture formats of a default install (b_culture rows of the main module's install data, and
 * the site wizard's `LANGUAGE_ID == "en" ? "MM/DD/YYYY" : "DD.MM.YYYY"`): en
 * `MM/DD/YYYY` and `MM/DD/YYYY H:MI:SS T`, every other language `DD.MM.YYYY` and
 * `DD.MM.YYYY HH:MI:SS`. Main\Type\Date::convertFormatToPhp turns them into PHP's
 * `m/d/Y`, `m/d/Y h:i:s a` (a lone H is the 12-hour clock) and `d.m.Y`, `d.m.Y H:i:s`.
 */
const CULTURE: Record<'en' | 'other', { date: string; datetime: string }> = {
  en: { date: 'MM/DD/YYYY', datetime: 'MM/DD/YYYY H:MI:SS T' },
  other: { date: 'DD.MM.YYYY', datetime: 'DD.MM.YYYY HH:MI:SS' },
};

export function cultureFormats(lang: Lang): { date: string; datetime: string } {
  return lang === 'en' ? CULTURE.en : CULTURE.other;
}

const pad = (n: number) => String(n).padStart(2, '0');

/** The wall clock of an instant in the portal's offset. */
function wallClock(instant: Date, offsetMinutes: number) {
  const local = new Date(instant.getTime() + offsetMinutes * 60_000);
  return {
    year: local.getUTCFullYear(),
    month: local.getUTCMonth() + 1,
    day: local.getUTCDate(),
    hours: local.getUTCHours(),
    minutes: local.getUTCMinutes(),
    seconds: local.getUTCSeconds(),
  };
}

/** A date (or date and time) in the culture's display format, in the portal's offset. */
export function formatCultureDate(instant: Date, type: 'date' | 'datetime', portal: Pick<Portal, 'languageId' | 'utcOffsetMinutes'>): string {
  const c = wallClock(instant, portal.utcOffsetMinutes);
  const en = portal.languageId === 'en';
  const date = en ? `${pad(c.month)}/${pad(c.day)}/${c.year}` : `${pad(c.day)}.${pad(c.month)}.${c.year}`;
  if (type === 'date') return date;
  if (!en) return `${date} ${pad(c.hours)}:${pad(c.minutes)}:${pad(c.seconds)}`;
  const hours12 = c.hours % 12 === 0 ? 12 : c.hours % 12;
  return `${date} ${pad(hours12)}:${pad(c.minutes)}:${pad(c.seconds)} ${c.hours < 12 ? 'am' : 'pm'}`;
}

/**
 * Reads a date string: ISO 8601, or the culture's display format (`01/29/2025 02:05:52 pm`,
 * `29.01.2025 14:05:52`) taken as the portal's wall clock. Null when it is neither.
 */
export function parseDate(text: string, portal: Pick<Portal, 'languageId' | 'utcOffsetMinutes'>, offsetMinutes = portal.utcOffsetMinutes): Date | null {
  const trimmed = text.trim();
  if (/^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2})?(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?$/.test(trimmed)) {
    const hasZone = /(?:Z|[+-]\d{2}:?\d{2})$/.test(trimmed) && trimmed.length > 10;
    const parsed = new Date(hasZone ? trimmed : `${trimmed.replace(' ', 'T')}${trimmed.length === 10 ? 'T00:00:00' : ''}Z`);
    if (Number.isNaN(parsed.getTime())) return null;
    return hasZone ? parsed : new Date(parsed.getTime() - offsetMinutes * 60_000);
  }
  const en = portal.languageId === 'en';
  const match = en
    ? /^(\d{2})\/(\d{2})\/(\d{4})(?:\s+(\d{1,2}):(\d{2})(?::(\d{2}))?(?:\s*(am|pm))?)?$/i.exec(trimmed)
    : /^(\d{2})\.(\d{2})\.(\d{4})(?:\s+(\d{1,2}):(\d{2})(?::(\d{2}))?)?$/.exec(trimmed);
  if (!match) return null;
  const [, a, b, year, h, mi, s, meridiem] = match;
  const [month, day] = en ? [Number(a), Number(b)] : [Number(b), Number(a)];
  let hours = Number(h ?? 0);
  if (meridiem) hours = (hours % 12) + (meridiem.toLowerCase() === 'pm' ? 12 : 0);
  const utc = Date.UTC(Number(year), month - 1, day, hours, Number(mi ?? 0), Number(s ?? 0));
  return new Date(utc - offsetMinutes * 60_000);
}

/** A date as the core serialises a Bizproc date value in a template: `<date> [<offset seconds>]`. */
const SERIALIZED_DATE = /^(.+)\s\[(-?\d+)\]$/;

const isDateType = (type: string) => type === 'date' || type === 'datetime';

/** PHP's truthiness: what restactivity.php's `if ($value)` lets through to the type. */
export function phpTruthy(value: unknown): boolean {
  if (value === null || value === undefined || value === false || value === '' || value === '0' || value === 0) return false;
  if (Array.isArray(value)) return value.length > 0;
  return true;
}

/** One property value as the queue server sends it: a string, or an array for several. */
export function externalizeProperty(declared: Pick<RobotProperty, 'Type' | 'Multiple'>, value: unknown, portal: Pick<Portal, 'languageId' | 'utcOffsetMinutes'>): string | string[] {
  if (value === null || value === undefined) return '';
  const type = String(declared.Type ?? 'string').toLowerCase();
  const one = (v: unknown): string => {
    if (v === null || v === undefined) return '';
    if (!phpTruthy(v)) return typeof v === 'boolean' ? 'N' : String(v);
    if (isDateType(type)) {
      if (v instanceof Date) return formatCultureDate(v, type as 'date' | 'datetime', portal);
      const serialized = typeof v === 'string' ? SERIALIZED_DATE.exec(v) : null;
      if (serialized) {
        const parsed = parseDate(serialized[1]!, portal, Number(serialized[2]) / 60);
        if (parsed) return formatCultureDate(parsed, type as 'date' | 'datetime', portal);
      }
      return String(v);
    }
    // The designer stores a bool as Y/N (basetype/booltype.php extractValue); a JSON boolean in
    // an emulator template stands for that.
    if (typeof v === 'boolean') return v ? 'Y' : 'N';
    if (v instanceof Date) return formatCultureDate(v, 'datetime', portal);
    if (typeof v === 'object') return JSON.stringify(v);
    return String(v);
  };
  if (Array.isArray(value)) return value.map(one);
  return declared.Multiple === 'Y' ? [one(value)] : one(value);
}

/**
 * One return value as the workflow stores it. Of the base types only date and datetime
 * internalise (basetype/date.php internalizeValue: a string becomes a date value); int, double,
 * bool, string, user and select keep what the app sent (their classes do not override
 * Base::internalizeValue; inttype.php converts only in extractValue, the designer's form).
 */
export function internalizeReturnValue(declared: Pick<RobotProperty, 'Type' | 'Multiple'>, value: unknown, portal: Pick<Portal, 'languageId' | 'utcOffsetMinutes'>): unknown {
  if (!phpTruthy(value)) return value;
  const type = String(declared.Type ?? 'string').toLowerCase();
  const one = (v: unknown): unknown => {
    if (typeof v !== 'string' && typeof v !== 'number') return v;
    if (isDateType(type)) return parseDate(String(v), portal) ?? v;
    return v;
  };
  return Array.isArray(value) ? value.map(one) : one(value);
}
