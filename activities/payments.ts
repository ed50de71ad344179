import { createHash, randomUUID } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/common';
import type { Pool } from 'pg';
import { getReporter } from '../db/cases';
import type { KeyRing } from '../runtime/encryption';

/**
 * Reward payments. The reward workflow knows a reporter only by an opaque payee reference; the
 * reference is resolved to an account here, inside the payment activity, and handed to the
 * gateway. Every payment carries an idempotency key (workflow id + payment seq): the gateway pays a
 * key once, and the ledger keeps one row per key, so a retried activity never pays twice.
 */

export interface PayeeAccount {
  /** The opaque reference the workflow carries. */
  reference: string;
  /** `reporter_contact`: pay to the reporter's registered contact; `claim_code`: a voucher the reporter claims with a code. */
  method: 'reporter_contact' | 'claim_code';
  /** What the gateway pays to (a phone number or e-mail, or the claim code's hash). */
  account: string;
}

export interface PaymentRequest {
  idempotencyKey: string;
  amount: number;
  currency: string;
  payee: PayeeAccount;
}

export interface PaymentReceipt {
  gatewayRef: string;
  status: 'paid' | 'claimable';
  /** True when the key had been paid before: this call paid nothing. */
  replayed: boolean;
}

export interface PaymentGateway {
  pay(request: PaymentRequest): Promise<PaymentReceipt>;
}

/** The gateway refused the payment for good (not a transient failure): retrying cannot help. */
export class PaymentRejected extends Error {
  override readonly name = 'PaymentRejected';
}

export interface DevPaymentGatewayOptions {
  /** Tests only: called after the payment is recorded at the gateway and before `pay` returns (to crash a worker mid-payment). */
  afterRecord?: (request: PaymentRequest, receipt: PaymentReceipt) => Promise<void>;
}

/**
 * The development gateway: keeps its payments in its own table, `gateway_payments`, whose UNIQUE
 * idempotency key makes a repeated request return the first payment instead of paying again.
 */
export class DevPaymentGateway implements PaymentGateway {
  constructor(
    private readonly pool: Pool,
    private readonly options: DevPaymentGatewayOptions = {},
  ) {}

  async pay(request: PaymentRequest): Promise<PaymentReceipt> {
    const status = request.payee.method === 'claim_code' ? 'claimable' : 'paid';
    const inserted = await this.pool.query<{ id: string }>(
      `INSERT INTO gateway_payments (idempotency_key, amount, currency, payee_ref, payee_method, payee_account, status)
       VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (idempotency_key) DO NOTHING RETURNING id`,
      [request.idempotencyKey, request.amount, request.currency, request.payee.reference, request.payee.method, request.payee.account, status],
    );
    let receipt: PaymentReceipt;
    if (inserted.rows[0]) {
      receipt = { gatewayRef: `dev-${inserted.rows[0].id}`, status, replayed: false };
    } else {
      const { rows } = await this.pool.query<{ id: string; amount: string; currency: string; status: 'paid' | 'claimable' }>(
        `SELECT id, amount, currency, status FROM gateway_payments WHERE idempotency_key = $1`,
        [request.idempotencyKey],
      );
      const first = rows[0];
      if (Number(first.amount) !== request.amount || first.currency !== request.currency) {
        throw new PaymentRejected(`idempotency key ${request.idempotencyKey} was already used for ${first.amount} ${first.currency}`);
      }
      receipt = { gatewayRef: `dev-${first.id}`, status: first.status === 'claimable' ? 'claimable' : 'paid', replayed: true };
    }
    await this.options.afterRecord?.(request, receipt);
    return receipt;
  }
}

export interface PayRewardInput {
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

export interface PayRewardResult {
  gatewayRef: string;
  status: 'paid' | 'claimable';
  paidAt: number;
}

/** Resolve a payee reference to the account the gateway pays. Only the payment activity calls this. */
export async function resolvePayee(pool: Pool, keyRing: KeyRing | undefined, payeeRef: string): Promise<PayeeAccount> {
  const { rows } = await pool.query<{ case_id: string; method: PayeeAccount['method']; claim_code_hash: string | null }>(
    `SELECT case_id, method, claim_code_hash FROM reward_payees WHERE payee_ref = $1`,
    [payeeRef],
  );
  const row = rows[0];
  if (!row) throw new PaymentRejected(`unknown payee reference ${payeeRef}`);
  if (row.method === 'claim_code') return { reference: payeeRef, method: 'claim_code', account: `claim:${row.claim_code_hash}` };
  // Retried until the worker has the key ring: a payment is delayed, never sent to a guess.
  if (!keyRing) throw new Error('paying a reporter needs the key ring (ActivityDeps.keyRing) to read their contact');
  const reporter = await getReporter(pool, keyRing, row.case_id);
  const contact = reporter?.phone ?? reporter?.email;
  if (!contact) throw new PaymentRejected(`payee ${payeeRef} has no contact to pay to`);
  return { reference: payeeRef, method: 'reporter_contact', account: contact };
}

/**
 * Pay one reward payment: record the intent in the ledger, pay through the gateway with the
 * payment's idempotency key, complete the ledger row. Safe to run any number of times.
 */
export async function payReward(pool: Pool, gateway: PaymentGateway, keyRing: KeyRing | undefined, input: PayRewardInput): Promise<PayRewardResult> {
  await pool.query(
    `INSERT INTO reward_ledger (idempotency_key, case_id, workflow_id, payment_seq, kind, amount, currency, payee_ref, approved_by, status)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'initiated') ON CONFLICT (idempotency_key) DO NOTHING`,
    [input.idempotencyKey, input.caseId, input.workflowId, input.seq, input.kind, input.amount, input.currency, input.payeeRef, input.approvedBy ?? null],
  );
  let receipt: PaymentReceipt;
  try {
    const payee = await resolvePayee(pool, keyRing, input.payeeRef);
    receipt = await gateway.pay({ idempotencyKey: input.idempotencyKey, amount: input.amount, currency: input.currency, payee });
  } catch (err) {
    if (err instanceof PaymentRejected) throw ApplicationFailure.nonRetryable(err.message, 'PaymentRejected');
    throw err;
  }
  const { rows } = await pool.query<{ paid_at: Date }>(
    `UPDATE reward_ledger SET status = 'paid', gateway_ref = $2, paid_at = COALESCE(paid_at, now())
      WHERE idempotency_key = $1 RETURNING paid_at`,
    [input.idempotencyKey, receipt.gatewayRef],
  );
  return { gatewayRef: receipt.gatewayRef, status: receipt.status, paidAt: rows[0].paid_at.getTime() };
}

/** A new payee reference (opaque; says nothing about the reporter). */
export function newPayeeRef(): string {
  return `payee-${randomUUID()}`;
}

export function hashClaimCode(code: string): string {
  return createHash('sha256').update(code.trim().toUpperCase()).digest('hex');
}
