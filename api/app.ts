import express, { type Express } from 'express';
import helmet from 'helmet';
import type { Client, Connection } from '@temporalio/client';
import type { Pool } from 'pg';
import type { Policy } from '../domain/policy';
import type { Logger } from '../runtime/logger';
import { authenticate } from './auth';
import { notFound, problemHandler } from './problem';
import { complaintRoutes } from './routes/complaints';
import { healthRoutes } from './routes/health';

export interface AppDeps {
  client: Client;
  connection: Connection;
  pool: Pool;
  policy: () => Policy;
  taskQueue: string;
  jwtSecret: string;
  log: Logger;
  temporalUiUrl?: string;
}

/** Build the HTTP API. Tests run it in-process on an ephemeral port; api/server.ts listens. */
export function createApp(deps: AppDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', 'loopback');
  app.use(helmet());
  app.use(express.json({ limit: '64kb', strict: true }));

  app.use(healthRoutes({ connection: deps.connection, pool: deps.pool, temporalUiUrl: deps.temporalUiUrl }));
  app.use('/v1/complaints', authenticate(deps.jwtSecret), complaintRoutes(deps));

  app.use((req, _res, next) => next(notFound(`No route ${req.method} ${req.path}.`)));
  app.use(problemHandler((err) => deps.log.error({ err }, 'unexpected error')));
  return app;
}
