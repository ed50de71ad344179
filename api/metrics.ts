import { createHash, timingSafeEqual } from 'node:crypto';
import type { Request, RequestHandler } from 'express';
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Config } from '../runtime/config';
import { forbidden, unauthenticated } from './problem';

/**
 * The API's Prometheus metrics (prom-client): every request counted and timed by route, method and
 * status. The route is the route table's OpenAPI path template (`/v1/complaints/{caseId}`), never
 * the raw URL, so the number of series stays bounded whatever clients send; a request no route
 * matched is counted under `unmatched`. Served by `GET /metrics` (api/routes/metrics.ts).
 */

/** Label of the requests no route matched (unknown paths, the docs' static assets). */
export const UNMATCHED_ROUTE = 'unmatched';

/**
 * Latency buckets in seconds: from a cached read (a few ms) to the API's longest Temporal wait
 * (TEMPORAL_RPC_TIMEOUT_MS, 10 s by default), above which a request answers 503.
 */
const LATENCY_BUCKETS_SECONDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/** Who may read `GET /metrics`. */
export interface MetricsAccess {
  /** The bearer token a scraper must send; unset: no token. */
  token?: string;
  /** Whether NODE_ENV is production: there, /metrics without a token configured is refused. */
  production: boolean;
}

export function metricsAccess(config: Config): MetricsAccess {
  return { token: config.METRICS_TOKEN, production: config.NODE_ENV === 'production' };
}

let processRegistry: Registry | undefined;
/** Node's process metrics (CPU, memory, event loop lag, GC): one set per process, however many apps it builds. */
function processMetrics(): Registry {
  if (!processRegistry) {
    processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry });
  }
  return processRegistry;
}

/** The OpenAPI template of the route that answered, e.g. `/v1/complaints/{caseId}`; `unmatched` when none did. */
export function routeLabel(req: Request): string {
  const path = (req.route as { path?: unknown } | undefined)?.path;
  if (typeof path !== 'string') return UNMATCHED_ROUTE;
  return `${req.baseUrl}${path}`.replace(/:(\w+)/g, '{$1}');
}

export interface ApiMetrics {
  /** Counts and times every request; mounted first by api/app.ts. */
  middleware: RequestHandler;
  /** Checks the scraper's token (METRICS_TOKEN); the metrics route runs it before answering. */
  authorize: RequestHandler;
  /** The metrics of this app and of the process. */
  registry(): Registry;
}

export function createApiMetrics(access: MetricsAccess): ApiMetrics {
  const registry = new Registry();
  const labelNames = ['route', 'method', 'status'] as const;
  const requests = new Counter({
    name: 'http_requests_total',
    help: 'HTTP requests answered by the API, by route template, method and status',
    labelNames,
    registers: [registry],
  });
  const latency = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'Time from receiving an HTTP request to the end of its answer, by route template, method and status',
    labelNames,
    buckets: LATENCY_BUCKETS_SECONDS,
    registers: [registry],
  });

  const middleware: RequestHandler = (req, res, next) => {
    const started = process.hrtime.bigint();
    res.once('finish', () => {
      const labels = { route: routeLabel(req), method: req.method, status: String(res.statusCode) };
      requests.inc(labels);
      latency.observe(labels, Number(process.hrtime.bigint() - started) / 1e9);
    });
    next();
  };

  const expected = access.token === undefined ? undefined : digest(access.token);
  const authorize: RequestHandler = (req, _res, next) => {
    if (expected === undefined) {
      return next(access.production ? forbidden('Metrics are off: set METRICS_TOKEN to let a scraper read them.') : undefined);
    }
    const given = req.get('authorization')?.match(/^Bearer\s+(\S+)$/i)?.[1];
    if (given === undefined) return next(unauthenticated('The metrics token is required (Authorization: Bearer <METRICS_TOKEN>).'));
    // Digests of equal length, compared in constant time: the answer says nothing of how much matched.
    if (!timingSafeEqual(digest(given), expected)) return next(unauthenticated('The metrics token is not valid.', 'invalid_token'));
    next();
  };

  return { middleware, authorize, registry: () => Registry.merge([processMetrics(), registry]) };
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}
