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
