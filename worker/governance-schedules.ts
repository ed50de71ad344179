import { ScheduleOverlapPolicy, type Client, type ScheduleOptions } from '@temporalio/client';
import type { GovernanceSchedule } from '../domain/governance-policy';
import type { Policy } from '../domain/policy';
import { BACKLOG_SWEEP_WORKFLOW, type BacklogSweepInput } from '../workflows/contracts/backlog';
import { syncSchedules, type EnsuredSchedule } from './schedule-sync';
import { backlogSweepSummary } from '../domain/workflow-summaries';

/**
 * The Temporal Schedules of backlog governance: the daily scan that lists new backlog as it
 * appears, and the yearly sort that re-lists the backlog younger than the policy's window. Created
 * at worker start-up, or brought up to the policy (cron, time zone, the settings the runs carry),
 * like the supervision Schedules (worker/schedules.ts).
 */

export function governanceScheduleIds(prefix = 'ecoloop'): { scan: string; yearly: string } {
  return { scan: `${prefix}-backlog-scan`, yearly: `${prefix}-backlog-yearly-sort` };
}

export function governanceSchedules(policy: Policy, taskQueue: string, prefix = 'ecoloop'): ScheduleOptions[] {
  const ids = governanceScheduleIds(prefix);
  const settings = { backlog: policy.governance.backlog, calendar: policy.calendar };
  const schedule = (scheduleId: string, s: GovernanceSchedule, kind: BacklogSweepInput['kind']): ScheduleOptions => ({
    scheduleId,
    spec: { cronExpressions: [s.cron], timezone: s.timeZone },
    // A sweep is quick and idempotent; a run still going when the next is due makes it redundant.
    policies: { overlap: ScheduleOverlapPolicy.SKIP, pauseOnFailure: false },
    action: {
      type: 'startWorkflow',
      workflowType: BACKLOG_SWEEP_WORKFLOW,
      workflowId: scheduleId,
      taskQueue,
      staticSummary: backlogSweepSummary(kind),
      args: [{ kind, settings } satisfies BacklogSweepInput],
    },
  });
  return [
    schedule(ids.scan, policy.governance.backlog.scanSchedule, 'scan'),
    schedule(ids.yearly, policy.governance.backlog.resortSchedule, 'yearly'),
  ];
}

/** Create the Schedules, or bring them up to the policy (keeping a pause). Safe from any number of workers at once. */
export function ensureGovernanceSchedules(
  client: Client,
  options: { policy: Policy; taskQueue: string; prefix?: string },
): Promise<EnsuredSchedule[]> {
  return syncSchedules(client, governanceSchedules(options.policy, options.taskQueue, options.prefix), 'worker/governance-schedules.ts');
}
