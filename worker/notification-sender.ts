import type { Pool } from 'pg';
import type { Logger } from '../runtime/logger';

/**
 * Drains the outbox: every notification that the projection wrote is delivered at least once,
 * retried with exponential backoff, and carries its idempotency key so that a receiver can drop a
 * repeat. Several workers may run it at once: rows are claimed with FOR UPDATE SKIP LOCKED.
 */

export interface Notification {
  idempotencyKey: string;
  caseId: string;
  eventType: string;
  recipient: string;
  payload: Record<string, unknown>;
}

export type Deliver = (n: Notification) => Promise<void>;

export function webhookDelivery(url: string, timeoutMs = 10_000): Deliver {
  return async (n) => {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'idempotency-key': n.idempotencyKey },
      body: JSON.stringify(n),
      signal: AbortSignal.timeout(timeoutMs),
    });
    if (!res.ok) throw new Error(`webhook answered ${res.status}`);
  };
}

export function logDelivery(log: Logger): Deliver {
  return async (n) => log.info({ notification: n }, `notify ${n.recipient}: ${n.eventType} on ${n.caseId}`);
}

const MAX_BACKOFF_SECONDS = 3600;

/** Deliver one batch of due notifications; returns how many were delivered. */
export async function drainOutbox(pool: Pool, deliver: Deliver, batchSize = 50): Promise<number> {
  const client = await pool.connect();
  let delivered = 0;
  try {
    await client.query('BEGIN');
    const { rows } = await client.query<{
      id: string; idempotency_key: string; case_id: string; event_type: string; recipient: string; payload: Record<string, unknown>;
    }>(
      `SELECT id, idempotency_key, case_id, event_type, recipient, payload FROM outbox
        WHERE delivered_at IS NULL AND next_attempt_at <= now()
        ORDER BY next_attempt_at, id LIMIT $1 FOR UPDATE SKIP LOCKED`,
      [batchSize],
    );
    for (const row of rows) {
      try {
        await deliver({
          idempotencyKey: row.idempotency_key, caseId: row.case_id, eventType: row.event_type,
          recipient: row.recipient, payload: row.payload,
        });
        await client.query('UPDATE outbox SET delivered_at = now(), attempts = attempts + 1, last_error = NULL WHERE id = $1', [row.id]);
        delivered++;
      } catch (err) {
        await client.query(
          `UPDATE outbox SET attempts = attempts + 1, last_error = $2,
             next_attempt_at = now() + make_interval(secs => least(power(2, attempts)::int, $3))
           WHERE id = $1`,
          [row.id, (err as Error).message.slice(0, 500), MAX_BACKOFF_SECONDS],
        );
      }
    }
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
  return delivered;
}

export interface NotificationSender {
  stop(): Promise<void>;
}

export function startNotificationSender(options: {
  pool: Pool;
  log: Logger;
  webhookUrl?: string;
  pollMs?: number;
}): NotificationSender {
  const deliver = options.webhookUrl ? webhookDelivery(options.webhookUrl) : logDelivery(options.log);
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();
  const tick = () => {
    running = (async () => {
      try {
        while (!stopped && (await drainOutbox(options.pool, deliver)) > 0);
      } catch (err) {
        options.log.warn({ err: (err as Error).message }, 'notification sender: outbox not reachable; will retry');
      }
      if (!stopped) timer = setTimeout(tick, options.pollMs ?? 1000);
    })();
  };
  tick();
  return {
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running;
    },
  };
}
