import { addDuration, durationMs, type Duration } from './calendar';
import {
  MAX_ESCALATION_LEVEL,
  grantedExtension,
  mergeReporter,
  type Accept,
  type Actor,
  type Callback,
  type CaseEvent,
  type CaseState,
  type CaseStatus,
  type ComplaintInput,
  type ClockKind,
  type Closure,
  type Decline,
  type DuplicateUnlinked,
  type Escalate,
  type ExtensionDecision,
  type ExtensionRequest,
  type Forward,
  type LinkDuplicate,
  type Reopen,
  type Result,
  type Review,
  type ReviewDecision,
  type ReviewRequest,
  type SupplementDecision,
  type Transfer,
  type Unlink,
} from './case';
import { handleDueAt, newClock, recomputeHandleClock, type Trigger } from './deadlines';
import { tightenClock, type DeadlineTightening } from './governance';
import { recipientsFor } from './notifications';

/**
 * The complaint's state machine: which decision is possible in which state, and what a decision or
 * a timer does to the case. Pure functions of the state, the decision and the time: they never read
 * the clock, never change the state they are given, and return the new state with the events they
 * appended to its timeline. workflows/complaint.ts drives them: its validators turn a refusal into
 * an INVALID_TRANSITION failure; it keeps the timers (domain/deadlines.ts says when the next is
 * due), projects the events and messages related cases.
 *
 *   registered ──intake check──> pending_acceptance, or archived (duplicate, recurrence)
 *   registered ──key information missing──> awaiting_supplement ──supplement──> intake check
 *                                           awaiting_supplement ──deadline──> archived (insufficient)
 *   pending_acceptance ──accept──> handling            ──forward──> archived (forwarded)
 *   handling ──declineAssignment (wrong unit)──> pending_acceptance (back to the clerk)
 *   archived (duplicate) ──unlink (a wrong automatic link)──> pending_acceptance (a case of its own)
 *   handling ──submitResult──> under_review ──review: approved──> callback, or closed (anonymous)
 *                              under_review ──review: returned──> handling (rework)
 *   callback ──recordCallback──> closed, or handling (a reasonable demand); attempts used up ──> closed
 *   closed ──requestReview──> review_requested ──decideReview: upheld──> closed; overturned ──> handling
 *   closed, review_requested ──reopen, recurrence──> handling (rework)
 *   closed ──monitoring window ends──> archived
 *
 * Transfers, extensions, escalations, duplicate links and campaign tightenings change a case without
 * moving it to another state; supervised clocks (domain/deadlines.ts) warn and climb the ladder.
 */

/** The actor of what the system does on its own: timers, intake checks, recurrences. */
export const SYSTEM: Actor = { id: 'ecoloop', role: 'system' };

/** A decision that is impossible in the case's current state, and why. */
export interface Refusal {
  message: string;
  status: CaseStatus;
  caseId: string;
}

/** The case after a decision or a timer, and the events that were appended to its timeline. */
export interface Transition {
  state: CaseState;
  events: CaseEvent[];
}

/** The case a complaint turned out to belong to. */
export interface RelatedCase {
  kind: 'duplicate' | 'recurrence';
  caseId: string;
}

// ---- Checks: whether a decision is possible now. `undefined` means it is. ----

function refusal(s: CaseState, what: string, detail?: string): Refusal {
  return { message: `Cannot ${what} a case in state '${s.status}'${detail ? `: ${detail}` : ''}`, status: s.status, caseId: s.caseId };
}

function requireStatus(s: CaseState, what: string, ...allowed: CaseStatus[]): Refusal | undefined {
  if (allowed.includes(s.status)) return undefined;
  return refusal(s, what, `allowed only in ${allowed.map((a) => `'${a}'`).join(', ')}`);
}

/** The unit an actor acts for: `unitId`, or for actors recorded before it existed, the unit's id as `id`. */
export function unitOfActor(actor: Actor): string | undefined {
  return actor.role === 'unit' ? (actor.unitId ?? actor.id) : undefined;
}

function requireAssignedUnit(s: CaseState, what: string, actor: Actor): Refusal | undefined {
  return actor.role === 'unit' && unitOfActor(actor) !== s.unitId ? refusal(s, what, 'the case is assigned to another unit') : undefined;
}

export function checkSupplement(s: CaseState): Refusal | undefined {
  return requireStatus(s, 'supplement', 'awaiting_supplement');
}

export function checkAccept(s: CaseState): Refusal | undefined {
  return requireStatus(s, 'accept', 'pending_acceptance');
}

export function checkForward(s: CaseState): Refusal | undefined {
  return requireStatus(s, 'forward', 'pending_acceptance');
}

export function checkTransfer(s: CaseState, u: Pick<Transfer, 'unitId'>): Refusal | undefined {
  return (
    requireStatus(s, 'transfer', 'handling') ??
    (u.unitId === s.unitId ? refusal(s, 'transfer', `the case is already with unit '${u.unitId}'`) : undefined)
  );
}

/** Only the assigned unit, only in the handling period (not rework), one request at a time, within the policy's limit. */
export function checkExtensionRequest(s: CaseState, u: Pick<ExtensionRequest, 'actor' | 'amount'>): Refusal | undefined {
  const what = 'request an extension for';
  const refused = requireStatus(s, what, 'handling') ?? requireAssignedUnit(s, what, u.actor);
  if (refused) return refused;
  if (s.clock?.kind !== 'handle') return refusal(s, what, 'extensions apply to the handling period only, not to rework');
  if (s.extensions.some((e) => !e.decision)) return refusal(s, what, 'an extension request is already pending');
  const max = s.policy.limits.maxExtension.amount;
  const left = max - grantedExtension(s);
  if (u.amount > left) return refusal(s, what, `at most ${left} more ${s.policy.limits.maxExtension.unit} may be granted (limit ${max})`);
  return undefined;
}

export function checkExtensionDecision(s: CaseState): Refusal | undefined {
  return s.extensions.some((e) => !e.decision) ? undefined : refusal(s, 'decide an extension for', 'no extension request is pending');
}

export function checkResult(s: CaseState, u: Pick<Result, 'actor'>): Refusal | undefined {
  return requireStatus(s, 'submit a result for', 'handling') ?? requireAssignedUnit(s, 'submit a result for', u.actor);
}

export function checkReview(s: CaseState): Refusal | undefined {
  return requireStatus(s, 'review the result of', 'under_review');
}

export function checkCallback(s: CaseState, u: Pick<Callback, 'outcome' | 'reasonableDemand'>): Refusal | undefined {
  const what = 'record a callback for';
  const refused = requireStatus(s, what, 'callback');
  if (refused) return refused;
  if (u.outcome === 'dissatisfied' && u.reasonableDemand === undefined) {
    return refusal(s, what, 'a dissatisfied callback must say whether the demand is reasonable');
  }
  return undefined;
}

/** A review may be requested of a closed case until its review window ends. */
export function checkReviewRequest(s: CaseState, now: number): Refusal | undefined {
  const refused = requireStatus(s, 'request a review of', 'closed');
  if (refused) return refused;
  if (now > (s.reviewRequestUntil ?? 0)) {
    return refusal(s, 'request a review of', `the review window ended at ${new Date(s.reviewRequestUntil ?? 0).toISOString()}`);
  }
  return undefined;
}

export function checkReviewDecision(s: CaseState): Refusal | undefined {
  return requireStatus(s, 'decide a review of', 'review_requested');
}

/** The escalation level only goes up, to at most MAX_ESCALATION_LEVEL; an archived case is not escalated. */
export function checkEscalation(s: CaseState, u: Pick<Escalate, 'level'>): Refusal | undefined {
  if (s.status === 'archived') return refusal(s, 'escalate');
  const target = u.level ?? s.escalationLevel + 1;
  if (target <= s.escalationLevel || target > MAX_ESCALATION_LEVEL) {
    return refusal(s, 'escalate', `the level is already ${s.escalationLevel}; the level only goes up, to at most ${MAX_ESCALATION_LEVEL}`);
  }
  return undefined;
}

export function checkReopen(s: CaseState): Refusal | undefined {
  return requireStatus(s, 'reopen', 'closed', 'review_requested');
}

/** Only the assigned unit, only in the handling period (once it has replied or reworks, the case is its own). */
export function checkDecline(s: CaseState, u: Pick<Decline, 'actor'>): Refusal | undefined {
  const what = 'decline the assignment of';
  const refused = requireStatus(s, what, 'handling') ?? requireAssignedUnit(s, what, u.actor);
  if (refused) return refused;
  if (s.clock?.kind !== 'handle') return refusal(s, what, 'a case in rework was handled by its unit already');
  return undefined;
}

/** Only a case closed as an automatic duplicate of another can be unlinked from it. */
export function checkUnlink(s: CaseState): Refusal | undefined {
  if (s.closure === 'duplicate' && s.mergedInto) return undefined;
  return refusal(s, 'unlink', 'the case is not linked to another as a duplicate');
}

// ---- Changes: a copy of the state and what happens to it ----

/** Closures that archive the case at once: no review window, nothing to monitor. */
const TERMINAL_CLOSURES: readonly Closure[] = ['insufficient', 'forwarded', 'duplicate', 'recurrence'];
/** The event of each ladder step (1 supervision, 2 city, 3 provincial). */
const LADDER_EVENTS = ['', 'supervision_notice', 'escalated_city', 'escalated_provincial'];

/** A copy deep enough that changing it leaves the original as it was (events and the policy are never changed). */
function copy(s: CaseState): CaseState {
  return {
    ...s,
    intake: { ...s.intake },
    ...(s.clock && { clock: { ...s.clock } }),
    extensions: s.extensions.map((e) => ({ ...e })),
    linked: [...s.linked],
    timeline: [...s.timeline],
  };
}

/** One transition in the making: the copied state, the moment it happens at, the events so far. */
class Change {
  readonly s: CaseState;
  readonly events: CaseEvent[] = [];

  constructor(
    from: CaseState,
    readonly now: number,
  ) {
    this.s = copy(from);
  }

  emit(type: string, actor: Actor, extra: { reason?: string; data?: Record<string, unknown> } = {}): CaseEvent {
    const s = this.s;
    const event: CaseEvent = {
      seq: s.timeline.length + 1,
      type,
      at: this.now,
      actor,
      ...(extra.reason !== undefined && { reason: extra.reason }),
      ...(s.clock && { deadlineAt: s.clock.dueAt }),
      ...(extra.data && { data: extra.data }),
    };
    const notify = recipientsFor(event, s);
    if (notify.length) event.notify = notify;
    s.timeline.push(event);
    this.events.push(event);
    return event;
  }

  startClock(kind: ClockKind, dueAt: number, startedAt = this.now) {
    this.s.clock = newClock(kind, startedAt, dueAt);
  }

  /** `start` plus a duration, counted on the case's calendar. */
  after(start: number, d: Duration): number {
    return addDuration(start, d, this.s.policy.calendar);
  }

  close(closure: Closure, actor: Actor, reason?: string, data?: Record<string, unknown>) {
    const s = this.s;
    s.closure = closure;
    s.closedAt = this.now;
    s.clock = undefined;
    if (TERMINAL_CLOSURES.includes(closure)) {
      s.status = 'archived';
      this.emit('closed', actor, { reason, data: { closure, ...data } });
      return;
    }
    s.status = 'closed';
    const { reviewRequestWindow, monitoringWindow } = s.policy.limits;
    s.reviewRequestUntil = this.after(this.now, reviewRequestWindow);
    s.monitoringUntil = this.after(this.now, monitoringWindow);
    this.emit('closed', actor, { reason, data: { closure, ...data, monitoringUntil: s.monitoringUntil } });
  }

  returnToUnit(actor: Actor, type: string, reason: string, reworkDays?: number, data?: Record<string, unknown>) {
    const s = this.s;
    s.returns++;
    s.result = undefined;
    s.callbackAttempts = 0;
    s.status = 'handling';
    this.startClock('rework', this.after(this.now, reworkDays ? { amount: reworkDays, unit: 'days' } : s.policy.limits.rework));
    this.emit(type, actor, { reason, data });
  }

  startCallback(actor: Actor) {
    if (this.s.intake.reporter.anonymous) {
      this.emit('callback_skipped', SYSTEM, { reason: 'anonymous complainant: no one to call back' });
      this.close('no_callback', actor);
      return;
    }
    this.s.status = 'callback';
    this.s.callbackAttempts = 0;
    this.startCallbackAttempt();
  }

  startCallbackAttempt() {
    this.startClock('callback', this.after(this.now, this.s.policy.limits.callback.spacing));
    this.emit('callback_attempt_started', SYSTEM, { data: { attempt: this.s.callbackAttempts + 1 } });
  }

  failedCallbackAttempt(actor: Actor, note?: string) {
    const s = this.s;
    s.callbackAttempts++;
    this.emit('callback_unreachable', actor, { reason: note, data: { attempt: s.callbackAttempts } });
    if (s.callbackAttempts >= s.policy.limits.callback.attempts) this.close('unreachable', SYSTEM);
    else this.startCallbackAttempt();
  }

  raiseLevel(level: number) {
    this.s.escalationLevel = Math.max(this.s.escalationLevel, Math.min(level, MAX_ESCALATION_LEVEL));
  }

  reopen(r: Reopen, data: Record<string, unknown> = {}) {
    const s = this.s;
    if (r.escalate) this.raiseLevel(s.escalationLevel + 1);
    s.reopenCount++;
    s.closure = undefined;
    s.closedAt = undefined;
    s.reviewRequestUntil = undefined;
    s.monitoringUntil = undefined;
    this.returnToUnit(r.actor, 'reopened', r.reason, r.reworkDays, {
      source: r.source,
      ...(r.finding && { finding: r.finding }),
      escalationLevel: s.escalationLevel,
      ...data,
    });
  }

  done(): Transition {
    return { state: this.s, events: this.events };
  }
}

function change(s: CaseState, now: number, apply: (c: Change) => void): Transition {
  const c = new Change(s, now);
  apply(c);
  return c.done();
}

const unchanged = (s: CaseState): Transition => ({ state: s, events: [] });

// ---- Intake ----

/** The state of a case before its first transition: what registration gives, nothing decided yet. */
export function initialState(input: ComplaintInput): CaseState {
  return {
    caseId: input.caseId,
    intake: input.intake,
    policy: input.policy,
    status: 'registered',
    owner: input.owner,
    receivedAt: input.receivedAt,
    escalationLevel: 0,
    extensions: [],
    returns: 0,
    callbackAttempts: 0,
    linked: [],
    reopenCount: 0,
    timeline: [],
    projectedSeq: 0,
  };
}

/** A new case is registered; with key information missing, the complainant is asked to supplement it. */
export function register(s: CaseState, now: number): Transition {
  return change(s, now, (c) => {
    const { channel, category, urgency, missing } = c.s.intake;
    c.emit('registered', c.s.owner, { data: { channel, category, urgency, policyVersion: c.s.policy.version } });
    if (missing.length > 0) {
      c.s.status = 'awaiting_supplement';
      c.startClock('supplement', c.after(now, c.s.policy.limits.supplement));
      c.emit('supplement_requested', c.s.owner, { data: { missing } });
    }
  });
}

/** The missing information arrives: the supplement clock stops while the intake check runs. */
export function supplement(s: CaseState, u: SupplementDecision, now: number): Transition {
  return change(s, now, (c) => {
    const intake = c.s.intake;
    if (u.description) intake.description = u.description;
    if (u.location) intake.location = { ...intake.location, ...u.location };
    if (u.reporter) intake.reporter = mergeReporter(intake.reporter, u.reporter);
    intake.missing = [];
    c.emit('supplemented', u.actor, { reason: u.note });
    c.s.clock = undefined;
  });
}

/**
 * What the intake check of a complete complaint looks for: an open case of the same category nearby
 * registered within the duplicate window, or a case at the same site closed within the recurrence window.
 */
export function relatedCaseSearch(s: CaseState, now: number) {
  const windows = s.policy.intake;
  return {
    caseId: s.caseId,
    category: s.intake.category,
    divisionCode: s.intake.divisionCode,
    location: s.intake.location,
    radiusMeters: windows.duplicateRadiusMeters,
    duplicateSince: now - durationMs(windows.duplicateWindow),
    recurrenceSince: now - durationMs(windows.recurrenceWindow),
    receivedAt: s.receivedAt,
  };
}

/** The complaint belongs to a related case, which has been told: this one is closed into it. */
export function mergeInto(s: CaseState, related: RelatedCase, now: number): Transition {
  return change(s, now, (c) => {
    c.s.mergedInto = related.caseId;
    if (related.kind === 'duplicate') {
      c.close('duplicate', SYSTEM, `duplicate of open case ${related.caseId}`, { linkedTo: related.caseId });
    } else {
      c.close('recurrence', SYSTEM, `recurrence at the site of case ${related.caseId}, which is reopened`, { reopened: related.caseId });
    }
  });
}

/**
 * The complaint is handled on its own: it is put up for acceptance. The acceptance period runs from
 * `receivedAt`: the receipt, or the moment the missing information arrived.
 */
export function registerForAcceptance(s: CaseState, receivedAt: number, now: number): Transition {
  return change(s, now, (c) => {
    c.s.status = 'pending_acceptance';
    c.startClock('accept', c.after(receivedAt, c.s.policy.limits.accept), receivedAt);
    c.emit('registered_for_acceptance', SYSTEM);
  });
}

// ---- Decisions ----

export function accept(s: CaseState, u: Accept, now: number): Transition {
  return change(s, now, (c) => {
    c.s.acceptedAt = now;
    c.s.unitId = u.unitId;
    c.s.status = 'handling';
    c.startClock('handle', handleDueAt(now, grantedExtension(c.s), c.s.policy));
    c.emit('accepted', u.actor, { reason: u.note, data: { unitId: u.unitId } });
  });
}

export function forward(s: CaseState, u: Forward, now: number): Transition {
  return change(s, now, (c) => c.close('forwarded', u.actor, u.reason, { competentBody: u.competentBody }));
}

export function transfer(s: CaseState, u: Transfer, now: number): Transition {
  return change(s, now, (c) => {
    const from = c.s.unitId;
    c.s.unitId = u.unitId;
    c.emit('transferred', u.actor, { reason: u.reason, data: { from, to: u.unitId } });
  });
}

export function requestExtension(s: CaseState, u: ExtensionRequest, now: number): Transition {
  return change(s, now, (c) => {
    c.s.extensions.push({ amount: u.amount, reason: u.reason, requestedAt: now, requestedBy: u.actor });
    c.emit('extension_requested', u.actor, { reason: u.reason, data: { amount: u.amount, unit: c.s.policy.limits.maxExtension.unit } });
  });
}

/** An approved extension moves the handling deadline; the complainant is told why, either way (see domain/notifications.ts). */
export function decideExtension(s: CaseState, u: ExtensionDecision, now: number): Transition {
  return change(s, now, (c) => {
    const pending = c.s.extensions.find((e) => !e.decision)!;
    pending.decision = u.decision;
    pending.decidedAt = now;
    pending.decidedBy = u.actor;
    pending.decisionReason = u.reason;
    if (u.decision === 'approved') c.s.clock = recomputeHandleClock(c.s, now);
    c.emit(`extension_${u.decision}`, u.actor, { reason: u.reason, data: { amount: pending.amount } });
  });
}

export function submitResult(s: CaseState, u: Result, now: number): Transition {
  return change(s, now, (c) => {
    c.s.result = { summary: u.summary, reply: u.reply, submittedAt: now, submittedBy: u.actor };
    c.s.repliedAt = now;
    c.s.clock = undefined;
    c.s.status = 'under_review';
    c.emit('result_submitted', u.actor, { data: { summary: u.summary } });
  });
}

/** An approved result goes to the callback (or closes an anonymous case); a returned one goes back to the unit for rework. */
export function review(s: CaseState, u: Review, now: number): Transition {
  return change(s, now, (c) => {
    if (u.decision === 'approved') {
      c.emit('result_approved', u.actor, { reason: u.note });
      c.startCallback(u.actor);
    } else {
      c.returnToUnit(u.actor, 'result_returned', u.reason, u.reworkDays);
    }
  });
}

/** A dissatisfied complainant with a reasonable demand sends the case back to the unit; any other answer closes it. */
export function recordCallback(s: CaseState, u: Callback, now: number): Transition {
  return change(s, now, (c) => {
    if (u.outcome === 'unreachable') {
      c.failedCallbackAttempt(u.actor, u.note);
    } else if (u.outcome === 'dissatisfied' && u.reasonableDemand) {
      c.emit('callback_answered', u.actor, { reason: u.note, data: { outcome: u.outcome, reasonableDemand: true } });
      c.returnToUnit(u.actor, 'returned_after_callback', u.note ?? 'the complainant is dissatisfied and the demand is reasonable');
    } else {
      c.emit('callback_answered', u.actor, { reason: u.note, data: { outcome: u.outcome, reasonableDemand: u.reasonableDemand ?? null } });
      c.close(u.outcome === 'dissatisfied' ? 'resolved_dissatisfied' : 'resolved', u.actor, undefined, { satisfaction: u.outcome });
    }
  });
}

export function requestReview(s: CaseState, u: ReviewRequest, now: number): Transition {
  return change(s, now, (c) => {
    c.s.status = 'review_requested';
    c.startClock('review', c.after(now, c.s.policy.limits.reviewDue));
    c.emit('review_requested', u.actor, { reason: u.reason });
  });
}

/** An upheld review closes the case again; an overturned one reopens it (without escalating). */
export function decideReview(s: CaseState, u: ReviewDecision, now: number): Transition {
  return change(s, now, (c) => {
    if (u.decision === 'upheld') {
      c.s.clock = undefined;
      c.s.status = 'closed';
      c.emit('review_upheld', u.actor, { reason: u.reason });
    } else {
      c.reopen({ actor: u.actor, reason: u.reason, source: 'review', escalate: false });
    }
  });
}

/** A manual escalation; reaching the top level lists the case in the backlog. */
export function escalate(s: CaseState, u: Escalate, now: number): Transition {
  return change(s, now, (c) => {
    const from = c.s.escalationLevel;
    c.raiseLevel(u.level ?? from + 1);
    c.emit('escalated', u.actor, { reason: u.reason, data: { from, escalationLevel: c.s.escalationLevel, manual: true } });
    if (c.s.escalationLevel === MAX_ESCALATION_LEVEL && from < MAX_ESCALATION_LEVEL) {
      c.emit('backlog_listed', u.actor, { reason: u.reason });
    }
  });
}

export function reopen(s: CaseState, u: Reopen, now: number): Transition {
  return change(s, now, (c) => c.reopen(u));
}

/**
 * The unit declines a case that is not theirs: the case goes back to the clerk for reassignment
 * (pending acceptance, no unit). Its acceptance deadline is as the policy counts a wrong assignment
 * (`intake.declinedAssignment`): by default the one from its receipt, which has kept running.
 * Pending extension requests lapse with the assignment.
 */
export function declineAssignment(s: CaseState, u: Decline, now: number): Transition {
  return change(s, now, (c) => {
    const from = c.s.unitId;
    c.s.unitId = undefined;
    c.s.acceptedAt = undefined;
    c.s.extensions = c.s.extensions.filter((e) => e.decision);
    c.s.status = 'pending_acceptance';
    const counting = c.s.policy.intake.declinedAssignment ?? 'from_receipt';
    const lastDue = [...c.s.timeline].reverse().find((e) => e.type === 'registered_for_acceptance')?.deadlineAt;
    const dueAt =
      counting === 'from_receipt' ? (lastDue ?? c.after(c.s.receivedAt, c.s.policy.limits.accept)) : c.after(now, c.s.policy.limits.accept);
    c.startClock('accept', dueAt, counting === 'from_receipt' ? c.s.receivedAt : now);
    c.emit('assignment_declined', u.actor, { reason: u.reason, data: { unitId: from, counting } });
    c.emit('registered_for_acceptance', SYSTEM, { reason: `declined by unit ${from}: to be assigned again` });
  });
}

/**
 * A supervisor undoes a wrong automatic duplicate link: the case is a case of its own again and is
 * put up for acceptance, its acceptance period running from now (it reached the clerk only now).
 */
export function unlink(s: CaseState, u: Unlink, now: number): Transition {
  return change(s, now, (c) => {
    const from = c.s.mergedInto;
    c.s.mergedInto = undefined;
    c.s.closure = undefined;
    c.s.closedAt = undefined;
    c.s.status = 'pending_acceptance';
    c.startClock('accept', c.after(now, c.s.policy.limits.accept));
    c.emit('duplicate_unlinked', u.actor, { reason: u.reason, data: { from } });
    c.emit('registered_for_acceptance', SYSTEM);
  });
}

// ---- Messages from other cases and campaigns ----

/** A duplicate of this case was registered; linked once, its complainant gets this case's updates. */
export function linkDuplicate(s: CaseState, l: LinkDuplicate, now: number): Transition {
  if (s.linked.some((x) => x.caseId === l.caseId)) return unchanged(s);
  return change(s, now, (c) => {
    c.s.linked.push({ caseId: l.caseId, anonymous: l.anonymous, linkedAt: l.at });
    c.emit('duplicate_linked', SYSTEM, { data: { caseId: l.caseId } });
  });
}

/** A case linked to this one as a duplicate was unlinked by a supervisor: it no longer follows this case. */
export function dropDuplicate(s: CaseState, d: DuplicateUnlinked, now: number): Transition {
  if (!s.linked.some((x) => x.caseId === d.caseId)) return unchanged(s);
  return change(s, now, (c) => {
    c.s.linked = c.s.linked.filter((x) => x.caseId !== d.caseId);
    c.emit('duplicate_unlinked', d.actor, { reason: d.reason, data: { caseId: d.caseId } });
  });
}

/** The site is polluting again: a closed case is reopened one level higher; an open one only links the new complaint. */
export function recurrence(s: CaseState, r: LinkDuplicate & { reason: string }, now: number): Transition {
  return change(s, now, (c) => {
    if (!c.s.linked.some((x) => x.caseId === r.caseId)) c.s.linked.push({ caseId: r.caseId, anonymous: r.anonymous, linkedAt: r.at });
    if (c.s.status === 'closed' || c.s.status === 'review_requested') {
      c.reopen({ actor: SYSTEM, reason: r.reason, source: 'recurrence', escalate: true }, { recurrenceCaseId: r.caseId });
    } else {
      c.emit('duplicate_linked', SYSTEM, { reason: 'recurrence reported while the case is still open', data: { caseId: r.caseId } });
    }
  });
}

/** A campaign moves the running handle or rework deadline earlier, once per key; a deadline it would not move stays. */
export function tightenDeadline(s: CaseState, t: DeadlineTightening, now: number): Transition {
  if (s.timeline.some((e) => e.type === 'deadline_tightened' && e.data?.key === t.key)) return unchanged(s);
  const clock = s.clock && tightenClock(s.clock, t, now, s.policy.limits.warningAt);
  if (!clock) return unchanged(s);
  return change(s, now, (c) => {
    const from = c.s.clock!.dueAt;
    c.s.clock = clock;
    c.emit('deadline_tightened', t.actor, {
      reason: t.reason,
      data: { key: t.key, campaignId: t.campaignId, clock: clock.kind, from, to: clock.dueAt },
    });
  });
}

// ---- The read model ----

/**
 * The read model refused the events from `fromSeq` on with an error retrying cannot fix: the case
 * records it (its search attribute `EcoAttention` turns true and operations are told) and goes on.
 */
export function projectionFailed(s: CaseState, f: { fromSeq: number; sqlState?: string; error: string }, now: number): Transition {
  return change(s, now, (c) => {
    c.emit('projection_failed', SYSTEM, { reason: f.error, data: { fromSeq: f.fromSeq, sqlState: f.sqlState ?? null } });
    // Nothing is in the dead-letter table yet: the workflow moves `deadLetteredSeq` once it has kept them.
    c.s.projectionFailure = { fromSeq: f.fromSeq, deadLetteredSeq: f.fromSeq - 1, sqlState: f.sqlState, error: f.error, at: now };
  });
}

/** A projection succeeded again (its cause fixed, `npm run projection:replay`): the read model has every event. */
export function projectionRepaired(s: CaseState, now: number): Transition {
  return change(s, now, (c) => {
    const failed = c.s.projectionFailure;
    c.s.projectionFailure = undefined;
    c.emit('projection_repaired', SYSTEM, { data: { fromSeq: failed?.fromSeq ?? null } });
  });
}

// ---- Time ----

/**
 * What a due trigger (see `nextTrigger` in domain/deadlines.ts) does. Its events are dated when it
 * fired: when it was due, or, for a trigger that was already due when the workflow last looked
 * (`seenAt`: a case registered with a `receivedAt` long past), at that look, so that no event is
 * dated before the case was registered. Without `seenAt`, when it was due (cases started before
 * the workflow's `project-in-workflow-task` patch).
 */
export function fire(s: CaseState, t: Trigger, seenAt: number = t.at): Transition {
  return change(s, Math.max(t.at, seenAt), (c) => {
    const clock = c.s.clock!;
    switch (t.kind) {
      case 'warning':
        clock.warned = true;
        c.emit('deadline_warning', SYSTEM, { data: { clock: clock.kind } });
        return;
      case 'ladder': {
        clock.overdueSteps = t.step!;
        const before = c.s.escalationLevel;
        c.raiseLevel(t.step!);
        c.emit(LADDER_EVENTS[t.step!], SYSTEM, {
          reason: `${clock.kind} deadline passed`,
          data: { clock: clock.kind, step: t.step, escalationLevel: c.s.escalationLevel, from: before },
        });
        if (t.step === 3) c.emit('backlog_listed', SYSTEM, { reason: 'overdue past the provincial escalation step' });
        return;
      }
      case 'due':
        if (clock.kind === 'supplement') {
          c.s.clock = undefined;
          c.close('insufficient', SYSTEM, 'key information was not supplemented in time');
        } else if (clock.kind === 'callback') {
          c.failedCallbackAttempt(SYSTEM, 'no answer within the attempt window');
        }
        return;
      case 'archive':
        c.s.status = 'archived';
        c.emit('archived', SYSTEM);
        return;
    }
  });
}
