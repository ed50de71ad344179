import { Router } from 'express';
import { z } from 'zod';
import type { ApiMetrics } from '../metrics';
import { mountRoutes, route, type Route } from '../validate';

/**
 * `GET /metrics`: the API's Prometheus metrics (api/metrics.ts) in the text exposition format.
 *
 * Access, chosen for scrapers, which send a fixed credential and cannot mint the API's short-lived
 * JWTs: no role, but the bearer token METRICS_TOKEN when it is set (401 without it). Unset, the
 * route is open outside production (`npm start` binds the API to loopback) and refused in
 * production (403), so a deployment never publishes its metrics by omission.
 */

export interface MetricsRoutesDeps {
  metrics: ApiMetrics;
}

/** The Prometheus text exposition format, version 0.0.4 (what every scraper reads). */
const TEXT_FORMAT = 'text/plain; version=0.0.4; charset=utf-8';

const metricJson = z.object({
  name: z.string(),
  help: z.string(),
  type: z.string(),
  /** How prom-client merges the metric across cluster workers (`sum`, `first`, ...). */
  aggregator: z.string(),
  values: z.array(z.object({ value: z.number(), labels: z.record(z.string(), z.union([z.string(), z.number()])) }).loose()),
});

export const metricsRouteTable: Route<MetricsRoutesDeps>[] = [
  route(
    {
      operationId: 'metrics',
      method: 'get',
      path: '/metrics',
      summary: 'Prometheus metrics of this API process',
      description:
        'Requests by route template, method and status (`http_requests_total`), their latency ' +
        '(`http_request_duration_seconds`) and the process metrics of Node. Text exposition format for ' +
        'scrapers; JSON when `Accept` prefers it. No role: the bearer token `METRICS_TOKEN` when it is set; ' +
        'unset, open outside production and refused (403) in production.',
      tag: 'operations',
      access: 'public',
      response: { status: 200, description: 'The metrics', schema: z.array(metricJson), mediaTypes: ['text/plain', 'application/json'] },
      problems: [401, 403],
    },
    async (deps, _input, req, res) => {
      const registry = deps.metrics.registry();
      res.set('Cache-Control', 'no-store');
      if (req.accepts(['text/plain', 'application/json']) === 'application/json') {
        res.json(await registry.getMetricsAsJSON());
        return;
      }
      res.type(TEXT_FORMAT).send(await registry.metrics());
    },
  ),
];

export function metricsRoutes(deps: MetricsRoutesDeps): Router {
  const router = Router();
  mountRoutes(router, metricsRouteTable, deps, { before: () => [deps.metrics.authorize] });
  return router;
}
