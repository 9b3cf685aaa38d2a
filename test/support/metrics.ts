/**
 * The service's `/metrics` (Prometheus text) as a map from series to value, for tests that
 * check what a request moved. A series is keyed by its name and its labels in name order, as
 * prom-client prints them: `name{a="1",b="2"}`.
 */
export async function readMetrics(baseUrl: string): Promise<Map<string, number>> {
  const text = await (await fetch(`${baseUrl}/metrics`)).text();
  const found = new Map<string, number>();
  for (const line of text.split('\n')) {
    const match = /^([a-z_]+)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match) continue;
    const labels = (match[2] ?? '').split(/,(?=[a-z_]+=")/).filter((label) => label.length > 0).sort();
    found.set(`${match[1]!}{${labels.join(',')}}`, Number(match[3]));
  }
  return found;
}
