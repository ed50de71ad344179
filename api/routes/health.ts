import { Router } from 'express';
import type { Connection } from '@temporalio/client';
import type { Pool } from 'pg';

async function within<T>(ms: number, p: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer in ${ms} ms`)), ms)));
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** GET /health: whether Temporal and PostgreSQL answer. 200 when both do, 503 otherwise. */
export function healthRoutes(deps: { connection: Connection; pool: Pool; temporalUiUrl?: string }): Router {
  const router = Router();
  router.get('/health', async (_req, res) => {
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
  });
  return router;
}
