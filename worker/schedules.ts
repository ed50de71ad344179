import { ScheduleOverlapPolicy, type Client, type ScheduleOptions } from '@temporalio/client';
import { durationMs } from '../domain/calendar';
import type { Policy } from '../domain/policy';
import { scheduleIds, type SpotCheckKind } from '../domain/spot-check';
import type { SupervisionSchedule } from '../domain/supervision-policy';
import { DESK_CHECK_WORKFLOW, type DeskCheckInput } from '../workflows/contracts/desk-check';
import { RE_INSPECTION_WORKFLOW, type ReInspectionInput } from '../workflows/contracts/re-inspection';
import { syncSchedules, type EnsuredSchedule } from './schedule-sync';
import { SCHEDULED_SUPERVISION_SUMMARIES } from '../domain/workflow-summaries';

export type { EnsuredSchedule } from './schedule-sync';

/**
 * The Temporal Schedules of supervision: the daily desk check and the quarterly re-inspection.
 * Every worker calls `ensureSupervisionSchedules` at start-up: the first creates them, the others
 * find them in place; when the policy (cron, time zone, catch-up window, or the rules the runs carry
 * as their argument) changed, the Schedule is updated, keeping its paused state. The spec's
 * fingerprint is kept in the Schedule's note, which is how a change is seen. Their ids and the
 * backfill window of a range of periods are in domain/spot-check.ts (the API backfills through them).
 */

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
  const { deskCheck, reInspection } = policy.supervision;
  const runs: Array<[SpotCheckKind, string, DeskCheckInput | ReInspectionInput, SupervisionSchedule]> = [
    ['desk_check', DESK_CHECK_WORKFLOW, { policy: deskCheck, ...common }, deskCheck.schedule],
    ['re_inspection', RE_INSPECTION_WORKFLOW, { policy: reInspection, ...common }, reInspection.schedule],
  ];
  return runs.map(([kind, workflowType, input, schedule]) => ({
    ...scheduleFor(ids[kind], schedule, policy),
    action: {
      type: 'startWorkflow',
      workflowType,
      workflowId: ids[kind],
      taskQueue,
      staticSummary: SCHEDULED_SUPERVISION_SUMMARIES[kind],
      args: [input],
    },
  }));
}

/** Create the Schedules, or bring them up to the policy. Safe to call from any number of workers at once. */
export function ensureSupervisionSchedules(
  client: Client,
  options: { policy: Policy; taskQueue: string; prefix?: string },
): Promise<EnsuredSchedule[]> {
  return syncSchedules(client, supervisionSchedules(options.policy, options.taskQueue, options.prefix), 'worker/schedules.ts');
}
