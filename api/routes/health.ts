import { Router } from 'express';
import { z } from 'zod';
import type { Connection } from '@temporalio/client';
import type { Pool } from 'pg';
import { mountRoutes, route, type Route } from '../validate';

/** `GET /health`: whether Temporal and PostgreSQL answer. One table, described in the OpenAPI document. */

export interface HealthRoutesDeps {
  connection: Connection;
  pool: Pool;
  temporalUiUrl?: string;
}

async function within<T>(ms: number, p: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer in ${ms} ms`)), ms)));
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

const dependencySchema = z.object({
  reachable: z.boolean(),
  latencyMs: z.number().optional(),
  error: z.string().optional(),
});
const healthSchema = z.object({
  status: z.enum(['ok', 'degraded']),
  temporal: dependencySchema.extend({ ui: z.string().optional() }),
  database: dependencySchema,
});

export const healthRouteTable: Route<HealthRoutesDeps>[] = [
  route(
    {
      operationId: 'health',
      method: 'get',
      path: '/health',
      summary: 'Whether Temporal and PostgreSQL answer',
      description: '200 when both do; 503 with the same document (status `degraded`) otherwise.',
      tag: 'operations',
      access: 'public',
      response: { status: 200, description: 'Both answer', schema: healthSchema },
      problems: [],
    },
    async (deps, _input, _req, res) => {
      const check = async (fn: () => Promise<unknown>) => {
        const started = Date.now();
        try {
          await within(2_000, fn());
          return { reachable: true, latencyMs: Date.now() - started };
        } catch (err) {
          return { reachable: false, error: (err as Error).message.split('\n')[0] };
        }
      };
      const [temporal, database] = await Promise.all([
        check(() => deps.connection.withDeadline(Date.now() + 2_000, () => deps.connection.workflowService.getSystemInfo({}))),
        check(() => deps.pool.query('SELECT 1')),
      ]);
      const ok = temporal.reachable && database.reachable;
      res.status(ok ? 200 : 503).json({
        status: ok ? 'ok' : 'degraded',
        temporal: { ...temporal, ...(deps.temporalUiUrl && { ui: deps.temporalUiUrl }) },
        database,
      });
    },
  ),
];

export function healthRoutes(deps: HealthRoutesDeps): Router {
  const router = Router();
  mountRoutes(router, healthRouteTable, deps, {});
  return router;
}
