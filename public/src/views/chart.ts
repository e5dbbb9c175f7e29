/** Calls per hour and their failures as an SVG bar chart: one bar per hour, failures in red on top. */
import type { Translate } from '../i18n.ts';

const SVG = 'http://www.w3.org/2000/svg';

export function hourlyChart(rows: Array<{ hour: string; calls: number; failed: number }>, t: Translate, hours = 48): SVGSVGElement {
  const width = 720;
  const height = 140;
  const pad = 24;
  const now = new Date();
  now.setMinutes(0, 0, 0);
  const byHour = new Map(rows.map((r) => [new Date(r.hour).getTime(), r]));
  const slots = Array.from({ length: hours }, (_, i) => {
    const at = now.getTime() - (hours - 1 - i) * 3_600_000;
    return { at, calls: byHour.get(at)?.calls ?? 0, failed: byHour.get(at)?.failed ?? 0 };
  });
  const max = Math.max(1, ...slots.map((s) => s.calls));
  const barWidth = (width - pad * 2) / hours;
  const svg = document.createElementNS(SVG, 'svg');
  svg.setAttribute('viewBox', `0 0 ${width} ${height}`);
  svg.setAttribute('class', 'chart');
  svg.setAttribute('role', 'img');
  const total = slots.reduce((sum, s) => sum + s.calls, 0);
  const failed = slots.reduce((sum, s) => sum + s.failed, 0);
  svg.setAttribute('aria-label', `${t('callsPerHour')}: ${total} ${t('calls')}, ${failed} ${t('failures')}`);
  const shape = (tag: string, attributes: Record<string, string | number>, text?: string) => {
    const node = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attributes)) node.setAttribute(k, String(v));
    if (text !== undefined) node.textContent = text;
    svg.append(node);
    return node;
  };
  const plot = height - pad * 2;
  slots.forEach((slot, i) => {
    const x = pad + i * barWidth + 1;
    const callsHeight = (slot.calls / max) * plot;
    const failedHeight = (slot.failed / max) * plot;
    const bar = shape('rect', { x, y: height - pad - callsHeight, width: Math.max(1, barWidth - 2), height: callsHeight, class: 'bar' });
    bar.append(Object.assign(document.createElementNS(SVG, 'title'), { textContent: `${new Date(slot.at).toLocaleString()}: ${slot.calls} / ${slot.failed}` }));
    if (slot.failed > 0) shape('rect', { x, y: height - pad - failedHeight, width: Math.max(1, barWidth - 2), height: failedHeight, class: 'bar-failed' });
  });
  shape('line', { x1: pad, x2: width - pad, y1: height - pad, y2: height - pad, class: 'axis' });
  shape('text', { x: pad, y: 14, class: 'legend' }, `${max} ${t('calls')}/h`);
  shape('text', { x: width - pad, y: 14, class: 'legend', 'text-anchor': 'end' }, `${total} ${t('calls')} · ${failed} ${t('failures')}`);
  return svg;
}
