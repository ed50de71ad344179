import { ScheduleOverlapPolicy, type Backfill, type Client, type ScheduleOptions } from '@temporalio/client';
import { durationMs } from '../domain/calendar';
import type { Policy } from '../domain/policy';
import { localDayPeriod, nextDate, nextQuarter, quarterPeriod } from '../domain/supervision-periods';
import type { SupervisionSchedule } from '../domain/supervision-policy';
import { deskCheckWorkflow } from '../workflows/desk-check';
import { reInspectionWorkflow } from '../workflows/re-inspection';
import { syncSchedules, type EnsuredSchedule } from './schedule-sync';
import { SCHEDULED_SUPERVISION_SUMMARIES } from '../domain/workflow-summaries';

export type { EnsuredSchedule } from './schedule-sync';

/**
 * The Temporal Schedules of supervision: the daily desk check and the quarterly re-inspection.
 * Every worker calls `ensureSupervisionSchedules` at start-up: the first creates them, the others
 * find them in place; when the policy (cron, time zone, catch-up window, or the rules the runs carry
 * as their argument) changed, the Schedule is updated, keeping its paused state. The spec's
 * fingerprint is kept in the Schedule's note, which is how a change is seen.
 */

export type SupervisionKind = 'desk_check' | 're_inspection';

export function scheduleIds(prefix = 'ecoloop'): Record<SupervisionKind, string> {
  return { desk_check: `${prefix}-desk-check`, re_inspection: `${prefix}-re-inspection` };
}

function scheduleFor(id: string, schedule: SupervisionSchedule, policy: Policy) {
  return {
    scheduleId: id,
    spec: { cronExpressions: [schedule.cron], timezone: policy.supervision.timeZone },
    policies: {
      // A desk check waits days for its reviews, so runs overlap by design; each run is its own day or quarter.
      overlap: ScheduleOverlapPolicy.ALLOW_ALL,
      catchupWindow: durationMs(schedule.catchupWindow),
      pauseOnFailure: false,
    },
  };
}

/** What the Schedules should be under this policy. */
export function supervisionSchedules(policy: Policy, taskQueue: string, prefix = 'ecoloop'): ScheduleOptions[] {
  const ids = scheduleIds(prefix);
  const common = { calendar: policy.calendar, policyVersion: policy.version };
  return [
    {
      ...scheduleFor(ids.desk_check, policy.supervision.deskCheck.schedule, policy),
      action: {
        type: 'startWorkflow',
        workflowType: deskCheckWorkflow,
        workflowId: ids.desk_check,
        taskQueue,
        staticSummary: SCHEDULED_SUPERVISION_SUMMARIES.desk_check,
        args: [{ policy: policy.supervision.deskCheck, ...common }],
      },
    },
    {
      ...scheduleFor(ids.re_inspection, policy.supervision.reInspection.schedule, policy),
      action: {
        type: 'startWorkflow',
        workflowType: reInspectionWorkflow,
        workflowId: ids.re_inspection,
        taskQueue,
        staticSummary: SCHEDULED_SUPERVISION_SUMMARIES.re_inspection,
        args: [{ policy: policy.supervision.reInspection, ...common }],
      },
    },
  ];
}

/** Create the Schedules, or bring them up to the policy. Safe to call from any number of workers at once. */
export function ensureSupervisionSchedules(
  client: Client,
  options: { policy: Policy; taskQueue: string; prefix?: string },
): Promise<EnsuredSchedule[]> {
  return syncSchedules(client, supervisionSchedules(options.policy, options.taskQueue, options.prefix), 'worker/schedules.ts');
}

/**
 * The backfill that re-runs the checks of the days `from`..`to` (YYYY-MM-DD) or the quarters
 * `from`..`to` (YYYY-Qn), inclusive: the day (quarter) after each is when its scheduled run falls,
 * and that run checks the one before. Assumes the policy's cron fires once a day (once a quarter).
 */
export function backfillFor(kind: SupervisionKind, from: string, to: string, utcOffsetMinutes: number): Backfill {
  const [start, end] =
    kind === 'desk_check'
      ? [localDayPeriod(nextDate(from), utcOffsetMinutes).from, localDayPeriod(nextDate(to), utcOffsetMinutes).to]
      : [quarterPeriod(nextQuarter(from), utcOffsetMinutes).from, quarterPeriod(nextQuarter(to), utcOffsetMinutes).to];
  if (end <= start) throw new RangeError(`${from} is after ${to}`);
  return { start: new Date(start), end: new Date(end), overlap: ScheduleOverlapPolicy.ALLOW_ALL };
}
