import { ApplicationFailure } from '@temporalio/common';
import type { Pool } from 'pg';
import { getReporter } from '../db/cases';
import {
  getGatewayPayment,
  getPayee,
  insertGatewayPayment,
  recordPaymentIntent,
  projectRewardPayments,
  recordPaymentPaid,
  type LedgerEntry,
  type ProjectedPayment,
  type PayeeMethod,
} from '../db/rewards';
import type { KeyRing } from '../runtime/encryption';
import { PAYMENT_REJECTED } from '../workflows/contracts/reward';
import type { ActivityDeps } from './index';

/**
 * Reward payments. The reward workflow knows a reporter only by an opaque payee reference; the
 * reference is resolved to an account here, inside the payment activity, and handed to the
 * gateway. Every payment carries an idempotency key (workflow id + payment seq): the gateway pays a
 * key once, and the ledger keeps one row per key, so a retried activity never pays twice.
 */

/** The reward activities, bound to their dependencies: the development gateway when none is given. */
export function rewardActivities(pool: Pool, deps: Pick<ActivityDeps, 'paymentGateway' | 'reporterKeys'>) {
  const gateway = deps.paymentGateway ?? new DevPaymentGateway(pool);
  return {
    payReward: (input: PayRewardInput) => payReward(pool, gateway, deps.reporterKeys, input),
    /** The reward's changed payments into the read model (`reward_payments`): idempotent, never moves a payment back. */
    projectRewardPayments: (input: RewardPaymentsProjection) => projectRewardPayments(pool, input.caseId, input.payments),
  };
}

/** What the reward workflow projects: the payments of its case whose status changed since its last projection. */
export interface RewardPaymentsProjection {
  caseId: string;
  payments: ProjectedPayment[];
}

export interface PayeeAccount {
  /** The opaque reference the workflow carries. */
  reference: string;
  /** `reporter_contact`: pay to the reporter's registered contact; `claim_code`: a voucher the reporter claims with a code. */
  method: PayeeMethod;
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
    const { payee } = request;
    const id = await insertGatewayPayment(this.pool, {
      idempotencyKey: request.idempotencyKey,
      amount: request.amount,
      currency: request.currency,
      payeeRef: payee.reference,
      payeeMethod: payee.method,
      payeeAccount: payee.account,
      status,
    });
    let receipt: PaymentReceipt;
    if (id) {
      receipt = { gatewayRef: `dev-${id}`, status, replayed: false };
    } else {
      const first = await getGatewayPayment(this.pool, request.idempotencyKey);
      if (first.amount !== request.amount || first.currency !== request.currency) {
        throw new PaymentRejected(`idempotency key ${request.idempotencyKey} was already used for ${first.amount} ${first.currency}`);
      }
      receipt = { gatewayRef: `dev-${first.id}`, status: first.status, replayed: true };
    }
    await this.options.afterRecord?.(request, receipt);
    return receipt;
  }
}

/** One payment of a reward, as its ledger row records it. */
export type PayRewardInput = LedgerEntry;

export interface PayRewardResult {
  gatewayRef: string;
  status: 'paid' | 'claimable';
  paidAt: number;
}

/** Resolve a payee reference to the account the gateway pays. Only the payment activity calls this. */
export async function resolvePayee(pool: Pool, reporterKeys: KeyRing | undefined, payeeRef: string): Promise<PayeeAccount> {
  const row = await getPayee(pool, payeeRef);
  if (!row) throw new PaymentRejected(`unknown payee reference ${payeeRef}`);
  if (row.method === 'claim_code') return { reference: payeeRef, method: 'claim_code', account: `claim:${row.claimCodeHash}` };
  // Retried until the worker has the key ring: a payment is delayed, never sent to a guess.
  if (!reporterKeys) throw new Error('paying a reporter needs the reporter ring (ActivityDeps.reporterKeys) to read their contact');
  const reporter = await getReporter(pool, reporterKeys, row.caseId);
  const contact = reporter?.phone ?? reporter?.email;
  if (!contact) throw new PaymentRejected(`payee ${payeeRef} has no contact to pay to`);
  return { reference: payeeRef, method: 'reporter_contact', account: contact };
}

/**
 * Pay one reward payment: record the intent in the ledger, pay through the gateway with the
 * payment's idempotency key, complete the ledger row. Safe to run any number of times.
 */
export async function payReward(
  pool: Pool,
  gateway: PaymentGateway,
  reporterKeys: KeyRing | undefined,
  input: PayRewardInput,
): Promise<PayRewardResult> {
  await recordPaymentIntent(pool, input);
  let receipt: PaymentReceipt;
  try {
    const payee = await resolvePayee(pool, reporterKeys, input.payeeRef);
    receipt = await gateway.pay({ idempotencyKey: input.idempotencyKey, amount: input.amount, currency: input.currency, payee });
  } catch (err) {
    if (err instanceof PaymentRejected) throw ApplicationFailure.nonRetryable(err.message, PAYMENT_REJECTED);
    throw err;
  }
  const paidAt = await recordPaymentPaid(pool, input.idempotencyKey, receipt.gatewayRef);
  return { gatewayRef: receipt.gatewayRef, status: receipt.status, paidAt };
}
