import type { Pool } from 'pg';
import { claimDueMessages, markDelivered, markFailed } from '../db/outbox';
import { inTransaction } from '../db/transaction';
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
  return inTransaction(pool, async (client) => {
    let delivered = 0;
    for (const { id, ...notification } of await claimDueMessages(client, batchSize)) {
      try {
        await deliver(notification);
        await markDelivered(client, id);
        delivered++;
      } catch (err) {
        await markFailed(client, id, (err as Error).message.slice(0, 500), MAX_BACKOFF_SECONDS);
      }
    }
    return delivered;
  });
}

export interface NotificationSender {
  stop(): Promise<void>;
}

export function startNotificationSender(options: { pool: Pool; log: Logger; webhookUrl?: string; pollMs?: number }): NotificationSender {
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
