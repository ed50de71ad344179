import type { PoolClient } from 'pg';

/**
 * One notification to deliver, written in the same transaction as the state change that caused it
 * (the transactional outbox; worker/notification-sender.ts delivers it). The idempotency key makes
 * a retried write a no-op.
 */
export interface OutboxMessage {
  idempotencyKey: string;
  /** The case (or other record) the message is about. */
  caseId: string;
  eventSeq: number;
  eventType: string;
  recipient: string;
  payload: Record<string, unknown>;
}

/**
 * The one outbox writer: every repository that notifies calls this inside its transaction.
 * Resolves to whether the message is new (false: its idempotency key was already written).
 */
export async function enqueueOutbox(client: Pick<PoolClient, 'query'>, m: OutboxMessage): Promise<boolean> {
  const { rowCount } = await client.query(
    `INSERT INTO outbox (idempotency_key, case_id, event_seq, event_type, recipient, payload)
     VALUES ($1,$2,$3,$4,$5,$6) ON CONFLICT (idempotency_key) DO NOTHING`,
    [m.idempotencyKey, m.caseId, m.eventSeq, m.eventType, m.recipient, JSON.stringify(m.payload)],
  );
  return (rowCount ?? 0) > 0;
}

/** A message due for delivery, claimed by one sender until its transaction ends. */
export interface DueMessage {
  id: string;
  idempotencyKey: string;
  caseId: string;
  eventType: string;
  recipient: string;
  payload: Record<string, unknown>;
}

/**
 * Claim up to `limit` undelivered messages whose next attempt is due, oldest first. FOR UPDATE SKIP
 * LOCKED: several senders may run at once, each claims other rows; call it inside a transaction.
 */
export async function claimDueMessages(client: Pick<PoolClient, 'query'>, limit: number): Promise<DueMessage[]> {
  const { rows } = await client.query<{
    id: string;
    idempotency_key: string;
    case_id: string;
    event_type: string;
    recipient: string;
    payload: Record<string, unknown>;
  }>(
    `SELECT id, idempotency_key, case_id, event_type, recipient, payload FROM outbox
      WHERE delivered_at IS NULL AND next_attempt_at <= now()
      ORDER BY next_attempt_at, id LIMIT $1 FOR UPDATE SKIP LOCKED`,
    [limit],
  );
  return rows.map((r) => ({
    id: r.id,
    idempotencyKey: r.idempotency_key,
    caseId: r.case_id,
    eventType: r.event_type,
    recipient: r.recipient,
    payload: r.payload,
  }));
}

export async function markDelivered(client: Pick<PoolClient, 'query'>, id: string): Promise<void> {
  await client.query('UPDATE outbox SET delivered_at = now(), attempts = attempts + 1, last_error = NULL WHERE id = $1', [id]);
}

/** A failed attempt: the next one after 2^attempts seconds, at most `maxBackoffSeconds`. */
export async function markFailed(client: Pick<PoolClient, 'query'>, id: string, error: string, maxBackoffSeconds: number): Promise<void> {
  await client.query(
    `UPDATE outbox SET attempts = attempts + 1, last_error = $2,
       next_attempt_at = now() + make_interval(secs => least(power(2, attempts)::int, $3))
     WHERE id = $1`,
    [id, error, maxBackoffSeconds],
  );
}
