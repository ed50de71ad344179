import type { Duration } from './calendar';
import { packageHolidayCalendar } from './holidays';
import { defaultAnalysisPolicy } from './analysis-policy';
import { defaultGovernancePolicy } from './governance-policy';
import { defaultSupervisionPolicy } from './supervision-policy';
import type { Category, PartialTimeLimits, Policy, TimeLimits, Urgency } from './schemas/policy';

// Types inferred from the schemas (domain/schemas/policy.ts); type-only, so no zod in the workflow bundle.
export type { Category, PartialTimeLimits, Policy, PolicyInput, TimeLimits, Urgency } from './schemas/policy';

/**
 * The policy document: every time limit, warning point, ladder delay, callback rule and window,
 * per category and urgency. The defaults are DOMAIN.md's (the national petition regulation);
 * `POLICY_FILE` overrides them. A case keeps the policy snapshot it started under, so editing the
 * policy never changes cases in flight.
 */

export const categories = ['air', 'water', 'noise', 'solid_waste', 'soil', 'radiation', 'ecological', 'dust', 'odour', 'other'] as const;

export const urgencies = ['normal', 'urgent'] as const;

const days = (amount: number): Duration => ({ amount, unit: 'days' });
const hours = (amount: number): Duration => ({ amount, unit: 'hours' });

export const defaultPolicy: Policy = {
  version: 'national-2026.1',
  calendar: packageHolidayCalendar,
  defaults: {
    supplement: days(7),
    accept: days(15),
    handle: days(60),
    maxExtension: days(30),
    rework: days(15),
    warningAt: 0.8,
    ladder: { supervision: days(0), city: days(7), provincial: days(15) },
    callback: { attempts: 3, spacing: days(1) },
    reviewRequestWindow: days(30),
    reviewDue: days(30),
    // Long enough for the next quarterly re-inspection: a case closed on a quarter's first day is
    // drawn about 92 days later and inspected within the inspection deadline.
    monitoringWindow: days(150),
  },
  urgent: {
    accept: hours(2),
    handle: hours(24),
    rework: hours(12),
    maxExtension: hours(24),
    ladder: { supervision: hours(0), city: hours(2), provincial: hours(6) },
    callback: { attempts: 3, spacing: hours(4) },
  },
  categories: {},
  intake: {
    duplicateRadiusMeters: 500,
    duplicateWindow: days(30),
    recurrenceWindow: days(90),
    backdatingLimit: days(30),
    clockSkew: { amount: 5, unit: 'minutes' },
    declinedAssignment: 'from_receipt',
  },
  supervision: defaultSupervisionPolicy,
  governance: defaultGovernancePolicy,
  analysis: defaultAnalysisPolicy,
};

/** The limits in force for one case. */
export function resolveLimits(policy: Policy, category: Category, urgency: Urgency): TimeLimits {
  const merge = (base: TimeLimits, over: PartialTimeLimits | undefined): TimeLimits =>
    over
      ? {
          ...base,
          ...over,
          ladder: { ...base.ladder, ...over.ladder },
          callback: { ...base.callback, ...over.callback },
        }
      : base;
  const byCategory = merge(policy.defaults, policy.categories[category]);
  return urgency === 'urgent' ? merge(byCategory, policy.urgent) : byCategory;
}

/** What a case carries for its whole life: the policy it started under, resolved for it. */
export interface CasePolicy {
  version: string;
  limits: TimeLimits;
  calendar: Policy['calendar'];
  intake: Policy['intake'];
}

export function casePolicy(policy: Policy, category: Category, urgency: Urgency): CasePolicy {
  return {
    version: policy.version,
    limits: resolveLimits(policy, category, urgency),
    calendar: policy.calendar,
    intake: policy.intake,
  };
}
