import express, { type Express } from 'express';
import helmet from 'helmet';
import type { Client, Connection } from '@temporalio/client';
import type { Pool } from 'pg';
import type { Policy } from '../domain/policy';
import type { Logger } from '../runtime/logger';
import { API_DEFAULTS, loadConfig, type Config } from '../runtime/config';
import type { KeyRing } from '../runtime/encryption';
import { openApiRoutes } from './openapi';
import { TemporalGateway } from './temporal-gateway';
import { notFound, problemHandler } from './problem';
import { codecRoutes } from './routes/codec';
import { complaintRouteTable, complaintRoutes } from './routes/complaints';
import { governanceRouteTable, governanceRoutes } from './routes/governance';
import { publicRouteTable, publicRoutes } from './routes/public';
import { healthRoutes } from './routes/health';
import { supervisionRouteTable, supervisionRoutes } from './routes/supervision';
import { open311Routes, type Open311Settings } from './routes/open311';
import { reportRoutes } from './routes/reports';
import { warningRoutes } from './routes/warnings';

export interface AppDeps {
  client: Client;
  connection: Connection;
  pool: Pool;
  policy: () => Policy;
  taskQueue: string;
  jwtSecret: string;
  log: Logger;
  temporalUiUrl?: string;
  /** Open311 api keys, rate limit, default jurisdiction; unset: from the environment. */
  open311?: Open311Settings;
  /** Encrypts the reporter's identity (PostgreSQL) and serves the Temporal codec endpoint. */
  keyRing: KeyRing;
  /** The public feed's rate limit and the wait for Temporal; unset: from the environment. */
  limits?: ApiLimits;
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
  app.use(helmet());
  app.use('/codec', codecRoutes({ ...deps, namespace: deps.client.options.namespace })); // before the 64 kB JSON parser
  app.use('/open311/v2', open311Routes(deps)); // form-encoded, Open311 errors; before the JSON parser
  app.use(express.json({ limit: '64kb', strict: true }));

  app.use(healthRoutes({ connection: deps.connection, pool: deps.pool, temporalUiUrl: deps.temporalUiUrl }));
  const limits = deps.limits ?? apiLimits(loadConfig());
  // The one way to Temporal: every call with a deadline (routes take it as `temporal`).
  const temporal = new TemporalGateway(deps.client, limits.temporalTimeoutMs, deps.taskQueue);
  app.use(complaintRoutes({ ...deps, temporalTimeoutMs: limits.temporalTimeoutMs })); // tokens checked per route
  app.use(publicRoutes({ ...deps, rateLimitPerMinute: limits.publicRateLimitPerMinute }));
  app.use(governanceRoutes({ ...deps, temporalTimeoutMs: limits.temporalTimeoutMs })); // /v1/governance: rewards, backlog, campaigns
  app.use(supervisionRoutes({ ...deps, temporal })); // /v1/supervision: desk checks, re-inspections; published results need no token
  app.use('/v1/reports', reportRoutes(deps)); // monthly and quarterly reports (JSON, CSV, HTML), the four rates
  app.use('/v1/warnings', warningRoutes(deps)); // early warnings, and campaigns started from them
  app.use(openApiRoutes([...complaintRouteTable, ...publicRouteTable, ...governanceRouteTable, ...supervisionRouteTable]));

  app.use((req, _res, next) => next(notFound(`No route ${req.method} ${req.path}.`)));
  app.use(
    problemHandler(
      (err) => deps.log.error({ err }, 'unexpected error'),
      (err) => deps.log.warn({ error: (err as Error)?.message ?? String(err) }, 'service unavailable: answered 503'),
    ),
  );
  return app;
}
