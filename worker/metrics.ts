import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { MetricsExporterConfig } from '@temporalio/worker';
import type { Pool } from 'pg';
import { Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import { readOperationalGauges } from '../db/metrics';
import { METRICS_PATH, type Config } from '../runtime/config';
import type { Logger } from '../runtime/logger';

/**
 * The worker's two Prometheus endpoints, each on its own port of WORKER_METRICS_HOST:
 *
 * - the Temporal SDK's own metrics (`temporal_` prefix: workflow and activity task latencies,
 *   failures, slots, pollers, sticky cache...), served by the SDK's native Prometheus exporter,
 *   which worker/main.ts installs with the Runtime before any connection or worker exists;
 * - EcoLoop's gauges, computed from PostgreSQL on each scrape (db/metrics.ts): open cases by status,
 *   overdue cases by escalation level, the outbox backlog and the age of its oldest message, the
 *   projection's dead letters; with Node's process metrics of the worker.
 */

/** The Runtime's telemetry for the SDK's Prometheus exporter; undefined when WORKER_TEMPORAL_METRICS_PORT is 0. */
export function temporalMetricsExporter(config: Config): MetricsExporterConfig | undefined {
  if (config.WORKER_TEMPORAL_METRICS_PORT === 0) return undefined;
  return {
    prometheus: {
      bindAddress: hostPort(config.WORKER_METRICS_HOST, config.WORKER_TEMPORAL_METRICS_PORT),
      // Durations in seconds and counters ending in _total: the Prometheus conventions.
      useSecondsForDurations: true,
      countersTotalSuffix: true,
    },
  };
}

/** `host:port`, IPv6 hosts in brackets. */
export function hostPort(host: string, port: number): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** Where a metrics endpoint of the worker answers. */
export function metricsUrl(host: string, port: number): string {
  return `http://${hostPort(host, port)}${METRICS_PATH}`;
}

export interface WorkerMetricsServer {
  url: string;
  stop(): Promise<void>;
}

/**
 * EcoLoop's gauges and the worker's process metrics. `scrape` reads the gauges from PostgreSQL and
 * renders the exposition; when PostgreSQL does not answer, the gauges are left out (never stale
 * counts, never a backlog of 0 that is not one) and `ecoloop_metrics_database_up` is 0.
 */
export function workerMetrics(pool: Pool, log: Logger): { scrape: () => Promise<string>; contentType: string } {
  const always = new Registry();
  collectDefaultMetrics({ register: always });
  const up = new Gauge({
    name: 'ecoloop_metrics_database_up',
    help: 'Whether this scrape read the gauges from PostgreSQL (1) or could not (0: the other ecoloop_ gauges are absent)',
    registers: [always],
  });
  const fromDatabase = new Registry();
  const registers = [fromDatabase];
  const open = new Gauge({
    name: 'ecoloop_open_cases',
    help: 'Open cases (not closed or archived) by status',
    labelNames: ['status'],
    registers,
  });
  const overdue = new Gauge({
    name: 'ecoloop_overdue_cases',
    help: 'Open cases past their running deadline, by escalation level (0 none, 1 supervision, 2 city, 3 provincial)',
    labelNames: ['escalation_level'],
    registers,
  });
  const backlog = new Gauge({ name: 'ecoloop_outbox_backlog', help: 'Outbox notifications not delivered yet', registers });
  const oldest = new Gauge({
    name: 'ecoloop_outbox_oldest_age_seconds',
    help: 'Age of the oldest undelivered outbox notification (0 when there is none)',
    registers,
  });
  const deadLetters = new Gauge({
    name: 'ecoloop_projection_dead_letters',
    help: 'Projection dead letters not replayed yet: event ranges the read model refused (npm run projection:replay)',
    registers,
  });

  async function scrape(): Promise<string> {
    let gauges;
    try {
      gauges = await readOperationalGauges(pool);
    } catch (err) {
      log.warn({ err: (err as Error).message }, 'metrics: could not read the gauges from PostgreSQL');
      up.set(0);
      return always.metrics();
    }
    open.reset();
    for (const [status, n] of Object.entries(gauges.openCasesByStatus)) open.set({ status }, n);
    overdue.reset();
    for (const [level, n] of Object.entries(gauges.overdueCasesByLevel)) overdue.set({ escalation_level: level }, n);
    backlog.set(gauges.outboxBacklog);
    oldest.set(gauges.outboxOldestAgeSeconds);
    deadLetters.set(gauges.projectionDeadLetters);
    up.set(1);
    return Registry.merge([always, fromDatabase]).metrics();
  }
  return { scrape, contentType: always.contentType };
}

/**
 * Serve EcoLoop's gauges on `GET /metrics` of host:port. A port already taken is logged and
 * skipped (resolves undefined): metrics never keep a worker from running.
 */
export async function startWorkerMetricsServer(options: {
  pool: Pool;
  host: string;
  port: number;
  log: Logger;
}): Promise<WorkerMetricsServer | undefined> {
  const metrics = workerMetrics(options.pool, options.log);
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0];
    if (path !== METRICS_PATH || (req.method !== 'GET' && req.method !== 'HEAD')) {
      res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' }).end(`Only GET ${METRICS_PATH} is served here.\n`);
      return;
    }
    void (async () => {
      try {
        const text = await metrics.scrape();
        res
          .writeHead(200, { 'Content-Type': metrics.contentType, 'Cache-Control': 'no-store' })
          .end(req.method === 'HEAD' ? undefined : text);
      } catch (err) {
        options.log.error({ err }, 'metrics: scrape failed');
        res.writeHead(500, { 'Content-Type': 'text/plain; charset=utf-8' }).end('scrape failed\n');
      }
    })();
  });
  const listening = await new Promise<boolean>((resolve) => {
    server.once('error', (err) => {
      options.log.warn({ err: err.message, port: options.port }, 'metrics: could not listen; the worker runs without its EcoLoop metrics');
      resolve(false);
    });
    server.listen(options.port, options.host, () => resolve(true));
  });
  if (!listening) return undefined;
  const { port } = server.address() as AddressInfo;
  return {
    url: metricsUrl(options.host, port),
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
