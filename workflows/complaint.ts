import {
  ActivityFailure,
  ApplicationFailure,
  allHandlersFinished,
  condition,
  continueAsNew,
  getExternalWorkflowHandle,
  log,
  patched,
  proxyActivities,
  proxyLocalActivities,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { createActivities } from '../activities';
import { PROJECTION_ACTIVITY_OPTIONS } from './contracts/projection';
import { toView, workflowIdFor, type CaseState, type CaseView, type Unlink } from '../domain/case';
import * as lifecycle from '../domain/complaint-lifecycle';
import { nextTrigger } from '../domain/deadlines';
import { attentionUpdate, searchAttributesOfState, searchAttributeUpdates } from '../domain/search-attributes';
import { complaintDetails, complaintTimerSummary, projectionSummary } from '../domain/workflow-summaries';
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
  declineAssignmentUpdate,
  caseStateQuery,
  duplicateUnlinkedSignal,
  recurrenceSignal,
  tightenDeadlineSignal,
  syncSearchAttributesUpdate,
  replayProjectionUpdate,
  INVALID_TRANSITION,
  LEAN_START,
  PROJECTION_REJECTED,
  type ComplaintOutcome,
  type ComplaintWorkflowInput,
} from './contracts/complaint';

/**
 * Patch id: the main loop wakes on any change made while it projected. Without it, an event emitted
 * by an update handler in the same activation as the projection's completion waited for the next
 * timer, and the update (which waits for its projection) with it.
 */
export const WAKE_ON_CHANGES_DURING_PROJECTION = 'wake-on-changes-during-projection';

/**
 * Patch id: the write path in one workflow task. The events a decision or a timer produces are
 * projected by a local activity inside the workflow task that produced them (before it: a regular
 * activity and a second task); the search attributes are upserted once more after the last
 * projection before the workflow completes; a timer's events are dated when the timer fired.
 */
export const PROJECT_IN_WORKFLOW_TASK = 'project-in-workflow-task';

/** Projection must never be given up: a database outage only delays it. Retries back off to one a minute. */
/** The projection of some events: its summary ("project events 5–7") names them in the UI's timeline. */
const projectCaseFor = (summary: string) =>
  proxyActivities<ReturnType<typeof createActivities>>({ ...PROJECTION_ACTIVITY_OPTIONS, summary }).projectCase;
/** The same projection as a local activity: it runs within the workflow task whose events it projects. */
const projectCaseLocallyFor = (summary: string) =>
  proxyLocalActivities<ReturnType<typeof createActivities>>({ ...PROJECTION_ACTIVITY_OPTIONS, summary }).projectCase;
/** Events the read model refused, into the dead-letter table (and operations told): retried like the projection. */
const { deadLetterProjection } = proxyLocalActivities<ReturnType<typeof createActivities>>({
  ...PROJECTION_ACTIVITY_OPTIONS,
  summary: 'keep the refused events in the dead-letter table',
});
/** The duplicate check: serialised per site in the database (activities/intake.ts), idempotent (a retry reads back its decision). */
const RELATED_CASE_OPTIONS = {
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 20 },
  summary: 'look for a duplicate (open case) or a recurrence (recently closed case)',
} as const;
/** A regular activity: cases started without `writePath` (before LEAN_START), whose histories schedule it. */
const { findRelatedCase } = proxyActivities<ReturnType<typeof createActivities>>(RELATED_CASE_OPTIONS);
/**
 * The same check as a local activity, for cases started with `writePath: LEAN_START`: it runs inside the
 * workflow task that needs it (the registration's, or the supplement's that completes the intake), one
 * marker instead of three activity events and a second workflow task (issue #11).
 */
const { findRelatedCase: findRelatedCaseLocally } = proxyLocalActivities<ReturnType<typeof createActivities>>(RELATED_CASE_OPTIONS);

/**
 * One complaint, from registration to archive. The state machine (domain/complaint-lifecycle.ts)
 * decides; this workflow wires messages, timers and activities around it. Every deadline is a
 * durable timer computed from the state (see domain/deadlines.ts); every decision is an update whose
 * validator asks the machine and rejects an impossible transition before anything is written to history.
 */
export async function complaintWorkflow(input: ComplaintWorkflowInput): Promise<ComplaintOutcome> {
  let s: CaseState = 'resume' in input ? input.resume : lifecycle.initialState(input);
  const casLimit = input.continueAsNewAfterEvents;
  const isNew = !('resume' in input);
  /** Counts the events the case has had in this run: the main loop waits for it to move. */
  let version = 0;
  // Started by code that has both patches (domain/case.ts, LEAN_START): nothing to ask, so no patch
  // markers and no TemporalChangeVersion upserts (four events per case, issue #11). The input is part
  // of the history, so this replays the same way. Cases started without it ask as they always did:
  // those started before a patch keep the old behaviour, and their histories replay unchanged.
  const leanStart = input.writePath === LEAN_START;
  const wakeOnChangesDuringProjection = leanStart || patched(WAKE_ON_CHANGES_DURING_PROJECTION);
  const inOneTask = leanStart || patched(PROJECT_IN_WORKFLOW_TASK);

  // ---- State changes: decided by the state machine (domain/complaint-lifecycle.ts) ----

  /** Take the case as a decision or a timer left it; its new events wake the main loop, which projects them. */
  function apply(t: lifecycle.Transition): void {
    s = t.state;
    version += t.events.length;
    showDetails();
  }

  /** The current details the Temporal UI shows (status, unit, deadline, escalation): not a command, replay-safe. */
  function showDetails(): void {
    setCurrentDetails(complaintDetails(s));
  }
  showDetails();

  /** Validators: a decision the machine refuses is rejected before anything is written to history. */
  function allow(refusal: lifecycle.Refusal | undefined): void {
    if (!refusal) return;
    throw ApplicationFailure.create({
      type: INVALID_TRANSITION,
      message: refusal.message,
      nonRetryable: true,
      details: [{ status: refusal.status, caseId: refusal.caseId }],
    });
  }

  /** Let the caller see its change in the read model before the update returns (or in the dead-letter table, if refused). */
  async function projected(): Promise<CaseView> {
    const seq = s.timeline.length;
    await condition(() => s.projectedSeq >= seq || (s.projectionFailure?.deadLetteredSeq ?? 0) >= seq);
    return toView(s, Date.now());
  }

  // ---- Handlers ----

  setHandler(statusQuery, () => toView(s, Date.now()));

  setHandler(
    supplementUpdate,
    async (u) => {
      if (u.reporter) reporterRevision++;
      const now = Date.now();
      apply(lifecycle.supplement(s, u, now));
      await intakeComplete(now);
      return projected();
    },
    { validator: (_arg: unknown) => allow(lifecycle.checkSupplement(s)) },
  );

  /**
   * Accept and forward, the clerk's decisions on a case the intake check put up for acceptance, may
   * arrive while the check still runs: the read model can show its outcome before the workflow task
   * that produced it is recorded (the projection is a local activity of that task, and a task whose
   * completion failed, say with the Temporal server unreachable, runs again). Such a decision waits
   * for the check and is judged then; any other goes on at once, as it always did (no await, so the
   * histories recorded before replay unchanged).
   */
  function afterIntake(check: () => lifecycle.Refusal | undefined, decide: () => Promise<CaseView>): Promise<CaseView> {
    if (s.status !== 'registered') return decide();
    return condition(() => s.status !== 'registered').then(() => {
      allow(check());
      return decide();
    });
  }
  const whileIntakeRuns = (check: () => lifecycle.Refusal | undefined) => (_arg: unknown) => {
    if (s.status !== 'registered') allow(check());
  };

  setHandler(
    acceptUpdate,
    (u) =>
      afterIntake(
        () => lifecycle.checkAccept(s),
        () => {
          apply(lifecycle.accept(s, u, Date.now()));
          return projected();
        },
      ),
    { validator: whileIntakeRuns(() => lifecycle.checkAccept(s)) },
  );

  setHandler(
    forwardUpdate,
    (u) =>
      afterIntake(
        () => lifecycle.checkForward(s),
        () => {
          apply(lifecycle.forward(s, u, Date.now()));
          return projected();
        },
      ),
    { validator: whileIntakeRuns(() => lifecycle.checkForward(s)) },
  );

  setHandler(
    transferUpdate,
    (u) => {
      apply(lifecycle.transfer(s, u, Date.now()));
      return projected();
    },
    { validator: (u) => allow(lifecycle.checkTransfer(s, u)) },
  );

  setHandler(
    requestExtensionUpdate,
    (u) => {
      apply(lifecycle.requestExtension(s, u, Date.now()));
      return projected();
    },
    { validator: (u) => allow(lifecycle.checkExtensionRequest(s, u)) },
  );

  setHandler(
    decideExtensionUpdate,
    (u) => {
      apply(lifecycle.decideExtension(s, u, Date.now()));
      return projected();
    },
    { validator: (_arg: unknown) => allow(lifecycle.checkExtensionDecision(s)) },
  );

  setHandler(
    submitResultUpdate,
    (u) => {
      apply(lifecycle.submitResult(s, u, Date.now()));
      return projected();
    },
    { validator: (u) => allow(lifecycle.checkResult(s, u)) },
  );

  setHandler(
    reviewUpdate,
    (u) => {
      apply(lifecycle.review(s, u, Date.now()));
      return projected();
    },
    { validator: (_arg: unknown) => allow(lifecycle.checkReview(s)) },
  );

  setHandler(
    recordCallbackUpdate,
    (u) => {
      apply(lifecycle.recordCallback(s, u, Date.now()));
      return projected();
    },
    { validator: (u) => allow(lifecycle.checkCallback(s, u)) },
  );

  setHandler(
    requestReviewUpdate,
    (u) => {
      apply(lifecycle.requestReview(s, u, Date.now()));
      return projected();
    },
    { validator: (_arg: unknown) => allow(lifecycle.checkReviewRequest(s, Date.now())) },
  );

  setHandler(
    decideReviewUpdate,
    (u) => {
      apply(lifecycle.decideReview(s, u, Date.now()));
      return projected();
    },
    { validator: (_arg: unknown) => allow(lifecycle.checkReviewDecision(s)) },
  );

  setHandler(
    escalateUpdate,
    (u) => {
      apply(lifecycle.escalate(s, u, Date.now()));
      return projected();
    },
    { validator: (u) => allow(lifecycle.checkEscalation(s, u)) },
  );

  setHandler(
    reopenUpdate,
    (u) => {
      apply(lifecycle.reopen(s, u, Date.now()));
      return projected();
    },
    { validator: (_arg: unknown) => allow(lifecycle.checkReopen(s)) },
  );

  setHandler(
    declineAssignmentUpdate,
    (u) => {
      apply(lifecycle.declineAssignment(s, u, Date.now()));
      return projected();
    },
    { validator: (u) => allow(lifecycle.checkDecline(s, u)) },
  );

  // Queries and a signal handler issue no command: older histories replay unchanged.
  setHandler(caseStateQuery, () => s);
  setHandler(duplicateUnlinkedSignal, (d) => apply(lifecycle.dropDuplicate(s, d, Date.now())));

  setHandler(linkDuplicateSignal, (l) => apply(lifecycle.linkDuplicate(s, l, Date.now())));
  setHandler(recurrenceSignal, (r) => apply(lifecycle.recurrence(s, r, Date.now())));
  setHandler(tightenDeadlineSignal, (t) => apply(lifecycle.tightenDeadline(s, t, Date.now())));

  // ---- Intake ----

  /**
   * Information complete: link it to a related case, or put it up for acceptance. The acceptance
   * period runs from `receivedAt`: the receipt, or the moment the missing information arrived.
   */
  async function intakeComplete(receivedAt: number): Promise<void> {
    const now = Date.now();
    const related = await (leanStart ? findRelatedCaseLocally : findRelatedCase)(lifecycle.relatedCaseSearch(s, now));
    if (related) {
      const target = getExternalWorkflowHandle(workflowIdFor(related.caseId));
      const link = { caseId: s.caseId, anonymous: s.intake.reporter.anonymous, at: now };
      try {
        if (related.kind === 'duplicate') await target.signal(linkDuplicateSignal, link);
        else await target.signal(recurrenceSignal, { ...link, reason: `recurrence reported in case ${s.caseId}` });
        apply(lifecycle.mergeInto(s, related, Date.now()));
        return;
      } catch (err) {
        // The related case finished meanwhile: handle this one on its own.
        log.warn('related case could not be signalled; handling the complaint on its own', { related, error: String(err) });
      }
    }
    apply(lifecycle.registerForAcceptance(s, receivedAt, Date.now()));
  }

  // ---- Projection and visibility ----

  let lastAttributes = '';
  /** Whether `EcoAttention` is set: only a case whose projection failed ever upserts it. */
  let attention = false;
  function upsertAttributes() {
    const attrs = searchAttributesOfState(s);
    const key = JSON.stringify(attrs);
    const needsAttention = !!s.projectionFailure;
    if (key === lastAttributes && needsAttention === attention) return;
    lastAttributes = key;
    const updates = searchAttributeUpdates(attrs);
    if (needsAttention !== attention) updates.push(attentionUpdate(needsAttention));
    attention = needsAttention;
    upsertSearchAttributes(updates);
  }

  // `npm run ops:check -- --fix` (worker/ops-check.ts): upsert every attribute again from the state,
  // whatever was upserted last. Registering a handler issues no command: older histories replay unchanged.
  setHandler(syncSearchAttributesUpdate, () => {
    lastAttributes = '';
    upsertAttributes();
    return searchAttributesOfState(s);
  });

  // The reporter goes to the projection (encrypted there) when it is new or has changed.
  let reporterRevision = isNew ? 1 : 0;
  let projectedReporterRevision = 0;

  /** Whether events wait for the read model: none refused for good, or a replay asked for. */
  function needsProjection(): boolean {
    if (s.projectedSeq >= s.timeline.length) return false;
    return replayRequested || !s.projectionFailure || s.projectionFailure.deadLetteredSeq < s.timeline.length;
  }

  async function project(): Promise<void> {
    while (needsProjection()) {
      const upTo = s.timeline.length;
      const revision = reporterRevision;
      const events = s.timeline.slice(s.projectedSeq, upTo);
      const view = toView({ ...s, timeline: [] }, Date.now());
      try {
        await (inOneTask ? projectCaseLocallyFor : projectCaseFor)(projectionSummary(events))({
          view,
          events,
          reporter: revision !== projectedReporterRevision ? s.intake.reporter : undefined,
          location: s.intake.location,
          description: s.intake.description,
          repliedAt: s.repliedAt,
          ...(s.projectionFailure && { repairs: true }),
        });
      } catch (err) {
        const refusal = refusalOf(err);
        if (!refusal) throw err;
        await deadLetter(refusal, view);
        continue;
      }
      s.projectedSeq = upTo;
      projectedReporterRevision = revision;
      replayRequested = false;
      // The read model has every event again: the case says so, and that event is projected next.
      if (s.projectionFailure) apply(lifecycle.projectionRepaired(s, Date.now()));
    }
  }

  /** The read model's refusal of a projection that retrying cannot fix (activities/projection.ts), if that is what failed. */
  function refusalOf(err: unknown): { sqlState?: string; error: string } | undefined {
    // A local activity's failure reaches the workflow as the activity threw it; a regular one's inside an ActivityFailure.
    const cause = err instanceof ActivityFailure ? err.cause : err;
    if (!(cause instanceof ApplicationFailure) || cause.type !== PROJECTION_REJECTED) return undefined;
    const details = cause.details?.[0] as { sqlState?: string; error?: string } | undefined;
    return { sqlState: details?.sqlState, error: details?.error ?? cause.message };
  }

  /**
   * The read model refused the events for good: the case records it once (`projection_failed`,
   * `EcoAttention`, operations notified), keeps every refused event in the dead-letter table, and
   * goes on; later events are tried again, and `npm run projection:replay` asks for another try.
   */
  async function deadLetter(refusal: { sqlState?: string; error: string }, view: CaseView): Promise<void> {
    replayRequested = false;
    lastRefusal = refusal.error;
    const already = s.projectionFailure;
    let failure: lifecycle.Transition | undefined;
    if (!already) {
      failure = lifecycle.projectionFailed(s, { fromSeq: s.projectedSeq + 1, ...refusal }, Date.now());
      apply(failure);
    }
    const upTo = s.timeline.length;
    const refused = s.timeline.slice(Math.max(s.projectedSeq, already?.deadLetteredSeq ?? 0), upTo);
    upsertAttributes();
    if (refused.length) {
      await deadLetterProjection({
        view: failure ? toView({ ...s, timeline: [] }, Date.now()) : view,
        events: refused,
        ...refusal,
        failure: failure?.events[0],
      });
    }
    s.projectionFailure = { ...s.projectionFailure!, deadLetteredSeq: upTo };
  }

  // `npm run projection:replay -- <caseId>` (worker/projection-replay.ts), once the cause is fixed:
  // project every event the read model is missing again. Registering it issues no command.
  let replayRequested = false;
  let lastRefusal: string | undefined;
  setHandler(replayProjectionUpdate, async () => {
    const missing = s.timeline.length - s.projectedSeq;
    if (!s.projectionFailure) return { projected: missing === 0, replayed: 0 };
    replayRequested = true;
    version++; // wakes the main loop, which projects
    await condition(() => !replayRequested);
    if (s.projectionFailure) return { projected: false, replayed: 0, error: lastRefusal };
    await condition(() => s.projectedSeq >= s.timeline.length || !!s.projectionFailure);
    return { projected: !s.projectionFailure, replayed: missing };
  });

  function shouldContinueAsNew(): boolean {
    const info = workflowInfo();
    return info.continueAsNewSuggested || (casLimit !== undefined && info.historyLength >= casLimit);
  }

  // ---- Main loop ----

  /** A wrong duplicate started again (`unlink` in the input): a case of its own; the case it was linked to is told. */
  async function standAlone(u: Unlink): Promise<void> {
    const refused = lifecycle.checkUnlink(s);
    if (refused) {
      log.warn('started to unlink a case that is not a duplicate; it stays as it was', { refusal: refused.message });
      return;
    }
    const from = s.mergedInto!;
    apply(lifecycle.unlink(s, u, Date.now()));
    try {
      await getExternalWorkflowHandle(workflowIdFor(from)).signal(duplicateUnlinkedSignal, {
        caseId: s.caseId,
        actor: u.actor,
        reason: u.reason,
      });
    } catch (err) {
      // The case it was linked to has finished: there is no link left to drop.
      log.warn('the case it was linked to could not be signalled', { from, error: String(err) });
    }
  }

  if ('resume' in input && input.unlink) await standAlone(input.unlink);

  if (isNew) {
    apply(lifecycle.register(s, Date.now()));
    // Complete at registration: the intake check runs now; otherwise once the complainant supplements.
    if (s.status === 'registered') await intakeComplete(s.receivedAt);
  }

  /** When the main loop last saw no trigger due: the start of this run, then each wait. */
  let seenAt = Date.now();
  for (;;) {
    const before = version;
    upsertAttributes();
    await project();
    // A case whose events the read model refused stays open (without timers) until they are replayed.
    if (s.status === 'archived' && !s.projectionFailure) {
      // The attributes of the last transition, with the workflow's completion.
      if (inOneTask) upsertAttributes();
      break;
    }
    const trigger = nextTrigger(s);
    const now = Date.now();
    if (trigger && trigger.at <= now) {
      // Dated when it fired: when due, or when this workflow last looked if it was due before (a receivedAt long past).
      apply(inOneTask ? lifecycle.fire(s, trigger, seenAt) : lifecycle.fire(s, trigger));
      continue;
    }
    if (shouldContinueAsNew()) {
      // Let running handlers finish (they wait for their projection), then carry the state over.
      while (!allHandlersFinished()) {
        await condition(() => allHandlersFinished() || needsProjection());
        await project();
      }
      upsertAttributes();
      // The next run is started by this code, which has both patches: it starts lean whatever this run was.
      // Replay does not compare a continue-as-new's input, so runs that continued without it replay unchanged.
      await continueAsNew<typeof complaintWorkflow>({ resume: s, continueAsNewAfterEvents: casLimit, writePath: LEAN_START });
    }
    seenAt = now;
    // A handler may change the case between project()'s last look and here (two activities resolved in
    // one activation): waking on any change since the top of the loop projects it at once.
    const seen = wakeOnChangesDuringProjection ? before : version;
    // The timer's summary says what it stands for in the UI ("acceptance deadline", "escalation to the city").
    if (trigger) await condition(() => version !== seen, trigger.at - now, { summary: complaintTimerSummary(s, trigger) });
    else await condition(() => version !== seen);
  }
  await condition(allHandlersFinished);
  return { caseId: s.caseId, closure: s.closure, mergedInto: s.mergedInto, events: s.timeline.length };
}
