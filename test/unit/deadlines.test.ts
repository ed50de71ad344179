import { newClock, nextTrigger, ladderTimes, handleDueAt, recomputeHandleClock, after } from '../../domain/deadlines';
import { casePolicy, defaultPolicy } from '../../domain/policy';
import { parsePolicy } from '../../domain/schemas/policy';
import type { CaseState } from '../../domain/case';
import { initialState } from '../../domain/complaint-lifecycle';

const DAY = 86_400_000;
const T0 = Date.UTC(2026, 2, 2, 2, 0, 0); // Mon 2 March 2026, 10:00 in China

function state(overrides: Partial<CaseState> = {}): CaseState {
  const registered = initialState({
    caseId: 'EC-2026-0000001',
    intake: {
      channel: 'web',
      category: 'air',
      urgency: 'normal',
      divisionCode: '370102',
      title: 't',
      description: 'd',
      location: {},
      reporter: { anonymous: true, consentToShareWithUnit: false },
      missing: [],
    },
    policy: casePolicy(defaultPolicy, 'air', 'normal'),
    owner: { id: 'c', role: 'clerk' },
    receivedAt: T0,
  });
  return { ...registered, status: 'handling', ...overrides };
}

describe('deadline arithmetic', () => {
  test('when a supervised clock runs, then the next triggers are the warning at 80%, then each ladder step after the deadline', () => {
    const s = state({ clock: newClock('accept', T0, T0 + 15 * DAY) });
    expect(nextTrigger(s)).toEqual({ kind: 'warning', at: T0 + 12 * DAY });
    s.clock!.warned = true;
    expect(nextTrigger(s)).toEqual({ kind: 'ladder', at: T0 + 15 * DAY, step: 1 });
    s.clock!.overdueSteps = 1;
    expect(nextTrigger(s)).toEqual({ kind: 'ladder', at: T0 + 22 * DAY, step: 2 });
    s.clock!.overdueSteps = 2;
    expect(nextTrigger(s)).toEqual({ kind: 'ladder', at: T0 + 30 * DAY, step: 3 });
    s.clock!.overdueSteps = 3;
    expect(nextTrigger(s)).toBeUndefined();
  });

  test('when a clock is not supervised (supplement, callback), then its only trigger is running out', () => {
    const s = state({ status: 'callback', clock: newClock('callback', T0, T0 + DAY) });
    expect(nextTrigger(s)).toEqual({ kind: 'due', at: T0 + DAY });
  });

  test('when a case is closed, then the archive trigger is the end of its monitoring window', () => {
    expect(nextTrigger(state({ status: 'closed', monitoringUntil: T0 + 120 * DAY }))).toEqual({ kind: 'archive', at: T0 + 120 * DAY });
  });

  test('when extensions are approved, then the handling deadline is acceptance + handle + granted, and a deadline moved into the future is no longer overdue', () => {
    const p = casePolicy(defaultPolicy, 'air', 'normal');
    expect(handleDueAt(T0, 0, p)).toBe(T0 + 60 * DAY);
    expect(handleDueAt(T0, 25, p)).toBe(T0 + 85 * DAY);
    const s = state({
      acceptedAt: T0,
      clock: { kind: 'handle', startedAt: T0, dueAt: T0 + 60 * DAY, warned: true, overdueSteps: 1 },
      extensions: [{ amount: 10, reason: 'r', requestedAt: T0, requestedBy: { id: 'u', role: 'unit' }, decision: 'approved' }],
    });
    const now = T0 + 61 * DAY;
    const clock = recomputeHandleClock(s, now)!;
    expect(clock.dueAt).toBe(T0 + 70 * DAY);
    expect(clock.overdueSteps).toBe(0);
    // The warning point (80% of 70 days = day 56) has passed: it stays warned.
    expect(clock.warned).toBe(true);
  });

  test('when the ladder counts working days, then each step skips the weekend', () => {
    const policy = parsePolicy({ defaults: { ladder: { city: { amount: 1, unit: 'working_days' } } } });
    const p = casePolicy(policy, 'air', 'normal');
    const fridayNoonCst = Date.UTC(2026, 2, 6, 4, 0, 0); // Fri 6 March 2026, 12:00 in China
    const [supervision, city] = ladderTimes(newClock('handle', T0, fridayNoonCst), p);
    expect(supervision).toBe(fridayNoonCst);
    // One working day after Friday is Monday; the step is due at the end of Monday, local midnight.
    expect(city).toBe(Date.UTC(2026, 2, 9, 16, 0, 0));
    expect(after(T0, { amount: 0, unit: 'days' }, p.calendar)).toBe(T0);
  });
});
