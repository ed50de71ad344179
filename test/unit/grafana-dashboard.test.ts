import fs from 'node:fs';
import path from 'node:path';

/**
 * docs/grafana-dashboard.json, checked statically: an importable Grafana dashboard whose every
 * query names a metric that exists: the API's and the worker's (as api/metrics.ts and
 * worker/metrics.ts register them), or one the installed Temporal SDK's Core defines.
 */

const root = path.resolve(__dirname, '..', '..');
const dashboard = JSON.parse(fs.readFileSync(path.join(root, 'docs', 'grafana-dashboard.json'), 'utf8')) as {
  uid: string;
  title: string;
  templating: { list: Array<{ name: string; type: string }> };
  panels: Array<{
    id: number;
    type: string;
    title: string;
    gridPos: { x: number; w: number };
    datasource?: { uid: string };
    targets?: Array<{ expr: string; datasource: { uid: string } }>;
  }>;
};
const panels = dashboard.panels.filter((p) => p.type !== 'row');
const exprs = panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr));

/** The metric names of a PromQL expression: identifiers followed by `{` or `[`, or taken by a function. */
function metricNames(expr: string): string[] {
  return [...expr.matchAll(/\b((?:http|ecoloop|temporal)_[a-z_]+)\b/g)].map((m) => m[1]);
}

const ours = ['api/metrics.ts', 'worker/metrics.ts'].map((f) => fs.readFileSync(path.join(root, f), 'utf8')).join('\n');
const coreDir = path.join(root, 'node_modules', '@temporalio', 'core-bridge', 'sdk-core', 'crates');
const core = ['common/src/telemetry/metrics.rs', 'sdk-core/src/telemetry/metrics.rs']
  .map((f) => fs.readFileSync(path.join(coreDir, f), 'utf8'))
  .join('\n');

describe('docs/grafana-dashboard.json', () => {
  test('when it is read, then it is a dashboard with a Prometheus data source variable, unique panel ids and every panel on the grid', () => {
    expect(dashboard).toMatchObject({ uid: expect.any(String), title: expect.any(String) });
    expect(dashboard.templating.list).toContainEqual(expect.objectContaining({ name: 'datasource', type: 'datasource' }));
    const ids = dashboard.panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const p of panels) {
      expect({ panel: p.title, datasource: p.datasource?.uid, queries: p.targets?.length ?? 0 }).toEqual({
        panel: p.title,
        datasource: '${datasource}',
        queries: expect.any(Number),
      });
      expect(p.targets!.length).toBeGreaterThan(0);
      expect(p.gridPos.x + p.gridPos.w).toBeLessThanOrEqual(24);
    }
  });

  test('when its queries are read, then they show requests, latency, cases, outbox and Temporal SDK panels', () => {
    const names = new Set(exprs.flatMap(metricNames));
    for (const name of [
      'http_requests_total',
      'http_request_duration_seconds_bucket',
      'ecoloop_open_cases',
      'ecoloop_overdue_cases',
      'ecoloop_outbox_backlog',
      'ecoloop_outbox_oldest_age_seconds',
      'temporal_workflow_task_schedule_to_start_latency_bucket',
      'temporal_activity_execution_failed_total',
    ]) {
      expect({ name, shown: names.has(name) }).toEqual({ name, shown: true });
    }
  });

  test('when a query names a metric, then the code exports it (ours) or the Temporal SDK defines it (temporal_)', () => {
    for (const name of new Set(exprs.flatMap(metricNames))) {
      const exported = name.startsWith('temporal_')
        ? core.includes(`"${name.replace(/^temporal_/, '').replace(/_(bucket|total)$/, '')}"`)
        : ours.includes(`name: '${name.replace(/_bucket$/, '')}'`);
      expect({ name, exported }).toEqual({ name, exported: true });
    }
  });
});
