import { ScheduleAlreadyRunning, ScheduleOverlapPolicy, type Client, type ScheduleOptions } from '@temporalio/client';
import type { GovernanceSchedule } from '../domain/governance-policy';
import type { Policy } from '../domain/policy';
import { backlogSweepWorkflow } from '../workflows/backlog';
import { fingerprint, type EnsuredSchedule } from './schedules';

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
  const schedule = (scheduleId: string, s: GovernanceSchedule, kind: 'scan' | 'yearly'): ScheduleOptions => ({
    scheduleId,
    spec: { cronExpressions: [s.cron], timezone: s.timeZone },
    // A sweep is quick and idempotent; a run still going when the next is due makes it redundant.
    policies: { overlap: ScheduleOverlapPolicy.SKIP, pauseOnFailure: false },
    action: { type: 'startWorkflow', workflowType: backlogSweepWorkflow, workflowId: scheduleId, taskQueue, args: [{ kind, settings }] },
  });
  return [
    schedule(ids.scan, policy.governance.backlog.scanSchedule, 'scan'),
    schedule(ids.yearly, policy.governance.backlog.resortSchedule, 'yearly'),
  ];
}

const noteFor = (print: string) => `managed by the EcoLoop worker (worker/governance-schedules.ts) from the policy; fingerprint ${print}`;

/** Create the Schedules, or bring them up to the policy (keeping a pause). Safe from any number of workers at once. */
export async function ensureGovernanceSchedules(
  client: Client,
  options: { policy: Policy; taskQueue: string; prefix?: string },
): Promise<EnsuredSchedule[]> {
  const out: EnsuredSchedule[] = [];
  for (const desired of governanceSchedules(options.policy, options.taskQueue, options.prefix)) {
    const print = fingerprint(desired);
    const note = noteFor(print);
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
