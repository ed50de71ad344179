import { ScheduleOverlapPolicy, type Client, type ScheduleOptions } from '@temporalio/client';
import { syncSchedules, type EnsuredSchedule } from './schedule-sync';
import { durationMs } from '../domain/calendar';
import type { Policy } from '../domain/policy';
import type { PeriodKind } from '../domain/report';
import { REPORT_WORKFLOW } from '../workflows/contracts/monthly-report';
import { reportSummary } from '../domain/workflow-summaries';

/**
 * The Temporal Schedules of the analysis reports: the monthly report of the month just ended (on
 * the policy's day of each month) and the quarterly report of the quarter just ended (on that day
 * of January, April, July and October), in the policy's time zone. Every worker calls
 * `ensureReportSchedules` at start-up: the first creates them, the others find them in place, and a
 * changed policy updates them (keeping a paused Schedule paused). The fingerprint of what the
 * policy asks for is kept in the Schedule's note, which is how a change is seen.
 */

export function reportScheduleIds(prefix = 'ecoloop'): Record<PeriodKind, string> {
  return { monthly: `${prefix}-report-monthly`, quarterly: `${prefix}-report-quarterly` };
}

/** What the Schedules should be under this policy. */
export function reportSchedules(policy: Policy, taskQueue: string, prefix = 'ecoloop'): ScheduleOptions[] {
  const ids = reportScheduleIds(prefix);
  const { schedule } = policy.analysis;
  const policies = {
    // A report takes seconds; a run still going when the next is due is a problem worth a skipped run.
    overlap: ScheduleOverlapPolicy.SKIP,
    catchupWindow: durationMs(schedule.catchupWindow),
    pauseOnFailure: false,
  };
  const action = (kind: PeriodKind, id: string) => ({
    type: 'startWorkflow' as const,
    workflowType: REPORT_WORKFLOW,
    workflowId: id,
    taskQueue,
    args: [{ kind }],
    staticSummary: reportSummary(kind),
  });
  return [
    {
      scheduleId: ids.monthly,
      spec: {
        calendars: [
          {
            dayOfMonth: schedule.monthly.dayOfMonth,
            hour: schedule.monthly.hour,
            minute: schedule.monthly.minute,
            comment: 'the previous month',
          },
        ],
        timezone: schedule.timeZone,
      },
      policies,
      action: action('monthly', ids.monthly),
    },
    {
      scheduleId: ids.quarterly,
      spec: {
        calendars: [
          {
            month: ['JANUARY', 'APRIL', 'JULY', 'OCTOBER'],
            dayOfMonth: schedule.quarterly.dayOfMonth,
            hour: schedule.quarterly.hour,
            minute: schedule.quarterly.minute,
            comment: 'the previous quarter',
          },
        ],
        timezone: schedule.timeZone,
      },
      policies,
      action: action('quarterly', ids.quarterly),
    },
  ];
}

export type { EnsuredSchedule as EnsuredReportSchedule } from './schedule-sync';

/** Create the report Schedules, or bring them up to the policy. Safe to call from any number of workers at once. */
export function ensureReportSchedules(
  client: Client,
  options: { policy: Policy; taskQueue: string; prefix?: string },
): Promise<EnsuredSchedule[]> {
  return syncSchedules(client, reportSchedules(options.policy, options.taskQueue, options.prefix), 'worker/report-schedules.ts');
}
