/**
 * Times in the portal's language and the user's portal time zone (profile: TIME_ZONE, or its
 * TIME_ZONE_OFFSET when the user has none): an absolute date-time and a relative one ("5 min ago").
 */
import type { Lang } from './frame.ts';

export interface Clock {
  absolute(iso: string | null): string;
  relative(iso: string | null): string;
  /** midnight at the start of a YYYY-MM-DD day in the portal's zone, as an ISO instant */
  startOfDay(day: string): string;
}

export function portalClock(lang: Lang, zone: { timeZone: string; offsetSeconds: number }): Clock {
  const timeZone = zoneName(zone);
  const absolute = new Intl.DateTimeFormat(lang, { dateStyle: 'medium', timeStyle: 'medium', timeZone });
  const relative = new Intl.RelativeTimeFormat(lang, { numeric: 'auto' });
  const offsetMs = offsetAt(timeZone, zone.offsetSeconds);
  return {
    absolute: (iso) => (iso ? absolute.format(new Date(iso)) : '—'),
    relative: (iso) => {
      if (!iso) return '—';
      const seconds = Math.round((new Date(iso).getTime() - Date.now()) / 1000);
      for (const [unit, size] of UNITS) {
        if (Math.abs(seconds) >= size || unit === 'second') return relative.format(Math.round(seconds / size), unit);
      }
      return '';
    },
    startOfDay: (day) => new Date(Date.parse(`${day}T00:00:00Z`) - offsetMs).toISOString(),
  };
}

const UNITS: Array<[Intl.RelativeTimeFormatUnit, number]> = [
  ['day', 86_400],
  ['hour', 3_600],
  ['minute', 60],
  ['second', 1],
];

function zoneName({ timeZone, offsetSeconds }: { timeZone: string; offsetSeconds: number }): string {
  if (timeZone && isZone(timeZone)) return timeZone;
  const minutes = Math.round(offsetSeconds / 60);
  const sign = minutes < 0 ? '-' : '+';
  const fixed = `${sign}${String(Math.floor(Math.abs(minutes) / 60)).padStart(2, '0')}:${String(Math.abs(minutes) % 60).padStart(2, '0')}`;
  return isZone(fixed) ? fixed : 'UTC';
}

function isZone(name: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

/** The zone's current offset from UTC in ms (for a named zone, from Intl; else the profile's offset). */
function offsetAt(timeZone: string, fallbackSeconds: number): number {
  const parts = new Intl.DateTimeFormat('en-US', { timeZone, timeZoneName: 'longOffset' }).formatToParts(new Date());
  const name = parts.find((p) => p.type === 'timeZoneName')?.value ?? '';
  const match = /GMT([+-])(\d{2}):?(\d{2})?/.exec(name);
  if (!match) return name === 'GMT' ? 0 : fallbackSeconds * 1000;
  return (match[1] === '-' ? -1 : 1) * (Number(match[2]) * 60 + Number(match[3] ?? 0)) * 60_000;
}
