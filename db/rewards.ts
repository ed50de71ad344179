import type { Pool } from 'pg';
import { dateIso } from '../domain/instant';

/**
 * Rewards for reporting: the payees (`reward_payees`: an opaque reference per case, and how it is
 * paid), the ledger (`reward_ledger`: one row per payment idempotency key), the payments as their
 * workflows tell them (`reward_payments`: one row per case and payment seq, for the supervisor's
 * inbox) and the development gateway's own payments (`gateway_payments`). Every write is keyed, so
 * a retry changes nothing twice.
 */

export type PayeeMethod = 'reporter_contact' | 'claim_code';

export interface PayeeRecord {
  caseId: string;
  method: PayeeMethod;
  claimCodeHash: string | null;
}

/** The payee of a new reward; undefined when the case has one already (its reference is kept). */
export async function insertPayee(
  pool: Pool,
  p: { payeeRef: string; caseId: string; method: PayeeMethod; claimCodeHash?: string; createdBy: string },
): Promise<string | undefined> {
  const { rows } = await pool.query<{ payee_ref: string }>(
    `INSERT INTO reward_payees (payee_ref, case_id, method, claim_code_hash, created_by) VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (case_id) DO NOTHING RETURNING payee_ref`,
    [p.payeeRef, p.caseId, p.method, p.claimCodeHash ?? null, p.createdBy],
  );
  return rows[0]?.payee_ref;
}

/** Change how the case's existing payee is paid (a reward opened anew); returns its reference. */
export async function updatePayeeMethod(pool: Pool, p: { caseId: string; method: PayeeMethod; claimCodeHash?: string }): Promise<string> {
  const { rows } = await pool.query<{ payee_ref: string }>(
    `UPDATE reward_payees SET method = $2, claim_code_hash = $3 WHERE case_id = $1 RETURNING payee_ref`,
    [p.caseId, p.method, p.claimCodeHash ?? null],
  );
  return rows[0].payee_ref;
}

/** The payee behind a reference. Only the payment activity reads it. */
export async function getPayee(pool: Pool, payeeRef: string): Promise<PayeeRecord | undefined> {
  const { rows } = await pool.query<{ case_id: string; method: PayeeMethod; claim_code_hash: string | null }>(
    `SELECT case_id, method, claim_code_hash FROM reward_payees WHERE payee_ref = $1`,
    [payeeRef],
  );
  const row = rows[0];
  return row && { caseId: row.case_id, method: row.method, claimCodeHash: row.claim_code_hash };
}

// ---- The ledger ----

export interface LedgerEntry {
  idempotencyKey: string;
  caseId: string;
  workflowId: string;
  seq: number;
  kind: 'instant' | 'tiered';
  amount: number;
  currency: string;
  payeeRef: string;
  approvedBy?: string;
}

/** Record the intent to pay (status `initiated`), once per idempotency key. */
export async function recordPaymentIntent(pool: Pool, e: LedgerEntry): Promise<void> {
  await pool.query(
    `INSERT INTO reward_ledger (idempotency_key, case_id, workflow_id, payment_seq, kind, amount, currency, payee_ref, approved_by, status)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'initiated') ON CONFLICT (idempotency_key) DO NOTHING`,
    [e.idempotencyKey, e.caseId, e.workflowId, e.seq, e.kind, e.amount, e.currency, e.payeeRef, e.approvedBy ?? null],
  );
}

/** Mark the payment paid (the first time only, for `paid_at`); returns when it was paid, in epoch ms. */
export async function recordPaymentPaid(pool: Pool, idempotencyKey: string, gatewayRef: string): Promise<number> {
  const { rows } = await pool.query<{ paid_at: Date }>(
    `UPDATE reward_ledger SET status = 'paid', gateway_ref = $2, paid_at = COALESCE(paid_at, now())
      WHERE idempotency_key = $1 RETURNING paid_at`,
    [idempotencyKey, gatewayRef],
  );
  return rows[0].paid_at.getTime();
}

export interface LedgerRow {
  caseId: string;
  seq: number;
  kind: 'instant' | 'tiered';
  amount: number;
  currency: string;
  status: 'initiated' | 'paid';
  approvedBy: string | null;
  gatewayRef: string | null;
  initiatedAt: string | null;
  paidAt: string | null;
}

/** One page of the ledger, newest first; no payee data. */
export async function listLedger(
  pool: Pool,
  f: { caseId?: string; limit: number; offset: number },
): Promise<{ total: number; items: LedgerRow[] }> {
  const where = f.caseId ? 'WHERE case_id = $3' : '';
  const { rows } = await pool.query(
    `SELECT case_id, payment_seq, kind, amount, currency, status, approved_by, gateway_ref, initiated_at, paid_at, count(*) OVER () AS total
       FROM reward_ledger ${where} ORDER BY initiated_at DESC, id DESC LIMIT $1 OFFSET $2`,
    [f.limit, f.offset, ...(f.caseId ? [f.caseId] : [])],
  );
  return {
    total: rows.length ? Number(rows[0].total) : 0,
    items: rows.map((r) => ({
      caseId: r.case_id,
      seq: r.payment_seq,
      kind: r.kind,
      amount: Number(r.amount),
      currency: r.currency,
      status: r.status,
      approvedBy: r.approved_by,
      gatewayRef: r.gateway_ref,
      initiatedAt: dateIso(r.initiated_at),
      paidAt: dateIso(r.paid_at),
    })),
  };
}

// ---- The payments, as their workflows tell them (the supervisor's inbox) ----

/** A payment as the reward workflow projects it into `reward_payments`; instants in epoch ms. */
export interface ProjectedPayment {
  seq: number;
  kind: 'instant' | 'tiered';
  amount: number;
  currency: string;
  status: 'awaiting_approval' | 'approved' | 'rejected' | 'paid' | 'failed';
  requestedBy: string;
  requestedAt: number;
  decidedBy?: string;
  decidedAt?: number;
}

/** How far a payment has come: a row only ever moves to a higher rank (rejected, paid and failed are final). */
const paymentRank = (status: string) => `CASE ${status} WHEN 'awaiting_approval' THEN 0 WHEN 'approved' THEN 1 ELSE 2 END`;

/**
 * Upsert a reward's payments into `reward_payments`, one statement for all of them. A row changes
 * only when the payment has moved forward (a retried or a late projection, which carries an earlier
 * status, changes nothing), so the write is idempotent and never moves a payment back.
 */
export async function projectRewardPayments(pool: Pool, caseId: string, payments: ProjectedPayment[]): Promise<void> {
  if (!payments.length) return;
  const rows = payments.map((p) => ({
    seq: p.seq,
    kind: p.kind,
    amount: p.amount,
    currency: p.currency,
    status: p.status,
    requested_by: p.requestedBy,
    requested_at: new Date(p.requestedAt).toISOString(),
    decided_by: p.decidedBy ?? null,
    decided_at: p.decidedAt === undefined ? null : new Date(p.decidedAt).toISOString(),
  }));
  await pool.query(
    `INSERT INTO reward_payments (case_id, seq, kind, amount, currency, status, requested_by, requested_at, decided_by, decided_at)
     SELECT $1, p.seq, p.kind, p.amount, p.currency, p.status, p.requested_by, p.requested_at, p.decided_by, p.decided_at
       FROM jsonb_to_recordset($2::jsonb) AS p (seq integer, kind text, amount numeric, currency text, status text,
                                                requested_by text, requested_at timestamptz, decided_by text, decided_at timestamptz)
     ON CONFLICT (case_id, seq) DO UPDATE
        SET status = EXCLUDED.status,
            decided_by = COALESCE(EXCLUDED.decided_by, reward_payments.decided_by),
            decided_at = COALESCE(EXCLUDED.decided_at, reward_payments.decided_at),
            updated_at = now()
      WHERE ${paymentRank('reward_payments.status')} < ${paymentRank('EXCLUDED.status')}`,
    [caseId, JSON.stringify(rows)],
  );
}

// ---- The development gateway's payments ----

export interface GatewayPaymentRecord {
  idempotencyKey: string;
  amount: number;
  currency: string;
  payeeRef: string;
  payeeMethod: PayeeMethod;
  payeeAccount: string;
  status: 'paid' | 'claimable';
}

/** Record a payment at the development gateway; its id, or undefined when the key was paid before. */
export async function insertGatewayPayment(pool: Pool, p: GatewayPaymentRecord): Promise<string | undefined> {
  const { rows } = await pool.query<{ id: string }>(
    `INSERT INTO gateway_payments (idempotency_key, amount, currency, payee_ref, payee_method, payee_account, status)
     VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (idempotency_key) DO NOTHING RETURNING id`,
    [p.idempotencyKey, p.amount, p.currency, p.payeeRef, p.payeeMethod, p.payeeAccount, p.status],
  );
  return rows[0]?.id;
}

/** The development gateway's earlier payment of a key. */
export async function getGatewayPayment(
  pool: Pool,
  idempotencyKey: string,
): Promise<{ id: string; amount: number; currency: string; status: 'paid' | 'claimable' }> {
  const { rows } = await pool.query<{ id: string; amount: string; currency: string; status: 'paid' | 'claimable' }>(
    `SELECT id, amount, currency, status FROM gateway_payments WHERE idempotency_key = $1`,
    [idempotencyKey],
  );
  const first = rows[0];
  const status = first.status === 'claimable' ? 'claimable' : 'paid';
  return { id: first.id, amount: Number(first.amount), currency: first.currency, status };
}

/** One page of the cases that have a reward (one payee per reward), newest first, and how many there are; `divisionPrefixes` a supervisor's. */
export async function listRewardCases(
  pool: Pool,
  f: { limit: number; offset: number; divisionPrefixes?: string[] },
): Promise<{ total: number; items: Array<{ caseId: string; createdAt: string }> }> {
  const from = `FROM reward_payees p JOIN cases c ON c.case_id = p.case_id WHERE ($1::text[] IS NULL OR c.division_code LIKE ANY($1))`;
  const scope = f.divisionPrefixes?.map((d) => `${d}%`) ?? null;
  const [{ rows }, count] = await Promise.all([
    pool.query<{ case_id: string; created_at: Date }>(
      `SELECT p.case_id, p.created_at ${from} ORDER BY p.created_at DESC, p.case_id LIMIT $2 OFFSET $3`,
      [scope, f.limit, f.offset],
    ),
    pool.query<{ n: string }>(`SELECT count(*) AS n ${from}`, [scope]),
  ]);
  return { total: Number(count.rows[0].n), items: rows.map((r) => ({ caseId: r.case_id, createdAt: r.created_at.toISOString() })) };
}
