import type { Duration } from './calendar';
import type { AnalysisPolicy } from './schemas/analysis-policy';

// Inferred from the schemas (domain/schemas/analysis-policy.ts); type-only, so no zod in the workflow bundle.
export type { AnalysisPolicy, WarningRule } from './schemas/analysis-policy';

/**
 * The analysis section of the policy document (domain/policy.ts): the hotspot grid, what the
 * monthly and quarterly reports rank and how many, when the reports run, and the early-warning
 * thresholds. Periods are local calendar months in the policy calendar's UTC offset (China Standard
 * Time by default); the four rates themselves are defined in domain/rates.ts.
 */

const days = (amount: number): Duration => ({ amount, unit: 'days' });
export const defaultAnalysisPolicy: AnalysisPolicy = {
  hotspots: { cellSizeDegrees: 0.01 },
  report: {
    top: { cells: 10, divisions: 10, conflicts: 10, keywords: 15, units: 10, key: 5 },
    risingAt: 0.2,
    keywordMinLength: 3,
    stopwords: [
      'the',
      'and',
      'for',
      'from',
      'with',
      'near',
      'next',
      'into',
      'about',
      'after',
      'over',
      'all',
      'are',
      'was',
      'our',
      'its',
      'this',
      'that',
      'off',
      'out',
      'day',
      'days',
      'night',
      'every',
      'again',
      'still',
      'there',
      'here',
      'very',
    ],
  },
  schedule: {
    timeZone: 'Asia/Shanghai',
    monthly: { dayOfMonth: 1, hour: 1, minute: 0 },
    quarterly: { dayOfMonth: 1, hour: 2, minute: 0 },
    catchupWindow: days(7),
  },
  warning: {
    manyPeople: { threshold: 5, window: days(7) },
    repeated: { threshold: 3, window: days(30) },
  },
};
