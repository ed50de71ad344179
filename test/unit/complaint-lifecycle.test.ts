import type { Actor, CaseState } from '../../domain/case';
import * as lifecycle from '../../domain/complaint-lifecycle';
import { nextTrigger } from '../../domain/deadlines';
import { casePolicy, defaultPolicy } from '../../domain/policy';

/**
 * The complaint state machine on its own: no Temporal, no database. Each decision's happy path and
 * its refusal in a wrong state, and what the timers do, with exact timestamps.
 */

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const T0 = Date.UTC(2026, 2, 2, 2, 0, 0); // Mon 2 March 2026, 10:00 in China

const clerk: Actor = { id: 'clerk-1', role: 'clerk' };
const unit: Actor = { id: 'unit-a', role: 'unit' };
const otherUnit: Actor = { id: 'unit-b', role: 'unit' };
const supervisor: Actor = { id: 'sup-1', role: 'supervisor' };
const SYSTEM = lifecycle.SYSTEM;

function newCase(overrides: Partial<CaseState['intake']> = {}): CaseState {
  return lifecycle.initialState({
    caseId: 'EC-2026-0000001',
    intake: {
      channel: 'web',
      category: 'air',
      urgency: 'normal',
      divisionCode: '370102',
      title: 'Smoke',
      description: 'Black smoke at night',
      location: { siteId: 'site-9' },
      reporter: { anonymous: false, name: 'Li', phone: '139', consentToShareWithUnit: false },
      missing: [],
      ...overrides,
    },
    policy: casePolicy(defaultPolicy, 'air', 'normal'),
    owner: clerk,
    receivedAt: T0,
  });
}

/** Asserts the decision is allowed and applies it. */
function allowed(refusal: lifecycle.Refusal | undefined, apply: () => lifecycle.Transition): lifecycle.Transition {
  expect(refusal).toBeUndefined();
  return apply();
}

/** The refusal of `what` in the state of `s`, as the validator reports it. */
function refusal(s: CaseState, what: string, detail?: string): lifecycle.Refusal {
  return { message: `Cannot ${what} a case in state '${s.status}'${detail ? `: ${detail}` : ''}`, status: s.status, caseId: s.caseId };
}

const types = (t: lifecycle.Transition) => t.events.map((e) => e.type);

/** Registered and put up for acceptance at T0. */
function pending(overrides: Partial<CaseState['intake']> = {}): CaseState {
  return lifecycle.registerForAcceptance(lifecycle.register(newCase(overrides), T0).state, T0, T0).state;
}
/** Accepted by unit-a one day after receipt: handling, due 60 days later. */
function handling(overrides: Partial<CaseState['intake']> = {}): CaseState {
  return lifecycle.accept(pending(overrides), { actor: clerk, unitId: unit.id }, T0 + DAY).state;
}
/** The unit's result, submitted on day 10. */
function underReview(overrides: Partial<CaseState['intake']> = {}): CaseState {
  return lifecycle.submitResult(handling(overrides), { actor: unit, summary: 'Fixed the filter', reply: 'Done' }, T0 + 10 * DAY).state;
}
/** The result approved on day 11: callback attempt 1 runs until day 12. */
function inCallback(): CaseState {
  return lifecycle.review(underReview(), { actor: clerk, decision: 'approved' }, T0 + 11 * DAY).state;
}
/** The complainant satisfied on day 11 plus an hour: closed. */
const CLOSED_AT = T0 + 11 * DAY + HOUR;
function closed(): CaseState {
  return lifecycle.recordCallback(inCallback(), { actor: clerk, outcome: 'satisfied' }, CLOSED_AT).state;
}

describe('intake', () => {
  test('when a complete complaint is registered, then it is numbered with its channel and policy and awaits the intake check', () => {
    const t = lifecycle.register(newCase(), T0);
    expect(t.events).toEqual([
      {
        seq: 1,
        type: 'registered',
        at: T0,
        actor: clerk,
        data: { channel: 'web', category: 'air', urgency: 'normal', policyVersion: 'national-2026.1' },
      },
    ]);
    expect(t.state.status).toBe('registered');
    expect(t.state.clock).toBeUndefined();
    expect(t.state.timeline).toEqual(t.events);
  });

  test('when key information is missing at registration, then the complainant is asked for it and has 7 days', () => {
    const t = lifecycle.register(newCase({ missing: ['location'] }), T0);
    expect(types(t)).toEqual(['registered', 'supplement_requested']);
    expect(t.state.status).toBe('awaiting_supplement');
    expect(t.state.clock).toEqual({ kind: 'supplement', startedAt: T0, dueAt: T0 + 7 * DAY, warned: false, overdueSteps: 0 });
    expect(t.events[1]).toEqual({
      seq: 2,
      type: 'supplement_requested',
      at: T0,
      actor: clerk,
      deadlineAt: T0 + 7 * DAY,
      data: { missing: ['location'] },
      notify: ['complainant:EC-2026-0000001'],
    });
  });

  test('when the complainant supplements, then the intake changes, the clock stops and the given state stays as it was', () => {
    const before = lifecycle.register(newCase({ missing: ['location', 'contact'] }), T0).state;
    const frozen = JSON.stringify(before);
    const t = allowed(lifecycle.checkSupplement(before), () =>
      lifecycle.supplement(
        before,
        { actor: clerk, location: { address: 'No. 1 Road' }, reporter: { email: 'li@example.cn' }, note: 'called in' },
        T0 + 2 * DAY,
      ),
    );
    expect(t.events).toEqual([
      { seq: 3, type: 'supplemented', at: T0 + 2 * DAY, actor: clerk, reason: 'called in', deadlineAt: T0 + 7 * DAY },
    ]);
    expect(t.state.intake.location).toEqual({ siteId: 'site-9', address: 'No. 1 Road' });
    expect(t.state.intake.reporter).toEqual({
      anonymous: false,
      name: 'Li',
      phone: '139',
      email: 'li@example.cn',
      consentToShareWithUnit: false,
    });
    expect(t.state.intake.missing).toEqual([]);
    expect(t.state.clock).toBeUndefined();
    expect(JSON.stringify(before)).toBe(frozen);
  });

  test('when a case is not awaiting a supplement, then a supplement is refused naming the state', () => {
    const s = pending();
    expect(lifecycle.checkSupplement(s)).toEqual(refusal(s, 'supplement', "allowed only in 'awaiting_supplement'"));
  });

  test('when the intake check runs, then it looks for open cases of the last 30 days and closed ones of the last 90 within 500 m', () => {
    expect(lifecycle.relatedCaseSearch(newCase(), T0 + DAY)).toEqual({
      caseId: 'EC-2026-0000001',
      category: 'air',
      divisionCode: '370102',
      location: { siteId: 'site-9' },
      radiusMeters: 500,
      receivedAt: T0,
      duplicateSince: T0 + DAY - 30 * DAY,
      recurrenceSince: T0 + DAY - 90 * DAY,
    });
  });

  test('when nothing related is found, then the acceptance period runs 15 days from the receipt, not from the check', () => {
    const s = lifecycle.register(newCase(), T0).state;
    const t = lifecycle.registerForAcceptance(s, T0, T0 + 5 * 60_000);
    expect(t.state.status).toBe('pending_acceptance');
    expect(t.state.clock).toEqual({ kind: 'accept', startedAt: T0, dueAt: T0 + 15 * DAY, warned: false, overdueSteps: 0 });
    expect(t.events).toEqual([
      { seq: 2, type: 'registered_for_acceptance', at: T0 + 5 * 60_000, actor: SYSTEM, deadlineAt: T0 + 15 * DAY },
    ]);
  });

  test('when the complaint duplicates an open case, then it is archived into it; a recurrence is archived into the case it reopens', () => {
    const s = lifecycle.register(newCase(), T0).state;
    const dup = lifecycle.mergeInto(s, { kind: 'duplicate', caseId: 'EC-2026-0000009' }, T0 + 1000);
    expect(dup.state).toMatchObject({ status: 'archived', closure: 'duplicate', closedAt: T0 + 1000, mergedInto: 'EC-2026-0000009' });
    expect(dup.state.monitoringUntil).toBeUndefined();
    expect(dup.events).toEqual([
      {
        seq: 2,
        type: 'closed',
        at: T0 + 1000,
        actor: SYSTEM,
        reason: 'duplicate of open case EC-2026-0000009',
        data: { closure: 'duplicate', linkedTo: 'EC-2026-0000009' },
        notify: ['complainant:EC-2026-0000001'],
      },
    ]);
    const rec = lifecycle.mergeInto(s, { kind: 'recurrence', caseId: 'EC-2026-0000008' }, T0 + 1000);
    expect(rec.state).toMatchObject({ status: 'archived', closure: 'recurrence', mergedInto: 'EC-2026-0000008' });
    expect(rec.events[0]).toMatchObject({
      reason: 'recurrence at the site of case EC-2026-0000008, which is reopened',
      data: { closure: 'recurrence', reopened: 'EC-2026-0000008' },
    });
  });
});

describe('acceptance', () => {
  test('when a pending case is accepted, then it is with the unit and due 60 days after acceptance', () => {
    const s = pending();
    const t = allowed(lifecycle.checkAccept(s), () => lifecycle.accept(s, { actor: clerk, unitId: 'unit-a', note: 'ours' }, T0 + DAY));
    expect(t.state).toMatchObject({ status: 'handling', unitId: 'unit-a', acceptedAt: T0 + DAY });
    expect(t.state.clock).toEqual({ kind: 'handle', startedAt: T0 + DAY, dueAt: T0 + 61 * DAY, warned: false, overdueSteps: 0 });
    expect(t.events).toEqual([
      {
        seq: 3,
        type: 'accepted',
        at: T0 + DAY,
        actor: clerk,
        reason: 'ours',
        deadlineAt: T0 + 61 * DAY,
        data: { unitId: 'unit-a' },
        notify: ['unit:unit-a', 'complainant:EC-2026-0000001'],
      },
    ]);
  });

  test('when a case is already handled, then accepting it again is refused with the allowed state', () => {
    const s = handling();
    expect(lifecycle.checkAccept(s)).toEqual(refusal(s, 'accept', "allowed only in 'pending_acceptance'"));
    expect(lifecycle.checkAccept(s)).toEqual({
      message: "Cannot accept a case in state 'handling': allowed only in 'pending_acceptance'",
      status: 'handling',
      caseId: 'EC-2026-0000001',
    });
  });

  test('when a pending case is outside our scope, then forwarding archives it and tells the competent body', () => {
    const s = pending();
    const t = allowed(lifecycle.checkForward(s), () =>
      lifecycle.forward(s, { actor: clerk, competentBody: 'Water Bureau', reason: 'not ours' }, T0 + HOUR),
    );
    expect(t.state).toMatchObject({ status: 'archived', closure: 'forwarded', closedAt: T0 + HOUR });
    expect(t.state.clock).toBeUndefined();
    expect(t.events).toEqual([
      {
        seq: 3,
        type: 'closed',
        at: T0 + HOUR,
        actor: clerk,
        reason: 'not ours',
        data: { closure: 'forwarded', competentBody: 'Water Bureau' },
        notify: ['competent-body:Water Bureau', 'complainant:EC-2026-0000001'],
      },
    ]);
  });

  test('when a case is being handled, then forwarding it is refused', () => {
    const s = handling();
    expect(lifecycle.checkForward(s)).toEqual(refusal(s, 'forward', "allowed only in 'pending_acceptance'"));
  });
});

describe('handling', () => {
  test('when a handled case is transferred, then the new unit has it, on the same deadline', () => {
    const s = handling();
    const t = allowed(lifecycle.checkTransfer(s, { unitId: 'unit-b' }), () =>
      lifecycle.transfer(s, { actor: supervisor, unitId: 'unit-b', reason: 'wrong district' }, T0 + 2 * DAY),
    );
    expect(t.state.unitId).toBe('unit-b');
    expect(t.state.clock).toEqual(s.clock);
    expect(t.events).toEqual([
      {
        seq: 4,
        type: 'transferred',
        at: T0 + 2 * DAY,
        actor: supervisor,
        reason: 'wrong district',
        deadlineAt: T0 + 61 * DAY,
        data: { from: 'unit-a', to: 'unit-b' },
        notify: ['unit:unit-b', 'unit:unit-a', 'owner:clerk-1', 'complainant:EC-2026-0000001'],
      },
    ]);
  });

  test('when a transfer names the unit that has the case, or the case is not handled, then it is refused', () => {
    const s = handling();
    expect(lifecycle.checkTransfer(s, { unitId: 'unit-a' })).toEqual(refusal(s, 'transfer', "the case is already with unit 'unit-a'"));
    const p = pending();
    expect(lifecycle.checkTransfer(p, { unitId: 'unit-b' })).toEqual(refusal(p, 'transfer', "allowed only in 'handling'"));
  });

  test('when the unit asks for 10 more days, then the request is pending and the deadline has not moved yet', () => {
    const s = handling();
    const t = allowed(lifecycle.checkExtensionRequest(s, { actor: unit, amount: 10 }), () =>
      lifecycle.requestExtension(s, { actor: unit, amount: 10, reason: 'lab results' }, T0 + 20 * DAY),
    );
    expect(t.state.extensions).toEqual([{ amount: 10, reason: 'lab results', requestedAt: T0 + 20 * DAY, requestedBy: unit }]);
    expect(t.state.clock!.dueAt).toBe(T0 + 61 * DAY);
    expect(t.events).toEqual([
      {
        seq: 4,
        type: 'extension_requested',
        at: T0 + 20 * DAY,
        actor: unit,
        reason: 'lab results',
        deadlineAt: T0 + 61 * DAY,
        data: { amount: 10, unit: 'days' },
        notify: ['supervisor:370102', 'owner:clerk-1'],
      },
    ]);
    expect(s.extensions).toEqual([]);
  });

  test('when an extension is asked by another unit, in rework, twice, or beyond the 30-day limit, then it is refused saying why', () => {
    const what = 'request an extension for';
    const s = handling();
    expect(lifecycle.checkExtensionRequest(s, { actor: otherUnit, amount: 5 })).toEqual(
      refusal(s, what, 'the case is assigned to another unit'),
    );
    expect(lifecycle.checkExtensionRequest(s, { actor: unit, amount: 31 })).toEqual(
      refusal(s, what, 'at most 30 more days may be granted (limit 30)'),
    );
    const asked = lifecycle.requestExtension(s, { actor: unit, amount: 20, reason: 'r' }, T0 + 2 * DAY).state;
    expect(lifecycle.checkExtensionRequest(asked, { actor: unit, amount: 5 })).toEqual(
      refusal(asked, what, 'an extension request is already pending'),
    );
    const granted = lifecycle.decideExtension(asked, { actor: supervisor, decision: 'approved', reason: 'ok' }, T0 + 3 * DAY).state;
    expect(lifecycle.checkExtensionRequest(granted, { actor: unit, amount: 11 })).toEqual(
      refusal(granted, what, 'at most 10 more days may be granted (limit 30)'),
    );
    const returned = lifecycle.review(underReview(), { actor: clerk, decision: 'returned', reason: 'incomplete' }, T0 + 11 * DAY).state;
    expect(lifecycle.checkExtensionRequest(returned, { actor: unit, amount: 5 })).toEqual(
      refusal(returned, what, 'extensions apply to the handling period only, not to rework'),
    );
    const p = pending();
    expect(lifecycle.checkExtensionRequest(p, { actor: unit, amount: 5 })).toEqual(refusal(p, what, "allowed only in 'handling'"));
  });

  test('when an extension is approved, then the handling deadline moves by it and the complainant is told why', () => {
    const asked = lifecycle.requestExtension(handling(), { actor: unit, amount: 10, reason: 'lab results' }, T0 + 20 * DAY).state;
    const t = allowed(lifecycle.checkExtensionDecision(asked), () =>
      lifecycle.decideExtension(asked, { actor: supervisor, decision: 'approved', reason: 'samples take time' }, T0 + 21 * DAY),
    );
    expect(t.state.clock).toEqual({ kind: 'handle', startedAt: T0 + DAY, dueAt: T0 + 71 * DAY, warned: false, overdueSteps: 0 });
    expect(t.state.extensions[0]).toMatchObject({
      decision: 'approved',
      decidedAt: T0 + 21 * DAY,
      decidedBy: supervisor,
      decisionReason: 'samples take time',
    });
    expect(t.events).toEqual([
      {
        seq: 5,
        type: 'extension_approved',
        at: T0 + 21 * DAY,
        actor: supervisor,
        reason: 'samples take time',
        deadlineAt: T0 + 71 * DAY,
        data: { amount: 10 },
        notify: ['unit:unit-a', 'owner:clerk-1', 'complainant:EC-2026-0000001'],
      },
    ]);
    expect(asked.extensions[0].decision).toBeUndefined();
  });

  test('when an extension is denied, then the deadline stays', () => {
    const asked = lifecycle.requestExtension(handling(), { actor: unit, amount: 10, reason: 'r' }, T0 + 20 * DAY).state;
    const t = lifecycle.decideExtension(asked, { actor: supervisor, decision: 'denied', reason: 'no cause' }, T0 + 21 * DAY);
    expect(types(t)).toEqual(['extension_denied']);
    expect(t.state.clock!.dueAt).toBe(T0 + 61 * DAY);
  });

  test('when no extension is pending, then deciding one is refused', () => {
    const s = handling();
    expect(lifecycle.checkExtensionDecision(s)).toEqual(refusal(s, 'decide an extension for', 'no extension request is pending'));
  });

  test('when the unit submits its result, then the clock stops and the owner reviews it', () => {
    const s = handling();
    const t = allowed(lifecycle.checkResult(s, { actor: unit }), () =>
      lifecycle.submitResult(s, { actor: unit, summary: 'Fixed the filter', reply: 'Done' }, T0 + 10 * DAY),
    );
    expect(t.state).toMatchObject({
      status: 'under_review',
      repliedAt: T0 + 10 * DAY,
      result: { summary: 'Fixed the filter', reply: 'Done', submittedAt: T0 + 10 * DAY, submittedBy: unit },
    });
    expect(t.state.clock).toBeUndefined();
    expect(t.events).toEqual([
      {
        seq: 4,
        type: 'result_submitted',
        at: T0 + 10 * DAY,
        actor: unit,
        data: { summary: 'Fixed the filter' },
        notify: ['owner:clerk-1'],
      },
    ]);
  });

  test('when another unit submits a result, or the case is not handled, then it is refused', () => {
    const s = handling();
    expect(lifecycle.checkResult(s, { actor: otherUnit })).toEqual(
      refusal(s, 'submit a result for', 'the case is assigned to another unit'),
    );
    const r = underReview();
    expect(lifecycle.checkResult(r, { actor: unit })).toEqual(refusal(r, 'submit a result for', "allowed only in 'handling'"));
  });
});

describe('review and callback', () => {
  test('when the result is approved, then the complainant is called back: attempt 1 has one day', () => {
    const s = underReview();
    const t = allowed(lifecycle.checkReview(s), () => lifecycle.review(s, { actor: clerk, decision: 'approved' }, T0 + 11 * DAY));
    expect(types(t)).toEqual(['result_approved', 'callback_attempt_started']);
    expect(t.state).toMatchObject({ status: 'callback', callbackAttempts: 0 });
    expect(t.state.clock).toEqual({ kind: 'callback', startedAt: T0 + 11 * DAY, dueAt: T0 + 12 * DAY, warned: false, overdueSteps: 0 });
    expect(t.events[1]).toEqual({
      seq: 6,
      type: 'callback_attempt_started',
      at: T0 + 11 * DAY,
      actor: SYSTEM,
      deadlineAt: T0 + 12 * DAY,
      data: { attempt: 1 },
      notify: ['owner:clerk-1'],
    });
  });

  test('when the result of an anonymous complaint is approved, then there is no one to call back and the case closes', () => {
    const s = underReview({ reporter: { anonymous: true, consentToShareWithUnit: false } });
    const t = lifecycle.review(s, { actor: clerk, decision: 'approved' }, T0 + 11 * DAY);
    expect(types(t)).toEqual(['result_approved', 'callback_skipped', 'closed']);
    expect(t.state).toMatchObject({
      status: 'closed',
      closure: 'no_callback',
      closedAt: T0 + 11 * DAY,
      reviewRequestUntil: T0 + 41 * DAY,
      monitoringUntil: T0 + 161 * DAY,
    });
    expect(t.events[2]).toEqual({
      seq: 7,
      type: 'closed',
      at: T0 + 11 * DAY,
      actor: clerk,
      data: { closure: 'no_callback', monitoringUntil: T0 + 161 * DAY },
      notify: ['unit:unit-a'],
    });
  });

  test('when the result is returned with 5 rework days, then the unit reworks it by then; without, by the 15-day rework limit', () => {
    const s = underReview();
    const t = lifecycle.review(s, { actor: clerk, decision: 'returned', reason: 'incomplete', reworkDays: 5 }, T0 + 11 * DAY);
    expect(t.state).toMatchObject({ status: 'handling', returns: 1, callbackAttempts: 0, result: undefined });
    expect(t.state.clock).toEqual({ kind: 'rework', startedAt: T0 + 11 * DAY, dueAt: T0 + 16 * DAY, warned: false, overdueSteps: 0 });
    expect(t.events).toEqual([
      {
        seq: 5,
        type: 'result_returned',
        at: T0 + 11 * DAY,
        actor: clerk,
        reason: 'incomplete',
        deadlineAt: T0 + 16 * DAY,
        notify: ['unit:unit-a', 'owner:clerk-1', 'supervisor:370102'],
      },
    ]);
    const byDefault = lifecycle.review(s, { actor: clerk, decision: 'returned', reason: 'incomplete' }, T0 + 11 * DAY);
    expect(byDefault.state.clock!.dueAt).toBe(T0 + 26 * DAY);
  });

  test('when the case is not under review, then reviewing it is refused', () => {
    const s = handling();
    expect(lifecycle.checkReview(s)).toEqual(refusal(s, 'review the result of', "allowed only in 'under_review'"));
  });

  test('when the complainant is satisfied, then the case closes, open to a review request for 30 days and monitored for 150', () => {
    const s = inCallback();
    const t = allowed(lifecycle.checkCallback(s, { outcome: 'satisfied' }), () =>
      lifecycle.recordCallback(s, { actor: clerk, outcome: 'satisfied' }, CLOSED_AT),
    );
    expect(t.state).toMatchObject({
      status: 'closed',
      closure: 'resolved',
      closedAt: CLOSED_AT,
      reviewRequestUntil: CLOSED_AT + 30 * DAY,
      monitoringUntil: CLOSED_AT + 150 * DAY,
    });
    expect(t.state.clock).toBeUndefined();
    expect(t.events.map((e) => [e.type, e.data])).toEqual([
      ['callback_answered', { outcome: 'satisfied', reasonableDemand: null }],
      ['closed', { closure: 'resolved', satisfaction: 'satisfied', monitoringUntil: CLOSED_AT + 150 * DAY }],
    ]);
  });

  test('when the complainant is dissatisfied and the demand reasonable, then the unit reworks it; if unreasonable, it closes', () => {
    const s = inCallback();
    const back = lifecycle.recordCallback(s, { actor: clerk, outcome: 'dissatisfied', reasonableDemand: true }, CLOSED_AT);
    expect(types(back)).toEqual(['callback_answered', 'returned_after_callback']);
    expect(back.events[1].reason).toBe('the complainant is dissatisfied and the demand is reasonable');
    expect(back.state).toMatchObject({ status: 'handling', returns: 1 });
    expect(back.state.clock).toMatchObject({ kind: 'rework', dueAt: CLOSED_AT + 15 * DAY });
    const closes = lifecycle.recordCallback(s, { actor: clerk, outcome: 'dissatisfied', reasonableDemand: false }, CLOSED_AT);
    expect(closes.state).toMatchObject({ status: 'closed', closure: 'resolved_dissatisfied' });
  });

  test('when a dissatisfied callback omits whether the demand is reasonable, or the case is not in callback, then it is refused', () => {
    const s = inCallback();
    expect(lifecycle.checkCallback(s, { outcome: 'dissatisfied' })).toEqual(
      refusal(s, 'record a callback for', 'a dissatisfied callback must say whether the demand is reasonable'),
    );
    const h = handling();
    expect(lifecycle.checkCallback(h, { outcome: 'satisfied' })).toEqual(refusal(h, 'record a callback for', "allowed only in 'callback'"));
  });

  test('when the complainant cannot be reached three times, then the callback is exhausted and the case closes as unreachable', () => {
    let s = inCallback();
    const first = lifecycle.recordCallback(s, { actor: clerk, outcome: 'unreachable', note: 'no answer' }, T0 + 11 * DAY + HOUR);
    expect(types(first)).toEqual(['callback_unreachable', 'callback_attempt_started']);
    expect(first.state.callbackAttempts).toBe(1);
    expect(first.state.clock).toMatchObject({ kind: 'callback', dueAt: T0 + 12 * DAY + HOUR });
    s = first.state;
    // The second attempt's window runs out: the timer counts it as unreachable.
    const trigger = nextTrigger(s)!;
    expect(trigger).toEqual({ kind: 'due', at: T0 + 12 * DAY + HOUR });
    const second = lifecycle.fire(s, trigger);
    expect(second.events.map((e) => [e.type, e.at, e.actor.id, e.data])).toEqual([
      ['callback_unreachable', T0 + 12 * DAY + HOUR, 'ecoloop', { attempt: 2 }],
      ['callback_attempt_started', T0 + 12 * DAY + HOUR, 'ecoloop', { attempt: 3 }],
    ]);
    const third = lifecycle.fire(second.state, nextTrigger(second.state)!);
    expect(types(third)).toEqual(['callback_unreachable', 'closed']);
    expect(third.state).toMatchObject({ status: 'closed', closure: 'unreachable', callbackAttempts: 3, closedAt: T0 + 13 * DAY + HOUR });
    expect(third.events[0].reason).toBe('no answer within the attempt window');
  });
});

describe('after closure', () => {
  test('when a review is requested within the window, then the next level has 30 days to decide', () => {
    const s = closed();
    const at = CLOSED_AT + 29 * DAY;
    const t = allowed(lifecycle.checkReviewRequest(s, at), () => lifecycle.requestReview(s, { actor: clerk, reason: 'not fixed' }, at));
    expect(t.state.status).toBe('review_requested');
    expect(t.state.clock).toEqual({ kind: 'review', startedAt: at, dueAt: at + 30 * DAY, warned: false, overdueSteps: 0 });
    expect(t.events).toEqual([
      {
        seq: t.state.timeline.length,
        type: 'review_requested',
        at,
        actor: clerk,
        reason: 'not fixed',
        deadlineAt: at + 30 * DAY,
        notify: ['supervisor:370102', 'owner:clerk-1', 'unit:unit-a'],
      },
    ]);
  });

  test('when a review is requested after the window or of an open case, then it is refused', () => {
    const s = closed();
    expect(lifecycle.checkReviewRequest(s, CLOSED_AT + 30 * DAY + 1)).toEqual(
      refusal(s, 'request a review of', `the review window ended at ${new Date(CLOSED_AT + 30 * DAY).toISOString()}`),
    );
    expect(lifecycle.checkReviewRequest(s, CLOSED_AT + 30 * DAY)).toBeUndefined();
    const h = handling();
    expect(lifecycle.checkReviewRequest(h, T0)).toEqual(refusal(h, 'request a review of', "allowed only in 'closed'"));
  });

  test('when a review is upheld, then the case is closed again; when overturned, it is reopened for rework without escalating', () => {
    const requested = lifecycle.requestReview(closed(), { actor: clerk, reason: 'not fixed' }, CLOSED_AT + DAY).state;
    const upheld = allowed(lifecycle.checkReviewDecision(requested), () =>
      lifecycle.decideReview(requested, { actor: supervisor, decision: 'upheld', reason: 'handled well' }, CLOSED_AT + 2 * DAY),
    );
    expect(upheld.state.status).toBe('closed');
    expect(upheld.state.clock).toBeUndefined();
    expect(upheld.events[0]).toMatchObject({ type: 'review_upheld', notify: ['complainant:EC-2026-0000001', 'owner:clerk-1'] });
    const overturned = lifecycle.decideReview(
      requested,
      { actor: supervisor, decision: 'overturned', reason: 'still smoking' },
      CLOSED_AT + 2 * DAY,
    );
    expect(overturned.state).toMatchObject({
      status: 'handling',
      reopenCount: 1,
      escalationLevel: 0,
      closure: undefined,
      monitoringUntil: undefined,
    });
    expect(overturned.events[0]).toMatchObject({
      type: 'reopened',
      reason: 'still smoking',
      deadlineAt: CLOSED_AT + 17 * DAY,
      data: { source: 'review', escalationLevel: 0 },
    });
  });

  test('when no review is requested, then deciding one is refused', () => {
    const s = closed();
    expect(lifecycle.checkReviewDecision(s)).toEqual(refusal(s, 'decide a review of', "allowed only in 'review_requested'"));
  });

  test('when a supervisor reopens a closed case with escalation, then it climbs a level and the unit reworks it in the given days', () => {
    const s = closed();
    const t = allowed(lifecycle.checkReopen(s), () =>
      lifecycle.reopen(
        s,
        { actor: supervisor, reason: 'spot check failed', source: 'spot_check', escalate: true, reworkDays: 10, finding: 'filter missing' },
        CLOSED_AT + 5 * DAY,
      ),
    );
    expect(t.state).toMatchObject({ status: 'handling', escalationLevel: 1, reopenCount: 1, returns: 1, closedAt: undefined });
    expect(t.state.clock).toEqual({
      kind: 'rework',
      startedAt: CLOSED_AT + 5 * DAY,
      dueAt: CLOSED_AT + 15 * DAY,
      warned: false,
      overdueSteps: 0,
    });
    expect(t.events[0].data).toEqual({ source: 'spot_check', finding: 'filter missing', escalationLevel: 1 });
  });

  test('when a case is being handled, then reopening it is refused', () => {
    const s = handling();
    expect(lifecycle.checkReopen(s)).toEqual(refusal(s, 'reopen', "allowed only in 'closed', 'review_requested'"));
  });

  test('when the monitoring window ends, then the case is archived at that moment', () => {
    const s = closed();
    const trigger = nextTrigger(s)!;
    expect(trigger).toEqual({ kind: 'archive', at: CLOSED_AT + 150 * DAY });
    const t = lifecycle.fire(s, trigger);
    expect(t.state.status).toBe('archived');
    expect(t.events).toEqual([{ seq: s.timeline.length + 1, type: 'archived', at: CLOSED_AT + 150 * DAY, actor: SYSTEM }]);
  });
});

describe('escalation and deadlines', () => {
  test('when a case is escalated by hand to the top level, then it is listed in the backlog', () => {
    const s = handling();
    const t = allowed(lifecycle.checkEscalation(s, { level: 3 }), () =>
      lifecycle.escalate(s, { actor: supervisor, reason: 'media attention', level: 3 }, T0 + 2 * DAY),
    );
    expect(t.state.escalationLevel).toBe(3);
    expect(t.events.map((e) => [e.type, e.reason, e.data])).toEqual([
      ['escalated', 'media attention', { from: 0, escalationLevel: 3, manual: true }],
      ['backlog_listed', 'media attention', undefined],
    ]);
    const once = lifecycle.escalate(s, { actor: supervisor, reason: 'r' }, T0 + 2 * DAY);
    expect(once.state.escalationLevel).toBe(1);
    expect(types(once)).toEqual(['escalated']);
  });

  test('when an escalation would not raise the level, or the case is archived, then it is refused', () => {
    const s = lifecycle.escalate(handling(), { actor: supervisor, reason: 'r', level: 2 }, T0).state;
    const detail = 'the level is already 2; the level only goes up, to at most 3';
    expect(lifecycle.checkEscalation(s, { level: 2 })).toEqual(refusal(s, 'escalate', detail));
    expect(lifecycle.checkEscalation(s, { level: 4 })).toEqual(refusal(s, 'escalate', detail));
    expect(lifecycle.checkEscalation(s, {})).toBeUndefined();
    const archived = lifecycle.forward(pending(), { actor: clerk, competentBody: 'b', reason: 'r' }, T0).state;
    expect(lifecycle.checkEscalation(archived, {})).toEqual(refusal(archived, 'escalate'));
  });

  test('when a handling deadline runs out, then a warning comes at 80% and the ladder raises the level 0, 7 and 15 days after', () => {
    let s = handling();
    const fired: Array<[string, number, number]> = [];
    for (let trigger = nextTrigger(s); trigger; trigger = nextTrigger(s)) {
      const t = lifecycle.fire(s, trigger);
      s = t.state;
      for (const e of t.events) fired.push([e.type, e.at, s.escalationLevel]);
    }
    expect(fired).toEqual([
      ['deadline_warning', T0 + DAY + 48 * DAY, 0],
      ['supervision_notice', T0 + 61 * DAY, 1],
      ['escalated_city', T0 + 68 * DAY, 2],
      ['escalated_provincial', T0 + 76 * DAY, 3],
      ['backlog_listed', T0 + 76 * DAY, 3],
    ]);
    expect(s.clock).toMatchObject({ kind: 'handle', warned: true, overdueSteps: 3 });
    expect(s.timeline.find((e) => e.type === 'escalated_city')).toMatchObject({
      reason: 'handle deadline passed',
      data: { clock: 'handle', step: 2, escalationLevel: 2, from: 1 },
      notify: ['city-government:370102', 'unit:unit-a', 'supervisor:370102', 'owner:clerk-1'],
    });
  });

  test('when a ladder step fires on a case already escalated higher by hand, then the level does not go down', () => {
    const s = lifecycle.escalate(handling(), { actor: supervisor, reason: 'r', level: 3 }, T0 + 2 * DAY).state;
    const t = lifecycle.fire(s, { kind: 'ladder', at: T0 + 61 * DAY, step: 1 });
    expect(t.state.escalationLevel).toBe(3);
    expect(t.events[0].data).toEqual({ clock: 'handle', step: 1, escalationLevel: 3, from: 3 });
  });

  test('when an extension moves an overdue deadline into the future, then it is no longer overdue: warning and ladder start again', () => {
    let s = handling();
    s = lifecycle.fire(s, nextTrigger(s)!).state; // warning
    s = lifecycle.fire(s, nextTrigger(s)!).state; // supervision notice at day 61
    expect(s.clock).toMatchObject({ overdueSteps: 1, warned: true });
    s = lifecycle.requestExtension(s, { actor: unit, amount: 20, reason: 'r' }, T0 + 62 * DAY).state;
    s = lifecycle.decideExtension(s, { actor: supervisor, decision: 'approved', reason: 'ok' }, T0 + 63 * DAY).state;
    // 80% of the 80 days from acceptance is day 65: still ahead, so the warning is re-armed.
    expect(s.clock).toEqual({ kind: 'handle', startedAt: T0 + DAY, dueAt: T0 + 81 * DAY, warned: false, overdueSteps: 0 });
    expect(s.escalationLevel).toBe(1);
    expect(nextTrigger(s)).toEqual({ kind: 'warning', at: T0 + 65 * DAY });
    s = lifecycle.fire(s, nextTrigger(s)!).state;
    expect(nextTrigger(s)).toEqual({ kind: 'ladder', at: T0 + 81 * DAY, step: 1 });
  });

  test('when the supplement is not given in 7 days, then the case is archived as insufficient at that moment', () => {
    const s = lifecycle.register(newCase({ missing: ['evidence'] }), T0).state;
    const t = lifecycle.fire(s, nextTrigger(s)!);
    expect(t.state).toMatchObject({ status: 'archived', closure: 'insufficient', closedAt: T0 + 7 * DAY });
    expect(t.state.clock).toBeUndefined();
    expect(t.events).toEqual([
      {
        seq: 3,
        type: 'closed',
        at: T0 + 7 * DAY,
        actor: SYSTEM,
        reason: 'key information was not supplemented in time',
        data: { closure: 'insufficient' },
        notify: ['complainant:EC-2026-0000001'],
      },
    ]);
  });

  test('when a campaign halves the handling period, then the deadline moves earlier once per key, never below the minimum left', () => {
    const s = handling();
    const tightening = { key: 'c1:1', campaignId: 'c1', factor: 0.5, minimumRemainingMs: 3 * DAY, reason: 'campaign', actor: supervisor };
    const t = lifecycle.tightenDeadline(s, tightening, T0 + 10 * DAY);
    expect(t.state.clock).toEqual({ kind: 'handle', startedAt: T0 + DAY, dueAt: T0 + 31 * DAY, warned: false, overdueSteps: 0 });
    expect(t.events).toEqual([
      {
        seq: 4,
        type: 'deadline_tightened',
        at: T0 + 10 * DAY,
        actor: supervisor,
        reason: 'campaign',
        deadlineAt: T0 + 31 * DAY,
        data: { key: 'c1:1', campaignId: 'c1', clock: 'handle', from: T0 + 61 * DAY, to: T0 + 31 * DAY },
        notify: ['unit:unit-a', 'owner:clerk-1'],
      },
    ]);
    expect(lifecycle.tightenDeadline(t.state, { ...tightening, factor: 0.25 }, T0 + 11 * DAY)).toEqual({ state: t.state, events: [] });
    const late = lifecycle.tightenDeadline(s, tightening, T0 + 30 * DAY);
    expect(late.state.clock!.dueAt).toBe(T0 + 33 * DAY);
    expect(lifecycle.tightenDeadline(pending(), tightening, T0)).toEqual({ state: pending(), events: [] });
  });
});

describe('related cases', () => {
  test("when a duplicate is linked, then its complainant gets this case's updates, and linking it again changes nothing", () => {
    const s = handling();
    const link = { caseId: 'EC-2026-0000002', anonymous: false, at: T0 + 3 * DAY };
    const t = lifecycle.linkDuplicate(s, link, T0 + 3 * DAY + 5);
    expect(t.state.linked).toEqual([{ caseId: 'EC-2026-0000002', anonymous: false, linkedAt: T0 + 3 * DAY }]);
    expect(t.events).toEqual([
      {
        seq: 4,
        type: 'duplicate_linked',
        at: T0 + 3 * DAY + 5,
        actor: SYSTEM,
        deadlineAt: T0 + 61 * DAY,
        data: { caseId: 'EC-2026-0000002' },
      },
    ]);
    expect(lifecycle.linkDuplicate(t.state, link, T0 + 4 * DAY)).toEqual({ state: t.state, events: [] });
    const later = lifecycle.transfer(t.state, { actor: supervisor, unitId: 'unit-b', reason: 'r' }, T0 + 4 * DAY);
    expect(later.events[0].notify).toContain('complainant:EC-2026-0000002');
  });

  test('when the site of a closed case pollutes again, then it reopens one level higher; an open case only links the new complaint', () => {
    const r = { caseId: 'EC-2026-0000003', anonymous: true, at: CLOSED_AT + DAY, reason: 'recurrence reported in case EC-2026-0000003' };
    const t = lifecycle.recurrence(closed(), r, CLOSED_AT + DAY);
    expect(t.state).toMatchObject({ status: 'handling', escalationLevel: 1, reopenCount: 1 });
    expect(t.state.linked).toEqual([{ caseId: 'EC-2026-0000003', anonymous: true, linkedAt: CLOSED_AT + DAY }]);
    expect(t.events).toEqual([
      {
        seq: t.state.timeline.length,
        type: 'reopened',
        at: CLOSED_AT + DAY,
        actor: SYSTEM,
        reason: r.reason,
        deadlineAt: CLOSED_AT + 16 * DAY,
        data: { source: 'recurrence', escalationLevel: 1, recurrenceCaseId: 'EC-2026-0000003' },
        notify: ['unit:unit-a', 'owner:clerk-1', 'supervisor:370102'],
      },
    ]);
    const open = lifecycle.recurrence(handling(), r, T0 + 2 * DAY);
    expect(open.state.status).toBe('handling');
    expect(open.events.map((e) => [e.type, e.reason, e.data])).toEqual([
      ['duplicate_linked', 'recurrence reported while the case is still open', { caseId: 'EC-2026-0000003' }],
    ]);
  });
});

describe('declined assignments and undone duplicate links', () => {
  /** A person of unit-a, as the API records a unit's decisions: the person with the unit. */
  const unitPerson: Actor = { id: 'wang-of-unit-a', role: 'unit', unitId: 'unit-a' };

  test('when the assigned unit declines, then the case goes back to the clerk with the acceptance deadline from its receipt', () => {
    const s = lifecycle.requestExtension(handling(), { actor: unitPerson, amount: 5, reason: 'samples' }, T0 + 2 * DAY).state;
    const t = allowed(lifecycle.checkDecline(s, { actor: unitPerson }), () =>
      lifecycle.declineAssignment(s, { actor: unitPerson, reason: 'the site is in another county' }, T0 + 3 * DAY),
    );
    expect(t.state).toMatchObject({ status: 'pending_acceptance', extensions: [] });
    expect(t.state.unitId).toBeUndefined();
    expect(t.state.acceptedAt).toBeUndefined();
    expect(t.state.clock).toEqual({ kind: 'accept', startedAt: T0, dueAt: T0 + 15 * DAY, warned: false, overdueSteps: 0 });
    expect(t.events.map((e) => [e.type, e.actor, e.reason, e.data])).toEqual([
      ['assignment_declined', unitPerson, 'the site is in another county', { unitId: 'unit-a', counting: 'from_receipt' }],
      ['registered_for_acceptance', SYSTEM, 'declined by unit unit-a: to be assigned again', undefined],
    ]);
    // The clerk assigns it again.
    const again = lifecycle.accept(t.state, { actor: clerk, unitId: 'unit-b' }, T0 + 4 * DAY);
    expect(again.state).toMatchObject({ status: 'handling', unitId: 'unit-b' });
  });

  test('when the policy counts a declined assignment from the decline, then the clerk gets a fresh acceptance period', () => {
    const s = handling();
    const fresh = { ...s, policy: { ...s.policy, intake: { ...s.policy.intake, declinedAssignment: 'from_decline' as const } } };
    const t = lifecycle.declineAssignment(fresh, { actor: unit, reason: 'not ours' }, T0 + 3 * DAY);
    expect(t.state.clock).toMatchObject({ kind: 'accept', startedAt: T0 + 3 * DAY, dueAt: T0 + 18 * DAY });
  });

  test('when another unit, a case in rework or a case not being handled is declined, then it is refused', () => {
    const s = handling();
    const what = 'decline the assignment of';
    expect(lifecycle.checkDecline(s, { actor: otherUnit })).toEqual(refusal(s, what, 'the case is assigned to another unit'));
    expect(lifecycle.checkDecline(s, { actor: { id: 'li', role: 'unit', unitId: 'unit-b' } })).toEqual(
      refusal(s, what, 'the case is assigned to another unit'),
    );
    const rework = lifecycle.review(underReview(), { actor: clerk, decision: 'returned', reason: 'thin' }, T0 + 11 * DAY).state;
    expect(lifecycle.checkDecline(rework, { actor: unit })).toEqual(
      refusal(rework, what, 'a case in rework was handled by its unit already'),
    );
    const p = pending();
    expect(lifecycle.checkDecline(p, { actor: unit })).toEqual(refusal(p, what, "allowed only in 'handling'"));
  });

  test("when a unit's person acts, then the unit they act for is the case's unit", () => {
    const s = handling();
    expect(lifecycle.checkResult(s, { actor: unitPerson })).toBeUndefined();
    expect(lifecycle.unitOfActor(unitPerson)).toBe('unit-a');
    expect(lifecycle.unitOfActor(unit)).toBe('unit-a');
  });

  test('when a wrong duplicate is unlinked, then it is a case of its own, up for acceptance from now; the other case drops it', () => {
    const dup = lifecycle.mergeInto(
      lifecycle.register(newCase(), T0).state,
      { kind: 'duplicate', caseId: 'EC-2026-0000009' },
      T0 + 1000,
    ).state;
    const t = allowed(lifecycle.checkUnlink(dup), () => lifecycle.unlink(dup, { actor: supervisor, reason: 'another chimney' }, T0 + DAY));
    expect(t.state).toMatchObject({ status: 'pending_acceptance' });
    expect(t.state.mergedInto).toBeUndefined();
    expect(t.state.closure).toBeUndefined();
    expect(t.state.closedAt).toBeUndefined();
    expect(t.state.clock).toMatchObject({ kind: 'accept', startedAt: T0 + DAY, dueAt: T0 + 16 * DAY });
    expect(t.events.map((e) => [e.type, e.actor, e.data])).toEqual([
      ['duplicate_unlinked', supervisor, { from: 'EC-2026-0000009' }],
      ['registered_for_acceptance', SYSTEM, undefined],
    ]);
    expect(lifecycle.checkUnlink(t.state)).toEqual(refusal(t.state, 'unlink', 'the case is not linked to another as a duplicate'));

    const target = lifecycle.linkDuplicate(handling(), { caseId: 'EC-2026-0000001', anonymous: false, at: T0 }, T0 + 2).state;
    const d = { caseId: 'EC-2026-0000001', actor: supervisor, reason: 'another chimney' };
    const dropped = lifecycle.dropDuplicate(target, d, T0 + DAY);
    expect(dropped.state.linked).toEqual([]);
    expect(dropped.events.map((e) => [e.type, e.data])).toEqual([['duplicate_unlinked', { caseId: 'EC-2026-0000001' }]]);
    expect(lifecycle.dropDuplicate(dropped.state, d, T0 + DAY)).toEqual({ state: dropped.state, events: [] });
  });

  test('when a recurrence or an open case is unlinked, then it is refused', () => {
    const rec = lifecycle.mergeInto(
      lifecycle.register(newCase(), T0).state,
      { kind: 'recurrence', caseId: 'EC-2026-0000008' },
      T0 + 1,
    ).state;
    expect(lifecycle.checkUnlink(rec)).toBeDefined();
    expect(lifecycle.checkUnlink(handling())).toBeDefined();
  });
});
