/** Reading Prometheus' text format the way a scraper does: one sample by name and labels. */

export type Samples = (name: string, labels?: Record<string, string>) => number;

/** GET /metrics (with the bearer token, if given) and a reader of its samples; throws unless 200. */
export async function scrape(url: string, token?: string): Promise<Samples> {
  const response = await fetch(url, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  const text = await response.text();
  if (response.status !== 200) throw new Error(`GET ${url}: ${response.status} ${text}`);
  return samplesOf(text);
}

/** The value of the sample with this name and exactly these labels; 0 when there is none (a counter not yet moved). */
export function samplesOf(text: string): Samples {
  const values = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match) throw new Error(`not a sample line: ${line}`);
    const labels = [...(match[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)].map(([, k, v]) => [k!, v!] as const);
    values.set(key(match[1]!, Object.fromEntries(labels)), Number(match[3]));
  }
  return (name, labels = {}) => values.get(key(name, labels)) ?? 0;
}

function key(name: string, labels: Record<string, string>): string {
  return `${name}{${Object.keys(labels).sort().map((k) => `${k}=${labels[k]}`).join(',')}}`;
}
