import {
  ApplicationFailure,
  allHandlersFinished,
  condition,
  continueAsNew,
  getExternalWorkflowHandle,
  log,
  patched,
  proxyActivities,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { createActivities } from '../activities';
import { addDuration, durationMs } from '../domain/calendar';
import {
  MAX_ESCALATION_LEVEL,
  grantedExtension,
  toView,
  workflowIdFor,
  type Accept,
  type Actor,
  type Callback,
  type CaseEvent,
  type CaseState,
  type CaseStatus,
  type CaseView,
  type ClockKind,
  type Closure,
  type ComplaintInput,
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
  type Supplement,
  type Transfer,
} from '../domain/case';
import { handleDueAt, newClock, nextTrigger, recomputeHandleClock, type Trigger } from '../domain/deadlines';
import { tightenClock, type DeadlineTightening } from '../domain/governance';
import { recipientsFor } from '../domain/notifications';
import {
  caseStatusKey,
  categoryKey,
  divisionKey,
  escalationLevelKey,
  nextDeadlineKey,
  overdueKey,
  ownerKey,
  unitKey,
} from '../domain/search-attributes';
import {
  statusQuery,
  supplementUpdate,
  acceptUpdate,
  forwardUpdate,
  transferUpdate,
  requestExtensionUpdate,
  decideExtensionUpdate,
  submitResultUpdate,
  reviewUpdate,
  recordCallbackUpdate,
  requestReviewUpdate,
  decideReviewUpdate,
  escalateUpdate,
  reopenUpdate,
  linkDuplicateSignal,
  recurrenceSignal,
  tightenDeadlineSignal,
  INVALID_TRANSITION,
  type ComplaintOutcome,
  type ComplaintWorkflowInput,
} from './contracts/complaint';

/**
 * Patch id: the main loop wakes on any change made while it projected. Without it, an event emitted
 * by an update handler in the same activation as the projection's completion waited for the next
 * timer, and the update (which waits for its projection) with it.
 */
export const WAKE_ON_CHANGES_DURING_PROJECTION = 'wake-on-changes-during-projection';

const SYSTEM: Actor = { id: 'ecoloop', role: 'system' };

const { projectCase } = proxyActivities<ReturnType<typeof createActivities>>({
  // Projection must never be given up: a database outage only delays it. Retries back off to one a minute.
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
});
const { findRelatedCase } = proxyActivities<ReturnType<typeof createActivities>>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 20 },
});

/**
 * One complaint, from registration to archive. Every deadline is a durable timer computed from the
 * state (see domain/deadlines.ts); every decision is an update whose validator rejects an
 * impossible transition before anything is written to history.
 */
export async function complaintWorkflow(input: ComplaintWorkflowInput): Promise<ComplaintOutcome> {
  const s: CaseState = 'resume' in input ? input.resume : initialState(input);
  const casLimit = input.continueAsNewAfterEvents;
  const isNew = !('resume' in input);
  let version = 0;
  const touch = () => void version++;
  // Cases started before this patch keep the old wake-up, so their histories replay unchanged.
  const wakeOnChangesDuringProjection = patched(WAKE_ON_CHANGES_DURING_PROJECTION);

  // ---- State changes ----

  /** The moment a timer-driven event is due: it is recorded at that moment, not when the task ran. */
  let firingAt: number | undefined;
  const nowMs = () => firingAt ?? Date.now();

  function emit(type: string, actor: Actor, extra: { reason?: string; data?: Record<string, unknown> } = {}): CaseEvent {
    const event: CaseEvent = {
      seq: s.timeline.length + 1,
      type,
      at: nowMs(),
      actor,
      ...(extra.reason !== undefined && { reason: extra.reason }),
      ...(s.clock && { deadlineAt: s.clock.dueAt }),
      ...(extra.data && { data: extra.data }),
    };
    const notify = recipientsFor(event, s);
    if (notify.length) event.notify = notify;
    s.timeline.push(event);
    touch();
    return event;
  }

  function setStatus(status: CaseStatus) {
    s.status = status;
  }

  function startClock(kind: ClockKind, dueAt: number, now = nowMs()) {
    s.clock = newClock(kind, now, dueAt);
  }

  function close(closure: Closure, actor: Actor, reason?: string, data?: Record<string, unknown>) {
    const now = nowMs();
    s.closure = closure;
    s.closedAt = now;
    s.clock = undefined;
    const terminal = closure === 'insufficient' || closure === 'forwarded' || closure === 'duplicate' || closure === 'recurrence';
    if (terminal) {
      setStatus('archived');
      emit('closed', actor, { reason, data: { closure, ...data } });
      return;
    }
    setStatus('closed');
    const { reviewRequestWindow, monitoringWindow } = s.policy.limits;
    s.reviewRequestUntil = addDuration(now, reviewRequestWindow, s.policy.calendar);
    s.monitoringUntil = addDuration(now, monitoringWindow, s.policy.calendar);
    emit('closed', actor, { reason, data: { closure, ...data, monitoringUntil: s.monitoringUntil } });
  }

  function startAcceptance(now = nowMs()) {
    setStatus('pending_acceptance');
    startClock('accept', addDuration(now, s.policy.limits.accept, s.policy.calendar), now);
  }

  function returnToUnit(actor: Actor, type: string, reason: string, reworkDays?: number, data?: Record<string, unknown>) {
    const now = nowMs();
    s.returns++;
    s.result = undefined;
    s.callbackAttempts = 0;
    setStatus('handling');
    const due = reworkDays
      ? addDuration(now, { amount: reworkDays, unit: 'days' }, s.policy.calendar)
      : addDuration(now, s.policy.limits.rework, s.policy.calendar);
    startClock('rework', due, now);
    emit(type, actor, { reason, data });
  }

  function startCallback(actor: Actor) {
    if (s.intake.reporter.anonymous) {
      emit('callback_skipped', SYSTEM, { reason: 'anonymous complainant: no one to call back' });
      close('no_callback', actor);
      return;
    }
    setStatus('callback');
    s.callbackAttempts = 0;
    startCallbackAttempt();
  }

  function startCallbackAttempt() {
    const now = nowMs();
    startClock('callback', addDuration(now, s.policy.limits.callback.spacing, s.policy.calendar), now);
    emit('callback_attempt_started', SYSTEM, { data: { attempt: s.callbackAttempts + 1 } });
  }

  function failedCallbackAttempt(actor: Actor, note?: string) {
    s.callbackAttempts++;
    emit('callback_unreachable', actor, { reason: note, data: { attempt: s.callbackAttempts } });
    if (s.callbackAttempts >= s.policy.limits.callback.attempts) close('unreachable', SYSTEM);
    else startCallbackAttempt();
  }

  function raiseLevel(level: number) {
    s.escalationLevel = Math.max(s.escalationLevel, Math.min(level, MAX_ESCALATION_LEVEL));
  }

  function reopen(r: Reopen, data: Record<string, unknown> = {}) {
    if (r.escalate) raiseLevel(s.escalationLevel + 1);
    s.reopenCount++;
    s.closure = undefined;
    s.closedAt = undefined;
    s.reviewRequestUntil = undefined;
    s.monitoringUntil = undefined;
    returnToUnit(r.actor, 'reopened', r.reason, r.reworkDays, {
      source: r.source,
      ...(r.finding && { finding: r.finding }),
      escalationLevel: s.escalationLevel,
      ...data,
    });
  }

  function fire(t: Trigger) {
    const clock = s.clock!;
    switch (t.kind) {
      case 'warning':
        clock.warned = true;
        emit('deadline_warning', SYSTEM, { data: { clock: clock.kind } });
        return;
      case 'ladder': {
        clock.overdueSteps = t.step!;
        const before = s.escalationLevel;
        raiseLevel(t.step!);
        const names = ['', 'supervision_notice', 'escalated_city', 'escalated_provincial'];
        emit(names[t.step!], SYSTEM, {
          reason: `${clock.kind} deadline passed`,
          data: { clock: clock.kind, step: t.step, escalationLevel: s.escalationLevel, from: before },
        });
        if (t.step === 3) emit('backlog_listed', SYSTEM, { reason: 'overdue past the provincial escalation step' });
        return;
      }
      case 'due':
        if (clock.kind === 'supplement') {
          s.clock = undefined;
          close('insufficient', SYSTEM, 'key information was not supplemented in time');
        } else if (clock.kind === 'callback') {
          failedCallbackAttempt(SYSTEM, 'no answer within the attempt window');
        }
        return;
      case 'archive':
        setStatus('archived');
        emit('archived', SYSTEM);
        return;
    }
  }

  // ---- Validation helpers: reject with a typed failure naming the current state ----

  function reject(what: string, detail?: string): never {
    throw ApplicationFailure.create({
      type: INVALID_TRANSITION,
      message: `Cannot ${what} a case in state '${s.status}'${detail ? `: ${detail}` : ''}`,
      nonRetryable: true,
      details: [{ status: s.status, caseId: s.caseId }],
    });
  }
  function requireStatus(what: string, ...allowed: CaseStatus[]) {
    if (!allowed.includes(s.status)) reject(what, `allowed only in ${allowed.map((a) => `'${a}'`).join(', ')}`);
  }
  function requireAssignedUnit(what: string, actor: Actor) {
    if (actor.role === 'unit' && actor.id !== s.unitId) reject(what, `the case is assigned to another unit`);
  }

  /** Let the caller see its change in the read model before the update returns. */
  async function projected(): Promise<CaseView> {
    const seq = s.timeline.length;
    await condition(() => s.projectedSeq >= seq);
    return toView(s, Date.now());
  }

  // ---- Handlers ----

  setHandler(statusQuery, () => toView(s, Date.now()));

  setHandler(
    supplementUpdate,
    async (u) => {
      if (u.description) s.intake.description = u.description;
      if (u.location) s.intake.location = { ...s.intake.location, ...u.location };
      if (u.reporter) {
        s.intake.reporter = { ...s.intake.reporter, ...u.reporter };
        reporterRevision++;
      }
      s.intake.missing = [];
      const supplemented = emit('supplemented', u.actor, { reason: u.note });
      await intakeComplete(supplemented.at);
      return projected();
    },
    { validator: (_arg: unknown) => requireStatus('supplement', 'awaiting_supplement') },
  );

  setHandler(
    acceptUpdate,
    (u) => {
      const now = Date.now();
      s.acceptedAt = now;
      s.unitId = u.unitId;
      setStatus('handling');
      startClock('handle', handleDueAt(now, grantedExtension(s), s.policy), now);
      emit('accepted', u.actor, { reason: u.note, data: { unitId: u.unitId } });
      return projected();
    },
    { validator: (_arg: unknown) => requireStatus('accept', 'pending_acceptance') },
  );

  setHandler(
    forwardUpdate,
    (u) => {
      close('forwarded', u.actor, u.reason, { competentBody: u.competentBody });
      return projected();
    },
    { validator: (_arg: unknown) => requireStatus('forward', 'pending_acceptance') },
  );

  setHandler(
    transferUpdate,
    (u) => {
      const from = s.unitId;
      s.unitId = u.unitId;
      emit('transferred', u.actor, { reason: u.reason, data: { from, to: u.unitId } });
      return projected();
    },
    {
      validator: (u) => {
        requireStatus('transfer', 'handling');
        if (u.unitId === s.unitId) reject('transfer', `the case is already with unit '${u.unitId}'`);
      },
    },
  );

  setHandler(
    requestExtensionUpdate,
    (u) => {
      s.extensions.push({ amount: u.amount, reason: u.reason, requestedAt: Date.now(), requestedBy: u.actor });
      emit('extension_requested', u.actor, { reason: u.reason, data: { amount: u.amount, unit: s.policy.limits.maxExtension.unit } });
      return projected();
    },
    {
      validator: (u) => {
        requireStatus('request an extension for', 'handling');
        requireAssignedUnit('request an extension for', u.actor);
        if (s.clock?.kind !== 'handle') reject('request an extension for', 'extensions apply to the handling period only, not to rework');
        if (s.extensions.some((e) => !e.decision)) reject('request an extension for', 'an extension request is already pending');
        const max = s.policy.limits.maxExtension.amount;
        const left = max - grantedExtension(s);
        if (u.amount > left) reject('request an extension for', `at most ${left} more ${s.policy.limits.maxExtension.unit} may be granted (limit ${max})`);
      },
    },
  );

  setHandler(
    decideExtensionUpdate,
    (u) => {
      const pending = s.extensions.find((e) => !e.decision)!;
      pending.decision = u.decision;
      pending.decidedAt = Date.now();
      pending.decidedBy = u.actor;
      pending.decisionReason = u.reason;
      if (u.decision === 'approved') s.clock = recomputeHandleClock(s, Date.now());
      // The complainant is told why, either way (see domain/notifications.ts).
      emit(`extension_${u.decision}`, u.actor, { reason: u.reason, data: { amount: pending.amount } });
      return projected();
    },
    {
      validator: (_arg: unknown) => {
        if (!s.extensions.some((e) => !e.decision)) reject('decide an extension for', 'no extension request is pending');
      },
    },
  );

  setHandler(
    submitResultUpdate,
    (u) => {
      s.result = { summary: u.summary, reply: u.reply, submittedAt: Date.now(), submittedBy: u.actor };
      s.repliedAt = Date.now();
      s.clock = undefined;
      setStatus('under_review');
      emit('result_submitted', u.actor, { data: { summary: u.summary } });
      return projected();
    },
    {
      validator: (u) => {
        requireStatus('submit a result for', 'handling');
        requireAssignedUnit('submit a result for', u.actor);
      },
    },
  );

  setHandler(
    reviewUpdate,
    (u) => {
      if (u.decision === 'approved') {
        emit('result_approved', u.actor, { reason: u.note });
        startCallback(u.actor);
      } else {
        returnToUnit(u.actor, 'result_returned', u.reason, u.reworkDays);
      }
      return projected();
    },
    { validator: (_arg: unknown) => requireStatus('review the result of', 'under_review') },
  );

  setHandler(
    recordCallbackUpdate,
    (u) => {
      if (u.outcome === 'unreachable') {
        failedCallbackAttempt(u.actor, u.note);
      } else if (u.outcome === 'dissatisfied' && u.reasonableDemand) {
        emit('callback_answered', u.actor, { reason: u.note, data: { outcome: u.outcome, reasonableDemand: true } });
        returnToUnit(u.actor, 'returned_after_callback', u.note ?? 'the complainant is dissatisfied and the demand is reasonable');
      } else {
        emit('callback_answered', u.actor, { reason: u.note, data: { outcome: u.outcome, reasonableDemand: u.reasonableDemand ?? null } });
        close(u.outcome === 'dissatisfied' ? 'resolved_dissatisfied' : 'resolved', u.actor, undefined, { satisfaction: u.outcome });
      }
      return projected();
    },
    {
      validator: (u) => {
        requireStatus('record a callback for', 'callback');
        if (u.outcome === 'dissatisfied' && u.reasonableDemand === undefined) {
          reject('record a callback for', 'a dissatisfied callback must say whether the demand is reasonable');
        }
      },
    },
  );

  setHandler(
    requestReviewUpdate,
    (u) => {
      const now = Date.now();
      setStatus('review_requested');
      startClock('review', addDuration(now, s.policy.limits.reviewDue, s.policy.calendar), now);
      emit('review_requested', u.actor, { reason: u.reason });
      return projected();
    },
    {
      validator: (_arg: unknown) => {
        requireStatus('request a review of', 'closed');
        if (Date.now() > (s.reviewRequestUntil ?? 0)) {
          reject('request a review of', `the review window ended at ${new Date(s.reviewRequestUntil ?? 0).toISOString()}`);
        }
      },
    },
  );

  setHandler(
    decideReviewUpdate,
    (u) => {
      if (u.decision === 'upheld') {
        s.clock = undefined;
        setStatus('closed');
        emit('review_upheld', u.actor, { reason: u.reason });
      } else {
        reopen({ actor: u.actor, reason: u.reason, source: 'review', escalate: false });
      }
      return projected();
    },
    { validator: (_arg: unknown) => requireStatus('decide a review of', 'review_requested') },
  );

  setHandler(
    escalateUpdate,
    (u) => {
      const from = s.escalationLevel;
      raiseLevel(u.level ?? from + 1);
      emit('escalated', u.actor, { reason: u.reason, data: { from, escalationLevel: s.escalationLevel, manual: true } });
      if (s.escalationLevel === MAX_ESCALATION_LEVEL && from < MAX_ESCALATION_LEVEL) {
        emit('backlog_listed', u.actor, { reason: u.reason });
      }
      return projected();
    },
    {
      validator: (u) => {
        if (s.status === 'archived') reject('escalate');
        const target = u.level ?? s.escalationLevel + 1;
        if (target <= s.escalationLevel || target > MAX_ESCALATION_LEVEL) {
          reject('escalate', `the level is already ${s.escalationLevel}; the level only goes up, to at most ${MAX_ESCALATION_LEVEL}`);
        }
      },
    },
  );

  setHandler(
    reopenUpdate,
    (u) => {
      reopen(u);
      return projected();
    },
    { validator: (_arg: unknown) => requireStatus('reopen', 'closed', 'review_requested') },
  );

  setHandler(linkDuplicateSignal, (l) => {
    if (s.linked.some((x) => x.caseId === l.caseId)) return;
    s.linked.push({ caseId: l.caseId, anonymous: l.anonymous, linkedAt: l.at });
    emit('duplicate_linked', SYSTEM, { data: { caseId: l.caseId } });
  });

  setHandler(recurrenceSignal, (r) => {
    if (!s.linked.some((x) => x.caseId === r.caseId)) s.linked.push({ caseId: r.caseId, anonymous: r.anonymous, linkedAt: r.at });
    if (s.status === 'closed' || s.status === 'review_requested') {
      reopen({ actor: SYSTEM, reason: r.reason, source: 'recurrence', escalate: true }, { recurrenceCaseId: r.caseId });
    } else {
      emit('duplicate_linked', SYSTEM, { reason: 'recurrence reported while the case is still open', data: { caseId: r.caseId } });
    }
  });

  setHandler(tightenDeadlineSignal, (t) => {
    if (s.timeline.some((e) => e.type === 'deadline_tightened' && e.data?.key === t.key)) return;
    const clock = s.clock && tightenClock(s.clock, t, Date.now(), s.policy.limits.warningAt);
    if (!clock) return;
    const from = s.clock!.dueAt;
    s.clock = clock;
    emit('deadline_tightened', t.actor, {
      reason: t.reason,
      data: { key: t.key, campaignId: t.campaignId, clock: clock.kind, from, to: clock.dueAt },
    });
  });

  // ---- Intake ----

  /**
   * Information complete: link it to a related case, or put it up for acceptance. The acceptance
   * period runs from `receivedAt`: the receipt, or the moment the missing information arrived.
   */
  async function intakeComplete(receivedAt: number): Promise<void> {
    const now = Date.now();
    s.clock = undefined;
    const windows = s.policy.intake;
    const related = await findRelatedCase({
      caseId: s.caseId,
      category: s.intake.category,
      divisionCode: s.intake.divisionCode,
      location: s.intake.location,
      radiusMeters: windows.duplicateRadiusMeters,
      duplicateSince: now - durationMs(windows.duplicateWindow),
      recurrenceSince: now - durationMs(windows.recurrenceWindow),
    });
    if (related) {
      const target = getExternalWorkflowHandle(workflowIdFor(related.caseId));
      const link = { caseId: s.caseId, anonymous: s.intake.reporter.anonymous, at: now };
      try {
        if (related.kind === 'duplicate') {
          await target.signal(linkDuplicateSignal, link);
          s.mergedInto = related.caseId;
          close('duplicate', SYSTEM, `duplicate of open case ${related.caseId}`, { linkedTo: related.caseId });
        } else {
          await target.signal(recurrenceSignal, { ...link, reason: `recurrence reported in case ${s.caseId}` });
          s.mergedInto = related.caseId;
          close('recurrence', SYSTEM, `recurrence at the site of case ${related.caseId}, which is reopened`, { reopened: related.caseId });
        }
        return;
      } catch (err) {
        // The related case finished meanwhile: handle this one on its own.
        log.warn('related case could not be signalled; handling the complaint on its own', { related, error: String(err) });
      }
    }
    startAcceptance(receivedAt);
    emit('registered_for_acceptance', SYSTEM);
  }

  // ---- Projection and visibility ----

  let lastAttributes = '';
  function upsertAttributes() {
    const overdue = !!s.clock && s.clock.overdueSteps > 0;
    const attrs = {
      status: s.status,
      unit: s.unitId ?? '',
      level: s.escalationLevel,
      due: s.clock?.dueAt ?? null,
      overdue,
    };
    const key = JSON.stringify(attrs);
    if (key === lastAttributes) return;
    lastAttributes = key;
    upsertSearchAttributes([
      { key: caseStatusKey, value: s.status },
      { key: categoryKey, value: s.intake.category },
      { key: divisionKey, value: s.intake.divisionCode },
      { key: unitKey, value: s.unitId ?? null },
      { key: ownerKey, value: s.owner.id },
      { key: escalationLevelKey, value: s.escalationLevel },
      { key: nextDeadlineKey, value: s.clock ? new Date(s.clock.dueAt) : null },
      { key: overdueKey, value: overdue },
    ]);
  }

  // The reporter goes to the projection (encrypted there) when it is new or has changed.
  let reporterRevision = isNew ? 1 : 0;
  let projectedReporterRevision = 0;

  async function project(): Promise<void> {
    while (s.projectedSeq < s.timeline.length) {
      const upTo = s.timeline.length;
      const revision = reporterRevision;
      const events = s.timeline.slice(s.projectedSeq, upTo);
      await projectCase({
        view: toView({ ...s, timeline: [] }, Date.now()),
        events,
        reporter: revision !== projectedReporterRevision ? s.intake.reporter : undefined,
        location: s.intake.location,
        description: s.intake.description,
        repliedAt: s.repliedAt,
      });
      s.projectedSeq = upTo;
      projectedReporterRevision = revision;
    }
  }

  function shouldContinueAsNew(): boolean {
    const info = workflowInfo();
    return info.continueAsNewSuggested || (casLimit !== undefined && info.historyLength >= casLimit);
  }

  // ---- Main loop ----

  if (isNew) {
    emit('registered', s.owner, {
      data: { channel: s.intake.channel, category: s.intake.category, urgency: s.intake.urgency, policyVersion: s.policy.version },
    });
    if (s.intake.missing.length > 0) {
      setStatus('awaiting_supplement');
      const now = Date.now();
      startClock('supplement', addDuration(now, s.policy.limits.supplement, s.policy.calendar), now);
      emit('supplement_requested', s.owner, { data: { missing: s.intake.missing } });
    } else {
      await intakeComplete(s.receivedAt);
    }
  }

  for (;;) {
    const before = version;
    upsertAttributes();
    await project();
    if (s.status === 'archived') break;
    const trigger = nextTrigger(s);
    const now = Date.now();
    if (trigger && trigger.at <= now) {
      firingAt = trigger.at;
      try {
        fire(trigger);
      } finally {
        firingAt = undefined;
      }
      continue;
    }
    if (shouldContinueAsNew()) {
      // Let running handlers finish (they wait for their projection), then carry the state over.
      while (!allHandlersFinished()) {
        await condition(() => allHandlersFinished() || s.projectedSeq < s.timeline.length);
        await project();
      }
      upsertAttributes();
      await continueAsNew<typeof complaintWorkflow>({ resume: s, continueAsNewAfterEvents: casLimit });
    }
    // A handler may change the case between project()'s last look and here (two activities resolved in
    // one activation): waking on any change since the top of the loop projects it at once.
    const seen = wakeOnChangesDuringProjection ? before : version;
    await condition(() => version !== seen, trigger ? trigger.at - now : undefined);
  }
  await condition(allHandlersFinished);
  return { caseId: s.caseId, closure: s.closure, mergedInto: s.mergedInto, events: s.timeline.length };
}

function initialState(input: ComplaintInput): CaseState {
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

