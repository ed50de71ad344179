import {
  ActivityFailure,
  ApplicationFailure,
  allHandlersFinished,
  condition,
  log,
  patched,
  proxyActivities,
  proxyLocalActivities,
  setCurrentDetails,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { createActivities } from '../activities';
import { PROJECTION_ACTIVITY_OPTIONS } from './contracts/projection';
import type { Actor } from '../domain/case';
import { addDuration } from '../domain/calendar';
import { paymentIdempotencyKey, tieredReward } from '../domain/governance';
import type { ViolationSeverity } from '../domain/governance-policy';
import { iso } from '../domain/instant';
import { detailLines } from '../domain/workflow-summaries';
import { INVALID_TRANSITION } from './contracts/errors';
import {
  PAYMENT_REJECTED,
  approvePaymentUpdate,
  confirmViolationUpdate,
  recordPreliminaryCheckUpdate,
  rewardStatusQuery,
  type PaymentStatus,
  type RewardInput,
  type RewardPayment,
  type RewardStatus,
  type RewardView,
} from './contracts/reward';

/**
 * The reward for one report (workflow id `reward-<caseId>`): a small instant reward once the
 * preliminary check finds the report true, a tiered reward (capped by the policy) once a violation
 * is confirmed, each paid only after a supervisor's approval, through the payment gateway with an
 * idempotency key (workflow id + payment seq) so that a retried payment is never paid twice.
 *
 * The workflow knows the reporter only by an opaque payee reference: their identity is resolved
 * inside the payment activity and never enters this history, nor anything a handling unit sees.
 */

const SYSTEM: Actor = { id: 'ecoloop', role: 'system' };

/**
 * Patch id: the payments are projected into the read model (`reward_payments`, the supervisor's
 * inbox) whenever one is requested, decided, paid or failed, by a local activity in the workflow task
 * that changed them; a finding or an approval answers once its payments are projected. Rewards
 * started before it project nothing, and replay unchanged.
 */
export const PROJECT_REWARD_PAYMENTS = 'project-reward-payments';

/** The payments' projection, as a local activity: never given up (a database outage only delays it), as the complaint's projection. */
const projectRewardPaymentsFor = (summary: string) =>
  proxyLocalActivities<ReturnType<typeof createActivities>>({ ...PROJECTION_ACTIVITY_OPTIONS, summary }).projectRewardPayments;

export async function rewardWorkflow(input: RewardInput): Promise<RewardView> {
  const { policy } = input;
  const workflowId = workflowInfo().workflowId;
  // One proxy per payment: its summary names the payment in the Temporal UI.
  const payRewardFor = (p: RewardPayment) =>
    proxyActivities<ReturnType<typeof createActivities>>({
      summary: `pay the ${p.kind} reward (payment ${p.seq}: ${p.amount} ${p.currency})`,
      startToCloseTimeout: `${policy.payment.attemptTimeoutSeconds} seconds`,
      retry: {
        initialInterval: `${policy.payment.initialIntervalSeconds} seconds`,
        backoffCoefficient: policy.payment.backoffCoefficient,
        maximumInterval: `${policy.payment.maximumIntervalSeconds} seconds`,
        ...(policy.payment.maximumAttempts > 0 && { maximumAttempts: policy.payment.maximumAttempts }),
        nonRetryableErrorTypes: [PAYMENT_REJECTED],
      },
    }).payReward;

  let status: RewardStatus = 'awaiting_preliminary_check';
  let preliminary: { passed: boolean; by: string; at: number; note?: string } | undefined;
  let confirmation:
    | { confirmed: boolean; severity?: ViolationSeverity; penaltyAmount?: number; by: string; at: number; note?: string; expired?: boolean }
    | undefined;
  const payments: RewardPayment[] = [];
  let decisionDueAt = addDuration(Date.now(), policy.decisionWindow, input.calendar);
  let version = 0;
  const projectsPayments = patched(PROJECT_REWARD_PAYMENTS);
  /** Each payment's status as last sent to the read model, by seq. */
  const projectedStatus: Record<number, PaymentStatus> = {};

  function view(): RewardView {
    return {
      caseId: input.caseId,
      status,
      currency: policy.currency,
      preliminaryCheck: preliminary && { ...preliminary, at: iso(preliminary.at)! },
      confirmation: confirmation && { ...confirmation, at: iso(confirmation.at)! },
      decisionDueAt: status === 'awaiting_preliminary_check' || status === 'awaiting_confirmation' ? iso(decisionDueAt) : undefined,
      payments: payments.map((p) => ({ ...p, requestedAt: iso(p.requestedAt)!, decidedAt: iso(p.decidedAt), paidAt: iso(p.paidAt) })),
      totalPaid: payments.filter((p) => p.status === 'paid').reduce((sum, p) => sum + p.amount, 0),
    };
  }

  function reject(message: string): never {
    throw ApplicationFailure.create({ type: INVALID_TRANSITION, message, nonRetryable: true, details: [{ status }] });
  }

  /** The current details the Temporal UI shows: status, the decision deadline, the payments. */
  function showDetails(): void {
    const v = view();
    setCurrentDetails(
      detailLines([
        ['Status', v.status.replace(/_/g, ' ')],
        ['Decision due', v.decisionDueAt],
        ['Payments', v.payments.map((p) => `${p.seq} ${p.kind} ${p.amount} ${p.currency} ${p.status.replace(/_/g, ' ')}`).join('; ')],
        ['Paid', `${v.totalPaid} ${v.currency}`],
      ]),
    );
  }

  /**
   * Send the payments whose status changed since they were last sent (none: no command). Marked as
   * sent before the activity runs, so that a concurrent call (a handler and the main loop) does not
   * send them again; the write is idempotent and never moves a payment back, whatever the order.
   */
  async function projectPayments(): Promise<void> {
    const changed = payments.filter((p) => projectedStatus[p.seq] !== p.status);
    if (!changed.length) return;
    for (const p of changed) projectedStatus[p.seq] = p.status;
    const summary = `project the payments: ${changed.map((p) => `${p.seq} ${p.status.replace(/_/g, ' ')}`).join(', ')}`;
    await projectRewardPaymentsFor(summary)({
      caseId: input.caseId,
      payments: changed.map((p) => ({
        seq: p.seq,
        kind: p.kind,
        amount: p.amount,
        currency: p.currency,
        status: p.status,
        requestedBy: p.requestedBy,
        requestedAt: p.requestedAt,
        decidedBy: p.decidedBy,
        decidedAt: p.decidedAt,
      })),
    });
  }

  /** An update's answer: once its payments are in the read model (the caller's next read of the inbox shows them); before the patch, at once. */
  function answer(): RewardView | Promise<RewardView> {
    return projectsPayments ? projectPayments().then(() => view()) : view();
  }

  function requestPayment(kind: RewardPayment['kind'], amount: number, requestedBy: Actor) {
    if (amount <= 0) return;
    const seq = payments.length + 1;
    const payment: RewardPayment = {
      seq,
      kind,
      amount,
      currency: policy.currency,
      status: 'awaiting_approval',
      idempotencyKey: paymentIdempotencyKey(workflowId, seq),
      requestedAt: Date.now(),
      requestedBy: requestedBy.id,
    };
    if (!policy.approvalRequired) {
      Object.assign(payment, {
        status: 'approved',
        decidedBy: SYSTEM.id,
        decidedAt: Date.now(),
        decisionNote: 'no approval required by the policy',
      });
    }
    payments.push(payment);
  }

  setHandler(rewardStatusQuery, view);

  setHandler(
    recordPreliminaryCheckUpdate,
    (u) => {
      preliminary = { passed: u.passed, by: u.actor.id, at: Date.now(), ...(u.note && { note: u.note }) };
      if (u.passed) {
        status = 'awaiting_confirmation';
        decisionDueAt = addDuration(Date.now(), policy.decisionWindow, input.calendar);
        requestPayment('instant', policy.instant, u.actor);
      } else {
        status = 'rejected';
      }
      version++;
      return answer();
    },
    {
      validator: (_arg: unknown) => {
        if (status !== 'awaiting_preliminary_check') reject(`The preliminary check is already recorded (reward is '${status}').`);
      },
    },
  );

  setHandler(
    confirmViolationUpdate,
    (u) => {
      if (u.confirmed) {
        confirmation = {
          confirmed: true,
          severity: u.severity,
          penaltyAmount: u.penaltyAmount,
          by: u.actor.id,
          at: Date.now(),
          ...(u.note && { note: u.note }),
        };
        requestPayment('tiered', tieredReward(policy, u.severity, u.penaltyAmount), u.actor);
      } else {
        confirmation = { confirmed: false, by: u.actor.id, at: Date.now(), ...(u.note && { note: u.note }) };
      }
      status = 'settling';
      version++;
      return answer();
    },
    {
      validator: (_arg: unknown) => {
        if (status !== 'awaiting_confirmation')
          reject(`A violation can be confirmed only after a passed preliminary check (reward is '${status}').`);
      },
    },
  );

  setHandler(
    approvePaymentUpdate,
    (u) => {
      const payment = payments.find((p) => p.seq === u.seq)!;
      payment.status = u.decision;
      payment.decidedBy = u.actor.id;
      payment.decidedAt = Date.now();
      if (u.note) payment.decisionNote = u.note;
      version++;
      return answer();
    },
    {
      validator: (u) => {
        const payment = payments.find((p) => p.seq === u.seq);
        if (!payment) reject(`There is no payment ${u.seq}.`);
        if (payment.status !== 'awaiting_approval') reject(`Payment ${u.seq} is '${payment.status}', not awaiting approval.`);
        if (u.actor.role !== 'supervisor' && u.actor.role !== 'admin') reject('Only a supervisor approves a reward payment.');
        if (u.actor.id === payment.requestedBy) reject('Whoever made the finding may not approve its payment.');
      },
    },
  );

  async function payApproved(): Promise<void> {
    for (const p of payments) {
      if (p.status !== 'approved') continue;
      try {
        const receipt = await payRewardFor(p)({
          idempotencyKey: p.idempotencyKey,
          caseId: input.caseId,
          workflowId,
          seq: p.seq,
          kind: p.kind,
          amount: p.amount,
          currency: p.currency,
          payeeRef: input.payeeRef,
          approvedBy: p.decidedBy,
        });
        p.status = 'paid';
        p.paidAt = receipt.paidAt;
        p.gatewayRef = receipt.gatewayRef;
        if (receipt.status === 'claimable') p.claimable = true;
      } catch (err) {
        if (!(err instanceof ActivityFailure)) throw err;
        p.status = 'failed';
        p.failure = err.cause?.message ?? err.message;
        log.warn('reward payment failed for good', { caseId: input.caseId, seq: p.seq, failure: p.failure });
      }
      version++;
      if (projectsPayments) await projectPayments();
    }
  }

  const settled = () => payments.every((p) => p.status === 'paid' || p.status === 'rejected' || p.status === 'failed');
  const awaitingFinding = () => status === 'awaiting_preliminary_check' || status === 'awaiting_confirmation';

  for (;;) {
    showDetails();
    await payApproved();
    showDetails();
    if (status === 'rejected' && settled()) break;
    if (status === 'settling' && settled()) {
      status = 'completed';
      break;
    }
    const seen = version;
    const wake = () => version !== seen || payments.some((p) => p.status === 'approved');
    if (awaitingFinding()) {
      const summary = status === 'awaiting_preliminary_check' ? 'preliminary check deadline' : 'violation confirmation deadline';
      const changed = await condition(wake, Math.max(0, decisionDueAt - Date.now()), { summary });
      if (!changed && awaitingFinding()) {
        // The finding never came: end with what was found (an instant reward already requested stays payable).
        if (status === 'awaiting_preliminary_check') status = 'rejected';
        else {
          confirmation = {
            confirmed: false,
            by: SYSTEM.id,
            at: Date.now(),
            expired: true,
            note: 'no confirmation within the decision window',
          };
          status = 'settling';
        }
        version++;
      }
    } else {
      await condition(wake);
    }
  }
  await condition(allHandlersFinished);
  showDetails();
  return view();
}
