import express, { type Express, type RequestHandler } from 'express';
import helmet from 'helmet';
import type { Client, Connection } from '@temporalio/client';
import type { Pool } from 'pg';
import type { Policy } from '../domain/policy';
import type { Logger } from '../runtime/logger';
import { API_DEFAULTS, loadConfig, type Config } from '../runtime/config';
import type { KeyRing } from '../runtime/encryption';
import type { ReporterIndex } from '../runtime/reporter-index';
import { TemporalGateway } from './temporal-gateway';
import { createApiMetrics, metricsAccess, type MetricsAccess } from './metrics';
import { notFound, problemHandler } from './problem';
import { routeTables } from './routes';
import type { Open311Settings } from './routes/open311';
import { directoryPrincipalCheck } from './unit-directory';

export interface AppDeps {
  client: Client;
  connection: Connection;
  pool: Pool;
  policy: () => Policy;
  taskQueue: string;
  jwtSecret: string;
  log: Logger;
  temporalUiUrl?: string;
  /** Development only: the codec takes requests from the local Temporal UI without a token (CODEC_TRUST_LOCAL_UI). */
  codecTrustsLocalUi?: boolean;
  /** Open311 api keys, rate limit, default jurisdiction; unset: from the environment. */
  open311?: Open311Settings;
  /** The payload ring: the Temporal codec endpoint decodes with it (and only with it). */
  keyRing: KeyRing;
  /**
   * The reporter ring (runtime/reporter-seal.ts): seals the reporter's identity before it enters a
   * workflow and opens it at rest. Never given to the codec endpoint.
   */
  reporterKeys: KeyRing;
  /** The reporter's blind index (runtime/reporter-index.ts, REPORTER_INDEX_KEYS): clerks find a case by its caller with it. */
  reporterIndex: ReporterIndex;
  /** The public feed's rate limit and the wait for Temporal; unset: from the environment. */
  limits?: ApiLimits;
  /** Who may read GET /metrics (METRICS_TOKEN); unset: from the environment. */
  metricsAccess?: MetricsAccess;
  /**
   * Handlers run before every route: the test suite's check of every answer against /openapi.json
   * (test/support/response-validation.ts). Unset in production.
   */
  responseCheck?: RequestHandler[];
}

export interface ApiLimits {
  publicRateLimitPerMinute: number;
  temporalTimeoutMs: number;
}

export function apiLimits(config: Config): ApiLimits {
  return {
    publicRateLimitPerMinute: config.PUBLIC_RATE_LIMIT_PER_MINUTE ?? API_DEFAULTS.publicRateLimitPerMinute,
    temporalTimeoutMs: config.TEMPORAL_RPC_TIMEOUT_MS ?? API_DEFAULTS.temporalTimeoutMs,
  };
}

/** Build the HTTP API. Tests run it in-process on an ephemeral port; api/server.ts listens. */
export function createApp(deps: AppDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', 'loopback');
  // Every request counted and timed by route template, method and status (GET /metrics).
  const metrics = createApiMetrics(deps.metricsAccess ?? metricsAccess(loadConfig()));
  app.use(metrics.middleware);
  app.use(helmet());
  // Every route with roles checks its token against the unit and division directories (api/validate.ts).
  app.locals.principalCheck = directoryPrincipalCheck(deps.pool);
  if (deps.responseCheck) app.use(...deps.responseCheck);
  const limits = deps.limits ?? apiLimits(loadConfig());
  // The one way to Temporal: every call with a deadline (routes take it as `temporal`).
  const temporal = new TemporalGateway(deps.client, limits.temporalTimeoutMs, deps.taskQueue);
  // Every route is in a table (api/routes/index.ts); each table's router parses its own bodies.
  for (const table of routeTables) app.use(table.router({ ...deps, limits, temporal, metrics }));

  app.use((req, _res, next) => next(notFound(`No route ${req.method} ${req.path}.`)));
  app.use(
    problemHandler(
      (err) => deps.log.error({ err }, 'unexpected error'),
      (err) => deps.log.warn({ error: (err as Error)?.message ?? String(err) }, 'service unavailable: answered 503'),
    ),
  );
  return app;
}
