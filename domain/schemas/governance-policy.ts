import { z } from 'zod';
import { violationSeverities } from '../governance-policy';
import { durationSchema } from './calendar';

/** The schema of the governance section of the policy document (domain/governance-policy.ts). */

/** A length measured in plain time (minutes, hours or days): it is subtracted or compared, not counted in working days. */
const plainDurationSchema = durationSchema.refine((d) => d.unit !== 'working_days', {
  message: 'in minutes, hours or days, not working_days',
});
const money = z.number().nonnegative().max(10_000_000);
const fraction = z.number().gt(0).max(1);
/** A five-field cron expression (minute hour day-of-month month day-of-week), run in `timeZone`. */
const scheduleSchema = z.object({
  cron: z
    .string()
    .trim()
    .regex(/^\S+(\s+\S+){4}$/, 'a five-field cron expression'),
  timeZone: z.string().min(1),
});
export type GovernanceSchedule = z.infer<typeof scheduleSchema>;

export const violationSeveritySchema = z.enum(violationSeverities);
export type ViolationSeverity = z.infer<typeof violationSeveritySchema>;

const tierSchema = z.object({
  /** The reward is this share of the penalty imposed for the violation... */
  penaltyShare: z.number().min(0).max(1),
  /** ...but at least this much (also when no penalty is known). */
  minimum: money,
});

export const rewardPolicySchema = z.object({
  currency: z.string().regex(/^[A-Z]{3}$/),
  /** The small reward paid as soon as the preliminary check finds the report true. 0: none. */
  instant: money,
  /** The larger reward once a violation is confirmed, by severity; never more than `cap`. */
  tiers: z.object({ general: tierSchema, serious: tierSchema, major: tierSchema }),
  /** The most a confirmed violation's (tiered) reward may be. */
  cap: money,
  /** Every payment waits for a supervisor's approval (someone other than who asked for it). */
  approvalRequired: z.boolean(),
  /** How long a reward waits for each finding (the preliminary check, then the confirmation); then it ends with what was found. */
  decisionWindow: durationSchema,
  /** How a payment is attempted against the gateway. The gateway is idempotent by key, so a retry never pays twice. */
  payment: z.object({
    /** One attempt's limit; a worker that dies mid-payment is noticed after this long and the attempt retried. */
    attemptTimeoutSeconds: z.number().int().min(1).max(3600),
    initialIntervalSeconds: z.number().min(0.1).max(3600),
    backoffCoefficient: z.number().min(1).max(10),
    maximumIntervalSeconds: z.number().min(1).max(86_400),
    /** 0: retry until it succeeds (a payment is never silently dropped). */
    maximumAttempts: z.number().int().min(0).max(1000),
  }),
});
export type RewardPolicy = z.infer<typeof rewardPolicySchema>;

export const backlogPolicySchema = z.object({
  /** An open case whose deadline passed more than this many days ago is backlog. */
  overdueDays: z.number().int().positive().max(3650),
  /** An open case reopened at least this many times is backlog. */
  reopenedAtLeast: z.number().int().positive().max(100),
  /** Cases the escalation ladder took to the provincial step (event `backlog_listed`) are backlog. */
  includeProvincialEscalations: z.boolean(),
  /** Leaders are to be assigned within this period of listing; then a reminder goes to the supervisors. */
  assignWithin: durationSchema,
  /** The clearing deadline, from the assignment of the two leaders (unless they are given another date). */
  clearingDeadline: durationSchema,
  /** The leaders are reminded this long before the clearing deadline. */
  reminderBefore: plainDurationSchema,
  /** How often a listed case checks whether it has been cleared (its case closed). */
  progressCheckInterval: durationSchema,
  /** The yearly sort re-lists uncleared backlog received less than this many years ago. */
  resortWindowYears: z.number().int().positive().max(50),
  /** The daily scan that lists new backlog as it appears. */
  scanSchedule: scheduleSchema,
  /** The yearly sort. */
  resortSchedule: scheduleSchema,
});
export type BacklogPolicy = z.infer<typeof backlogPolicySchema>;

export const campaignPolicySchema = z.object({
  /** Tightening multiplies a case's current handling (or rework) period by a factor within these limits. */
  tightenFactor: z
    .object({ default: fraction, min: fraction, max: fraction })
    .refine((f) => f.min <= f.default && f.default <= f.max, { message: 'min <= default <= max' }),
  /** A tightened deadline is never less than this far from the moment it is tightened. */
  minimumRemaining: plainDurationSchema,
  /** How often a running campaign looks for new matching cases. */
  scanInterval: durationSchema,
  /** Cases tagged (or tightened) per activity call. */
  batchSize: z.number().int().min(1).max(1000),
  /** The longest a campaign's period may be. */
  maxPeriod: plainDurationSchema,
  /**
   * The before/after comparison counts the matching complaints received in the last `comparisonWindow`
   * of the period against the same length just before it. Absent: the whole period against the same
   * length before.
   */
  comparisonWindow: plainDurationSchema.optional(),
});
export type CampaignPolicy = z.infer<typeof campaignPolicySchema>;

export const governancePolicySchema = z.object({
  rewards: rewardPolicySchema,
  backlog: backlogPolicySchema,
  campaigns: campaignPolicySchema,
});
export type GovernancePolicy = z.infer<typeof governancePolicySchema>;
