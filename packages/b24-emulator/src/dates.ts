/**
 * Dates as a portal answers them. REST answers carry the portal's own UTC offset
 * (`2025-01-29T14:05:52+01:00`: the docs' examples, e.g. bizproc.workflow.instances, and
 * CRestUtil::ConvertDateTime in the core's modules/rest), never `Z`. Each emulated portal has a
 * fixed offset (`Portal.utcOffsetMinutes`).
 */
import type { Portal } from './contract.ts';

function pad(n: number, width = 2): string {
  return String(Math.trunc(Math.abs(n))).padStart(width, '0');
}

/** ISO 8601 in the portal's offset, seconds precision: `2025-01-29T14:05:52+01:00`. */
export function portalIso(date: Date | string | number, portal: Pick<Portal, 'utcOffsetMinutes'>): string {
  const instant = new Date(date);
  const offset = portal.utcOffsetMinutes;
  const local = new Date(instant.getTime() + offset * 60_000);
  const sign = offset < 0 ? '-' : '+';
  return (
    `${local.getUTCFullYear()}-${pad(local.getUTCMonth() + 1)}-${pad(local.getUTCDate())}` +
    `T${pad(local.getUTCHours())}:${pad(local.getUTCMinutes())}:${pad(local.getUTCSeconds())}` +
    `${sign}${pad(Math.abs(offset) / 60)}:${pad(Math.abs(offset) % 60)}`
  );
}
