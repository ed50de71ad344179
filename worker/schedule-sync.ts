import { createHash } from 'node:crypto';
import { ScheduleAlreadyRunning, type Client, type ScheduleOptions } from '@temporalio/client';

/**
 * Keeps Temporal Schedules equal to what the policy says. Every worker calls it at start-up: the
 * first creates each Schedule, the others find it in place; when the desired spec, action or
 * policies changed, the Schedule is updated, keeping its paused state and remaining actions. The
 * desired options' fingerprint is kept in the Schedule's note, which is how a change is seen.
 */

export interface EnsuredSchedule {
  scheduleId: string;
  outcome: 'created' | 'updated' | 'unchanged';
}

export function fingerprint(options: ScheduleOptions): string {
  const { action } = options;
  const workflowType = typeof action.workflowType === 'string' ? action.workflowType : action.workflowType.name;
  const material = JSON.stringify({ spec: options.spec, policies: options.policies, action: { ...action, workflowType } });
  return createHash('sha256').update(material).digest('hex').slice(0, 16);
}

/** Create or update each desired Schedule. `owner` names the module that declares them (shown in the note). */
export async function syncSchedules(client: Client, desired: ScheduleOptions[], owner: string): Promise<EnsuredSchedule[]> {
  const out: EnsuredSchedule[] = [];
  for (const options of desired) {
    const print = fingerprint(options);
    const note = `managed by the EcoLoop worker (${owner}) from the policy; fingerprint ${print}`;
    try {
      await client.schedule.create({ ...options, state: { note } });
      out.push({ scheduleId: options.scheduleId, outcome: 'created' });
      continue;
    } catch (err) {
      if (!(err instanceof ScheduleAlreadyRunning)) throw err;
    }
    const handle = client.schedule.getHandle(options.scheduleId);
    const current = await handle.describe();
    if (current.state.note?.includes(print)) {
      out.push({ scheduleId: options.scheduleId, outcome: 'unchanged' });
      continue;
    }
    await handle.update((prev) => ({
      ...prev,
      spec: options.spec,
      action: options.action,
      policies: options.policies,
      state: { paused: prev.state.paused, remainingActions: prev.state.remainingActions, note },
    }));
    out.push({ scheduleId: options.scheduleId, outcome: 'updated' });
  }
  return out;
}
