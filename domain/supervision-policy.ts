import type { Duration } from './calendar';
import type { SupervisionPolicy } from './schemas/supervision-policy';

// Inferred from the schemas (domain/schemas/supervision-policy.ts); type-only, so no zod in the workflow bundle.
export type { DeskCheckPolicy, ReInspectionPolicy, SupervisionPolicy, SupervisionSchedule } from './schemas/supervision-policy';

/**
 * The daily desk check and the quarterly on-site re-inspection (issue: supervision). Part of the
 * policy document (domain/policy.ts): every share, minimum, deadline, reminder point and schedule of
 * both lives here, so a POLICY_FILE can change them without touching code.
 *
 * Day and quarter boundaries are computed with the holiday calendar's `utcOffsetMinutes` (480 by
 * default); `timeZone` is what the Temporal Schedules fire in. Keep the two the same zone
 * (Asia/Shanghai is UTC+08:00 all year, with no daylight saving time).
 */

const days = (amount: number): Duration => ({ amount, unit: 'days' });

/** The closures after which a unit's handling and reply exist to be checked (not forwarded, duplicate...). */
export const checkableClosures = ['resolved', 'resolved_dissatisfied', 'unreachable', 'no_callback'] as const;

export const defaultSupervisionPolicy: SupervisionPolicy = {
  timeZone: 'Asia/Shanghai',
  deskCheck: {
    share: 0.2,
    minPerDivision: 1,
    closures: [...checkableClosures],
    reviewDeadline: { amount: 2, unit: 'working_days' },
    rectificationDays: 15,
    // Every day at 01:00: the previous day's closures are all projected by then.
    schedule: { cron: '0 1 * * *', catchupWindow: days(1) },
  },
  reInspection: {
    // Resident inspection offices check at least 10% per quarter (DOMAIN.md), at least one per division.
    share: 0.1,
    minPerDivision: 1,
    closures: [...checkableClosures],
    inspectionDeadline: days(30),
    remindAt: [0.5, 0.8],
    rectificationDays: 30,
    escalate: true,
    // 02:00 on the first day of each quarter.
    schedule: { cron: '0 2 1 1,4,7,10 *', catchupWindow: days(7) },
  },
};
