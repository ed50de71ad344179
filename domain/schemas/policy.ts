import { z } from 'zod';
import { categories, defaultPolicy, urgencies } from '../policy';
import { analysisPolicySchema } from './analysis-policy';
import { durationSchema, holidayCalendarSchema } from './calendar';
import { governancePolicySchema } from './governance-policy';
import { supervisionPolicySchema } from './supervision-policy';

/**
 * The policy document's schema (domain/policy.ts holds the defaults): what a POLICY_FILE is checked
 * against. Never imported by workflow code.
 */

export const categorySchema = z.enum(categories);
export type Category = z.infer<typeof categorySchema>;
export const urgencySchema = z.enum(urgencies);
export type Urgency = z.infer<typeof urgencySchema>;
const fraction = z.number().gt(0).lt(1);
/** A delay after an event; unlike a period it may be zero ("at once"). */
const delaySchema = z.object({
  amount: z.number().nonnegative(),
  unit: z.enum(['minutes', 'hours', 'days', 'working_days']),
});

export const timeLimitsSchema = z.object({
  /** A case missing key information waits this long for the complainant's supplement. */
  supplement: durationSchema,
  /** Decide whether to accept, from receipt (or from the supplement). */
  accept: durationSchema,
  /** Handle and reply, from acceptance. */
  handle: durationSchema,
  /** The most that extensions may add to `handle`, in total. */
  maxExtension: durationSchema,
  /** Default deadline for rework after a reply is returned (review or callback). */
  rework: durationSchema,
  /** A warning fires at this fraction of every period (0.8 = after 80% of it has run). */
  warningAt: fraction,
  /** The escalation ladder, each step measured from the moment the deadline passed. */
  ladder: z.object({
    /** Supervision notice to the unit and its supervisor (level 1). */
    supervision: delaySchema,
    /** Escalation to the city government (level 2). */
    city: delaySchema,
    /** Provincial special inspection and the backlog list (level 3). */
    provincial: delaySchema,
  }),
  callback: z.object({
    attempts: z.number().int().min(1).max(20),
    /** Each attempt's window; an attempt with no answer by its end counts as unreachable. */
    spacing: durationSchema,
  }),
  /** The complainant may ask the next level for a review within this period of the closure. */
  reviewRequestWindow: durationSchema,
  /** The next level's review is due within this period of the request. */
  reviewDue: durationSchema,
  /** A closed case stays open to spot checks and reopening this long, then it is archived. */
  monitoringWindow: durationSchema,
});
export type TimeLimits = z.infer<typeof timeLimitsSchema>;

const partialLimitsSchema = timeLimitsSchema
  .extend({
    ladder: timeLimitsSchema.shape.ladder.partial(),
    callback: timeLimitsSchema.shape.callback.partial(),
  })
  .partial();
export type PartialTimeLimits = z.infer<typeof partialLimitsSchema>;

export const policySchema = z.object({
  /** Changes whenever any value changes; recorded on every case. */
  version: z.string().min(1),
  calendar: holidayCalendarSchema,
  /** Limits for normal cases of every category. */
  defaults: timeLimitsSchema,
  /** Overrides for urgent pollution incidents (hours, not days). Applied after category overrides. */
  urgent: partialLimitsSchema,
  /** Overrides per category. */
  categories: z.partialRecord(categorySchema, partialLimitsSchema).default({}),
  intake: z.object({
    /** A new complaint of the same category within this radius of an open case is its duplicate... */
    duplicateRadiusMeters: z.number().positive(),
    /** ...if that case was registered within this window. */
    duplicateWindow: durationSchema,
    /** A complaint about a site whose case closed within this window reopens that case. */
    recurrenceWindow: durationSchema,
    /** A complaint's `receivedAt` may lie at most this far in the past (a letter registered late)... */
    backdatingLimit: durationSchema,
    /** ...and at most this far in the future (the sender's clock running ahead). */
    clockSkew: durationSchema,
    /**
     * How a case that its unit declined (wrongly assigned) is counted when it goes back to the clerk:
     * `from_receipt` (the default) keeps the acceptance deadline that ran from its receipt, so a wrong
     * assignment is time lost against timely acceptance and the declined acceptance is no acceptance;
     * `from_decline` gives the clerk a fresh acceptance period from the decline.
     */
    declinedAssignment: z.enum(['from_receipt', 'from_decline']).optional(),
  }),
  /** Desk checks and on-site re-inspections (domain/supervision-policy.ts). */
  supervision: supervisionPolicySchema,
  /** Rewards, backlog and campaigns (domain/governance-policy.ts). */
  governance: governancePolicySchema,
  /** Rates, reports and early warning (domain/analysis-policy.ts). */
  analysis: analysisPolicySchema,
});
export type Policy = z.infer<typeof policySchema>;
export type PolicyInput = z.input<typeof policySchema>;

/** Parse a policy document (a JSON object whose fields override the defaults). */
export function parsePolicy(document: unknown): Policy {
  const override = z.record(z.string(), z.unknown()).parse(document);
  const merged = deepMerge(defaultPolicy, override);
  return policySchema.parse(merged);
}

function deepMerge(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(over)) {
    const prev = out[key];
    out[key] = isPlainObject(prev) && isPlainObject(value) && !('amount' in value) ? deepMerge(prev, value) : value;
  }
  return out;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
