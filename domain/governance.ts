import { z } from 'zod';
import { text, type Actor, type Clock } from './case';
import { addDuration, durationMs, pointBetween, type HolidayCalendar } from './calendar';
import { categorySchema } from './policy';
import {
  violationSeveritySchema,
  type BacklogPolicy,
  type CampaignPolicy,
  type RewardPolicy,
  type ViolationSeverity,
} from './governance-policy';

/**
 * Rewards for reporting, backlog cases and campaigns: the messages their workflows take (validated
 * at the API edge too) and the arithmetic they do, as pure functions of the policy. Plain JSON only;
 * this module runs inside the workflow sandbox.
 */

const divisionPrefix = z.string().regex(/^\d{2,6}$/, 'a division code or prefix (2 to 6 digits)');

// ---- Rewards ----

export function rewardWorkflowId(caseId: string): string {
  return `reward-${caseId}`;
}

/** The gateway's idempotency key of one payment: the same on every retry, different for every payment. */
export function paymentIdempotencyKey(workflowId: string, seq: number): string {
  return `${workflowId}:payment:${seq}`;
}

/** The tiered reward for a confirmed violation: the tier's share of the penalty, at least its minimum, at most the cap. */
export function tieredReward(policy: RewardPolicy, severity: ViolationSeverity, penaltyAmount = 0): number {
  const tier = policy.tiers[severity];
  const amount = Math.max(tier.minimum, Math.round(penaltyAmount * tier.penaltyShare * 100) / 100);
  return Math.min(amount, policy.cap);
}

// The bodies of the reward's findings and decisions, as the API takes them; the workflow receives them with the actor.

export const preliminaryCheckBodySchema = z.strictObject({
  /** Whether the preliminary check found the report true (a violation is plausible). */
  passed: z.boolean(),
  note: text(2000).optional(),
});
export const confirmationBodySchema = z.discriminatedUnion('confirmed', [
  z.strictObject({
    confirmed: z.literal(true),
    severity: violationSeveritySchema,
    /** The penalty imposed for the violation, when known; the tier pays a share of it. */
    penaltyAmount: z.number().nonnegative().max(1e10).optional(),
    note: text(2000).optional(),
  }),
  z.strictObject({ confirmed: z.literal(false), note: text(2000).optional() }),
]);
export const paymentApprovalBodySchema = z.strictObject({
  decision: z.enum(['approved', 'rejected']),
  note: text(2000).optional(),
});
export type PreliminaryCheck = z.infer<typeof preliminaryCheckBodySchema> & { actor: Actor };
export type Confirmation = z.infer<typeof confirmationBodySchema> & { actor: Actor };
export type PaymentApproval = z.infer<typeof paymentApprovalBodySchema> & { actor: Actor; seq: number };

// ---- Backlog ----

export function backlogWorkflowId(caseId: string, year: number): string {
  return `backlog-${caseId}-${year}`;
}

/**
 * The statuses of a backlog listing: the one vocabulary of the table, the listing's workflow and the
 * API. `relisted` and `aged_out` are set by a yearly sort, which takes the listing over.
 */
export const backlogStatuses = ['listed', 'assigned', 'overdue', 'cleared', 'relisted', 'aged_out'] as const;
export type BacklogStatus = (typeof backlogStatuses)[number];

/** A listing in these statuses is still being worked on: its leaders act and its deadline runs. */
export const activeBacklogStatuses: readonly BacklogStatus[] = ['listed', 'assigned', 'overdue'];

/** A listing is finished once cleared or taken over by a yearly sort. */
export function backlogListingFinished(status: BacklogStatus): boolean {
  return !activeBacklogStatuses.includes(status);
}

export type BacklogSweepKind = 'scan' | 'yearly';

/** What happens to a backlog listing over time; each is recorded in its row and notified (once per key). */
export type BacklogMilestone =
  | { kind: 'assigned'; version: number; systemLeader: Leader; territorialLeader: Leader; assignedBy: string; clearingDueAt: number }
  | { kind: 'assignment_reminder' }
  | { kind: 'clearing_reminder'; version: number; clearingDueAt: number }
  | { kind: 'overdue'; version: number; clearingDueAt: number }
  | { kind: 'cleared' };

/** The local calendar year (in the calendar's UTC offset) of an instant. */
export function localYear(epochMs: number, calendar: Pick<HolidayCalendar, 'utcOffsetMinutes'>): number {
  return new Date(epochMs + calendar.utcOffsetMinutes * 60_000).getUTCFullYear();
}

const leaderSchema = z.object({ id: text(200), name: text(200), organisation: text(200) });
export const assignLeadersBodySchema = z.strictObject({
  /** The leader from the environment system. */
  systemLeader: leaderSchema,
  /** The leader from the local (territorial) government. */
  territorialLeader: leaderSchema,
  /** Defaults to the policy's clearing deadline from now. */
  clearingDueAt: z.iso.datetime({ offset: true }).optional(),
  note: text(2000).optional(),
});
export type Leader = z.infer<typeof leaderSchema>;
export type AssignLeaders = z.infer<typeof assignLeadersBodySchema> & { actor: Actor };

/** What a backlog workflow needs of the policy: its section and the calendar it counts in. */
export interface BacklogSettings {
  backlog: BacklogPolicy;
  calendar: HolidayCalendar;
}

/** The clearing deadline of a backlog case whose leaders are assigned at `assignedAt`. */
export function clearingDueAt(assignedAt: number, settings: BacklogSettings): number {
  return addDuration(assignedAt, settings.backlog.clearingDeadline, settings.calendar);
}

/** When the leaders are reminded of a clearing deadline: `reminderBefore` ahead of it, never before the assignment. */
export function clearingReminderAt(assignedAt: number, dueAt: number, settings: BacklogSettings): number {
  return Math.max(assignedAt, dueAt - durationMs(settings.backlog.reminderBefore));
}

// ---- Campaigns ----

export function campaignWorkflowId(campaignId: string): string {
  return `campaign-${campaignId}`;
}

/** What a campaign asks of the policy's limits: its period, and a tightening (a factor or a date). Epoch ms. */
export interface CampaignRequest {
  period?: { from: number; to: number };
  factor?: number;
  dueBy?: number;
}

/**
 * Why the policy refuses a campaign's period or tightening at `now`, or undefined when it is within
 * the limits. The one place the limits are decided: the campaign routes and the campaign workflow ask it.
 */
export function campaignLimitBreach(policy: CampaignPolicy, request: CampaignRequest, now: number): string | undefined {
  const { period, factor, dueBy } = request;
  if (period && period.to <= now) return 'The period must end in the future.';
  if (period && period.to - period.from > durationMs(policy.maxPeriod)) {
    return `The period may be at most ${policy.maxPeriod.amount} ${policy.maxPeriod.unit} (policy).`;
  }
  const { min, max } = policy.tightenFactor;
  if (factor !== undefined && (factor < min || factor > max)) return `The factor must be from ${min} to ${max} (policy).`;
  if (dueBy !== undefined && dueBy <= now) return 'The tightened date must be in the future.';
  return undefined;
}

export const campaignCriteriaSchema = z.object({
  categories: z.array(categorySchema).min(1).max(10),
  /** Division codes or prefixes ("37" a province, "3701" a city). */
  divisions: z.array(divisionPrefix).min(1).max(200),
  /** A case matches when its title or description contains any of them (none: every case of the categories and divisions). */
  keywords: z.array(text(100)).max(50).default([]),
});
export type CampaignCriteria = z.infer<typeof campaignCriteriaSchema>;

export const tightenBodySchema = z
  .strictObject({
    /** Multiply each tagged case's current handling or rework period by this factor... */
    factor: z.number().gt(0).max(1).optional(),
    /** ...or move it to this date at the latest. */
    dueBy: z.iso.datetime({ offset: true }).optional(),
    reason: text(2000),
  })
  .refine((t) => (t.factor === undefined) !== (t.dueBy === undefined), { message: 'give either factor or dueBy' });
export type Tighten = z.infer<typeof tightenBodySchema> & { actor: Actor };

/** Sent to a complaint workflow: move its current handle/rework deadline earlier. Applied once per key. */
export interface DeadlineTightening {
  /** Campaign id and tightening version: a repeated signal with the same key changes nothing. */
  key: string;
  campaignId: string;
  factor?: number;
  /** Epoch ms. */
  dueBy?: number;
  /** The new deadline is never closer to the moment of tightening than this. */
  minimumRemainingMs: number;
  reason: string;
  actor: Actor;
}

/**
 * The clock after a tightening, or undefined when it does not move it earlier: the period from the
 * clock's start is multiplied by the factor (or cut at `dueBy`), never to less than
 * `minimumRemainingMs` from now. The warning is re-armed if its new point is still ahead.
 */
export function tightenClock(
  clock: Clock,
  t: Pick<DeadlineTightening, 'factor' | 'dueBy' | 'minimumRemainingMs'>,
  now: number,
  warningAt: number,
): Clock | undefined {
  if (clock.kind !== 'handle' && clock.kind !== 'rework') return undefined;
  const target = t.factor !== undefined ? clock.startedAt + Math.round((clock.dueAt - clock.startedAt) * t.factor) : t.dueBy;
  if (target === undefined) return undefined;
  const dueAt = Math.max(target, now + t.minimumRemainingMs);
  if (dueAt >= clock.dueAt) return undefined;
  const warnAt = pointBetween(clock.startedAt, dueAt, warningAt);
  return { ...clock, dueAt, warned: now >= warnAt ? clock.warned : false };
}

/** The two windows a campaign's result compares: complaints received just before it and in its (last) window. */
export function comparisonWindows(
  period: { from: number; to: number },
  policy: CampaignPolicy,
): {
  before: { from: number; to: number };
  during: { from: number; to: number };
} {
  const length = period.to - period.from;
  const window = Math.min(length, policy.comparisonWindow ? durationMs(policy.comparisonWindow) : length);
  return { before: { from: period.from - window, to: period.from }, during: { from: period.to - window, to: period.to } };
}

/** Relative change from `before` to `during` (-0.2 = 20% fewer); undefined when there was nothing before. */
export function relativeChange(before: number, during: number): number | undefined {
  return before === 0 ? undefined : Math.round(((during - before) / before) * 10_000) / 10_000;
}
