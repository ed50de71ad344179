import type { Duration } from './calendar';
import type { GovernancePolicy } from './schemas/governance-policy';

// Inferred from the schemas (domain/schemas/governance-policy.ts); type-only, so no zod in the workflow bundle.
export type {
  BacklogPolicy,
  CampaignPolicy,
  GovernancePolicy,
  GovernanceSchedule,
  RewardPolicy,
  ViolationSeverity,
} from './schemas/governance-policy';

/**
 * Rewards for reporting, backlog cases and campaigns (issue: supervision). Part of the policy
 * document (domain/policy.ts). Every amount, threshold, window and schedule of the concentrated
 * governance lives here; workflows receive the section they need as a snapshot at start.
 */

const days = (amount: number): Duration => ({ amount, unit: 'days' });
const hours = (amount: number): Duration => ({ amount, unit: 'hours' });

/** How severe a confirmed violation is; each severity has its reward tier. */
export const violationSeverities = ['general', 'serious', 'major'] as const;
export const defaultGovernancePolicy: GovernancePolicy = {
  rewards: {
    currency: 'CNY',
    instant: 200,
    tiers: {
      general: { penaltyShare: 0.01, minimum: 500 },
      serious: { penaltyShare: 0.02, minimum: 2_000 },
      major: { penaltyShare: 0.05, minimum: 5_000 },
    },
    cap: 10_000,
    approvalRequired: true,
    decisionWindow: days(365),
    payment: {
      attemptTimeoutSeconds: 30,
      initialIntervalSeconds: 1,
      backoffCoefficient: 2,
      maximumIntervalSeconds: 600,
      maximumAttempts: 0,
    },
  },
  backlog: {
    overdueDays: 90,
    reopenedAtLeast: 2,
    includeProvincialEscalations: true,
    assignWithin: days(7),
    clearingDeadline: days(180),
    reminderBefore: days(30),
    progressCheckInterval: days(1),
    resortWindowYears: 5,
    scanSchedule: { cron: '30 1 * * *', timeZone: 'Asia/Shanghai' },
    resortSchedule: { cron: '0 2 2 1 *', timeZone: 'Asia/Shanghai' },
  },
  campaigns: {
    tightenFactor: { default: 0.5, min: 0.2, max: 1 },
    minimumRemaining: hours(24),
    scanInterval: days(1),
    batchSize: 200,
    maxPeriod: days(366),
  },
};
