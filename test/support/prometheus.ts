import parsePrometheusTextFormat, { type PrometheusMetricFamily, type PrometheusSample } from 'parse-prometheus-text-format';

/**
 * Prometheus text exposition parsed by parse-prometheus-text-format (the JS parser ported from the
 * official Python client's). Its families, types, labels, escaping and values are used as they
 * come, except for histograms: the package folds every labelled series of a histogram into one and
 * drops their labels, `_count` and `_sum` (yunyu/parse-prometheus-text-format issue #13, unfixed in
 * 1.1.1). For those, the same parser reads the family's sample lines as plain samples (`_bucket`,
 * `_sum`, `_count`, each with its labels) and they are grouped here by label set.
 */
export type MetricFamily = PrometheusMetricFamily;
export type Sample = PrometheusSample;

export function parseExposition(text: string): MetricFamily[] {
  const families = parsePrometheusTextFormat(text);
  const lines = text.split('\n');
  return families.map((family) => (family.type === 'HISTOGRAM' ? { ...family, metrics: histogramSeries(family.name, lines) } : family));
}

function histogramSeries(name: string, lines: string[]): Sample[] {
  const suffixes = ['_bucket', '_sum', '_count'];
  const own = lines.filter((l) => !l.startsWith('#') && suffixes.some((s) => l.startsWith(`${name}${s}{`) || l.startsWith(`${name}${s} `)));
  const series = new Map<string, Sample>();
  for (const plain of parsePrometheusTextFormat(own.join('\n'))) {
    for (const m of plain.metrics) {
      const { le, ...labels } = m.labels ?? {};
      const key = JSON.stringify(Object.entries(labels).sort());
      const s = series.get(key) ?? { ...(Object.keys(labels).length && { labels }), buckets: {} };
      series.set(key, s);
      if (plain.name === `${name}_bucket` && le !== undefined) s.buckets![le] = m.value!;
      else if (plain.name === `${name}_sum`) s.sum = m.value;
      else if (plain.name === `${name}_count`) s.count = m.value;
    }
  }
  return [...series.values()];
}

/** The one sample of `name` whose labels include `labels`; undefined when there is none. */
export function sample(families: MetricFamily[], name: string, labels: Record<string, string> = {}): Sample | undefined {
  const family = families.find((f) => f.name === name);
  const found = family?.metrics.filter((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v)) ?? [];
  if (found.length > 1) throw new Error(`${found.length} samples of ${name} match ${JSON.stringify(labels)}`);
  return found[0];
}

/** The value of that sample (a counter or a gauge), as a number. */
export function valueOf(families: MetricFamily[], name: string, labels: Record<string, string> = {}): number | undefined {
  const found = sample(families, name, labels);
  return found?.value === undefined ? undefined : Number(found.value);
}
