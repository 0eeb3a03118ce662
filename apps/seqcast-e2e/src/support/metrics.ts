/**
 * Reads a service's Prometheus text (GET /metrics) the way a scraper would, for tests that wait
 * on what a process reports about itself (e.g. a gateway's slow_consumer kicks).
 */
export async function scrapeMetric(serviceUrl: string, name: string, labels: Record<string, string> = {}): Promise<number> {
  const res = await fetch(`${serviceUrl}/metrics`);
  if (res.status !== 200) throw new Error(`GET ${serviceUrl}/metrics -> ${res.status}`);
  const text = await res.text();
  let total = 0;
  let found = false;
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{([^}]*)\})?\s+(\S+)/.exec(line);
    if (!match || match[1] !== name) continue;
    const sampleLabels = Object.fromEntries(
      [...(match[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1], m[2]]),
    );
    if (Object.entries(labels).some(([k, v]) => sampleLabels[k] !== v)) continue;
    found = true;
    total += Number(match[3]);
  }
  if (!found) throw new Error(`${serviceUrl}/metrics has no sample of ${name}${JSON.stringify(labels)}`);
  return total;
}
