/**
 * The reward workflow's contract (workflows/reward.ts): its messages, id function, input and output
 * types. No workflow code: the API and tests import this module, never the workflow.
 */
import { defineQuery, defineUpdate } from '@temporalio/workflow';
import type { Actor } from '../../domain/case';
import type { HolidayCalendar } from '../../domain/calendar';
import type { Confirmation, PaymentApproval, PreliminaryCheck } from '../../domain/governance';
import type { RewardPolicy, ViolationSeverity } from '../../domain/governance-policy';

export { rewardWorkflowId } from '../../domain/governance';
export { INVALID_TRANSITION } from './errors';

/** The workflow type, as registered by the worker. */
export const REWARD_WORKFLOW = 'rewardWorkflow';

/** The payment activity's failure type when the gateway refuses a payment for good: not retried, the payment fails. */
export const PAYMENT_REJECTED = 'PaymentRejected';

export interface RewardInput {
  caseId: string;
  /** Opaque; resolved to an account only by the payment activity. */
  payeeRef: string;
  policy: RewardPolicy;
  calendar: HolidayCalendar;
  createdBy: Actor;
}

export type PaymentStatus = 'awaiting_approval' | 'approved' | 'paid' | 'rejected' | 'failed';

export interface RewardPayment {
  seq: number;
  kind: 'instant' | 'tiered';
  amount: number;
  currency: string;
  status: PaymentStatus;
  idempotencyKey: string;
  requestedAt: number;
  /** Who made the finding that called for this payment (may not approve it). */
  requestedBy: string;
  decidedBy?: string;
  decidedAt?: number;
  decisionNote?: string;
  paidAt?: number;
  gatewayRef?: string;
  /** A claim-code payment waits for the reporter to claim it at the gateway. */
  claimable?: boolean;
  failure?: string;
}

export type RewardStatus = 'awaiting_preliminary_check' | 'awaiting_confirmation' | 'settling' | 'completed' | 'rejected';

export interface RewardView {
  caseId: string;
  status: RewardStatus;
  currency: string;
  preliminaryCheck?: { passed: boolean; by: string; at: string; note?: string };
  confirmation?: {
    confirmed: boolean;
    severity?: ViolationSeverity;
    penaltyAmount?: number;
    by: string;
    at: string;
    note?: string;
    expired?: boolean;
  };
  /** When the finding now awaited is due; after it the reward ends with what was found. */
  decisionDueAt?: string;
  payments: Array<
    Omit<RewardPayment, 'requestedAt' | 'decidedAt' | 'paidAt'> & { requestedAt: string; decidedAt?: string; paidAt?: string }
  >;
  totalPaid: number;
}

export const rewardStatusQuery = defineQuery<RewardView>('rewardStatus');
export const recordPreliminaryCheckUpdate = defineUpdate<RewardView, [PreliminaryCheck]>('recordPreliminaryCheck');
export const confirmViolationUpdate = defineUpdate<RewardView, [Confirmation]>('confirmViolation');
export const approvePaymentUpdate = defineUpdate<RewardView, [PaymentApproval]>('approvePayment');

/** The workflow's signature, for starting it by type name without importing its implementation. */
export type RewardWorkflow = (input: RewardInput) => Promise<RewardView>;
