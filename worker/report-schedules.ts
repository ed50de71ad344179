import { createHash } from 'node:crypto';
import { ScheduleAlreadyRunning, ScheduleOverlapPolicy, type Client, type ScheduleOptions } from '@temporalio/client';
import { durationMs } from '../domain/calendar';
import type { Policy } from '../domain/policy';
import type { PeriodKind } from '../domain/report';
import { reportWorkflow } from '../workflows/monthly-report';

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
    workflowType: reportWorkflow,
    workflowId: id,
    taskQueue,
    args: [{ kind }],
  });
  return [
    {
      scheduleId: ids.monthly,
      spec: {
        calendars: [{ dayOfMonth: schedule.monthly.dayOfMonth, hour: schedule.monthly.hour, minute: schedule.monthly.minute, comment: 'the previous month' }],
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

function fingerprintOf(options: ScheduleOptions): string {
  const material = JSON.stringify({ spec: options.spec, policies: options.policies, action: { ...options.action, workflowType: 'reportWorkflow' } });
  return createHash('sha256').update(material).digest('hex').slice(0, 16);
}

export interface EnsuredReportSchedule {
  scheduleId: string;
  outcome: 'created' | 'updated' | 'unchanged';
}

/** Create the report Schedules, or bring them up to the policy. Safe to call from any number of workers at once. */
export async function ensureReportSchedules(
  client: Client,
  options: { policy: Policy; taskQueue: string; prefix?: string },
): Promise<EnsuredReportSchedule[]> {
  const out: EnsuredReportSchedule[] = [];
  for (const desired of reportSchedules(options.policy, options.taskQueue, options.prefix)) {
    const print = fingerprintOf(desired);
    const note = `managed by the EcoLoop worker (worker/report-schedules.ts) from the policy; fingerprint ${print}`;
    try {
      await client.schedule.create({ ...desired, state: { note } });
      out.push({ scheduleId: desired.scheduleId, outcome: 'created' });
      continue;
    } catch (err) {
      if (!(err instanceof ScheduleAlreadyRunning)) throw err;
    }
    const handle = client.schedule.getHandle(desired.scheduleId);
    const current = await handle.describe();
    if (current.state.note?.includes(print)) {
      out.push({ scheduleId: desired.scheduleId, outcome: 'unchanged' });
      continue;
    }
    await handle.update((prev) => ({
      ...prev,
      spec: desired.spec,
      action: desired.action,
      policies: desired.policies,
      state: { paused: prev.state.paused, remainingActions: prev.state.remainingActions, note },
    }));
    out.push({ scheduleId: desired.scheduleId, outcome: 'updated' });
  }
  return out;
}
