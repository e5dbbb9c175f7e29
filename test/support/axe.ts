/**
 * axe-core (WCAG 2 A and AA) run in the real browser inside one frame: the app's page as the portal
 * shows it, not the portal page around it. Answers the serious and critical violations, one
 * readable line per element: the rule, its help text, the element and why it fails.
 */
import axe from 'axe-core';
import type { Frame } from 'playwright-core';

const WCAG_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];
const BLOCKING = new Set(['serious', 'critical']);

declare global {
  interface Window {
    axe?: typeof axe;
  }
}

export async function axeViolations(frame: Frame, label: string): Promise<string[]> {
  // evaluated through the browser's debugging protocol: the page's Content-Security-Policy does not apply to it
  if (!(await frame.evaluate(() => Boolean(window.axe)))) await frame.evaluate(axe.source);
  const violations = await frame.evaluate(async (tags) => {
    const result = await window.axe!.run(document, { runOnly: { type: 'tag', values: tags }, resultTypes: ['violations'] });
    return result.violations.map((v) => ({
      id: v.id,
      impact: v.impact ?? '',
      help: v.help,
      nodes: v.nodes.map((n) => ({ target: n.target.join(' '), summary: (n.failureSummary ?? '').replace(/\s+/g, ' ').trim() })),
    }));
  }, WCAG_TAGS);
  return violations
    .filter((v) => BLOCKING.has(v.impact))
    .flatMap((v) => v.nodes.map((n) => `${label}: ${v.id} (${v.impact}) ${v.help} — ${n.target} — ${n.summary}`));
}
