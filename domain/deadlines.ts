import { addDuration, pointBetween, type Duration, type HolidayCalendar } from './calendar';
import { grantedExtension, type CaseState, type Clock, type ClockKind } from './case';
import type { CasePolicy } from './policy';

/**
 * Deadline arithmetic for a case: pure functions of its state and policy, called from the
 * workflow. A deadline that can move (an extension, a reopening) is recomputed from state here,
 * never raced with stale timers.
 */

/** `start` plus a delay that may be zero. */
export function after(start: number, delay: Duration, calendar: HolidayCalendar): number {
  return delay.amount === 0 ? start : addDuration(start, delay, calendar);
}

/** Clocks that warn before their deadline and climb the escalation ladder after it. */
export const supervisedClocks: readonly ClockKind[] = ['accept', 'handle', 'rework', 'review'];

export function newClock(kind: ClockKind, startedAt: number, dueAt: number): Clock {
  return { kind, startedAt, dueAt, warned: false, overdueSteps: 0 };
}

/** The handling deadline: acceptance + the handling limit + every approved extension. */
export function handleDueAt(acceptedAt: number, grantedAmount: number, policy: CasePolicy): number {
  const { handle, maxExtension } = policy.limits;
  const base = addDuration(acceptedAt, handle, policy.calendar);
  return grantedAmount > 0 ? addDuration(base, { amount: grantedAmount, unit: maxExtension.unit }, policy.calendar) : base;
}

/** Move a running handle clock to the deadline its state now implies; a deadline moved into the future clears its overdue steps. */
export function recomputeHandleClock(s: CaseState, now: number): Clock | undefined {
  const clock = s.clock;
  if (!clock || clock.kind !== 'handle' || s.acceptedAt === undefined) return clock;
  const dueAt = handleDueAt(s.acceptedAt, grantedExtension(s), s.policy);
  const warnAt = pointBetween(clock.startedAt, dueAt, s.policy.limits.warningAt);
  return {
    ...clock,
    dueAt,
    warned: now >= warnAt ? clock.warned : false,
    overdueSteps: now > dueAt ? clock.overdueSteps : 0,
  };
}

export type TriggerKind = 'warning' | 'due' | 'ladder' | 'archive';

export interface Trigger {
  kind: TriggerKind;
  at: number;
  /** For `ladder`: which step (1 supervision, 2 city, 3 provincial). */
  step?: number;
}

/** The ladder step times of a clock, measured from its deadline. */
export function ladderTimes(clock: Clock, policy: CasePolicy): [number, number, number] {
  const { supervision, city, provincial } = policy.limits.ladder;
  return [
    after(clock.dueAt, supervision, policy.calendar),
    after(clock.dueAt, city, policy.calendar),
    after(clock.dueAt, provincial, policy.calendar),
  ];
}

/** The next thing that time alone will make happen to this case, if any. */
export function nextTrigger(s: CaseState): Trigger | undefined {
  const candidates: Trigger[] = [];
  const clock = s.clock;
  if (clock) {
    if (supervisedClocks.includes(clock.kind)) {
      if (!clock.warned && clock.overdueSteps === 0) {
        candidates.push({ kind: 'warning', at: pointBetween(clock.startedAt, clock.dueAt, s.policy.limits.warningAt) });
      }
      if (clock.overdueSteps < 3) {
        const step = clock.overdueSteps + 1;
        candidates.push({ kind: 'ladder', at: ladderTimes(clock, s.policy)[step - 1], step });
      }
    } else {
      // supplement and callback clocks simply run out.
      candidates.push({ kind: 'due', at: clock.dueAt });
    }
  }
  if (s.status === 'closed' && s.monitoringUntil !== undefined) {
    candidates.push({ kind: 'archive', at: s.monitoringUntil });
  }
  // Earliest first; on a tie the warning precedes the ladder (it was due "before" the deadline).
  const order: Record<TriggerKind, number> = { warning: 0, due: 1, ladder: 2, archive: 3 };
  candidates.sort((a, b) => a.at - b.at || order[a.kind] - order[b.kind]);
  return candidates[0];
}
