import {
  ApplicationFailure,
  ParentClosePolicy,
  allHandlersFinished,
  condition,
  log,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  startChild,
  workflowInfo,
  type ActivityOptions,
} from '@temporalio/workflow';
import { SearchAttributeType, WorkflowExecutionAlreadyStartedError, defineSearchAttributeKey } from '@temporalio/common';
import type { createActivities } from '../activities';
import { addDuration, pointBetween, type HolidayCalendar } from '../domain/calendar';
import type { Reopen } from '../domain/case';
import {
  deskCheckKind,
  reInspectionKind,
  type DeskCheckDraw,
  type DeskCheckItem,
  type DrawRules,
  type InspectionItem,
  type ReopenOutcome,
  type SpotCheckKindSpec,
} from '../domain/spot-check';
import { deskReviewIssues, findingIssues, type InspectionFinding, type InspectionFindingInput } from '../domain/supervision';
import { detailLines, inspectionSummary } from '../domain/workflow-summaries';
import { deskCheckQuery, deskReviewUpdate, type DeskCheckInput, type DeskCheckOutcome, type DeskCheckView } from './contracts/desk-check';
import { INVALID_TRANSITION } from './contracts/errors';
import {
  NOT_ASSIGNED,
  inspectionQuery,
  inspectionWorkflowIdFor,
  recordFindingUpdate,
  type InspectionInput,
  type InspectionView,
  type ReInspectionInput,
  type ReInspectionOutcome,
} from './contracts/re-inspection';

/**
 * The spot checks: the daily desk check (deskCheckWorkflow) and the quarterly on-site re-inspection
 * (reInspectionWorkflow, one inspectionWorkflow child per drawn case). First what they share: the moment a scheduled run stands for, the
 * period it checks, the draw's rules from the policy, the return of a case to its unit, and how
 * their update validators refuse. What differs is in domain/spot-check.ts (the kind) and in each
 * workflow (who checks, what a finding does).
 */

type Activities = ReturnType<typeof createActivities>;

/** Database work is never given up: an outage only delays it. */
const retryUntilAnswered: ActivityOptions['retry'] = { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' };

/**
 * The activities of a spot check, each attempt bounded by `startToCloseTimeout` and retried until it
 * succeeds; `summary` is what the Temporal UI shows on the activity.
 */
export function spotCheckActivities(startToCloseTimeout: ActivityOptions['startToCloseTimeout'], summary: string) {
  return proxyActivities<Activities>({ startToCloseTimeout, retry: retryUntilAnswered, summary });
}

/** Set by Temporal on every run a Schedule starts, backfills included: the nominal time of the run. */
const scheduledStartTimeKey = defineSearchAttributeKey('TemporalScheduledStartTime', SearchAttributeType.DATETIME);

/**
 * The moment this run stands for: the Schedule's nominal time (also for a backfilled run, which
 * starts now but stands for a past moment), else the start of the workflow.
 */
export function scheduledTime(): number {
  const info = workflowInfo();
  const scheduled = info.typedSearchAttributes.get(scheduledStartTimeKey);
  return scheduled ? scheduled.getTime() : info.startTime.getTime();
}

/** The period this run checks: the one given, else the one before the scheduled time. */
export function periodToCheck(kind: SpotCheckKindSpec, given: string | undefined, calendar: HolidayCalendar): string {
  return given ?? kind.periodCheckedAt(scheduledTime(), calendar.utcOffsetMinutes);
}

/** The rules of a period's draw, from the kind's section of the policy in force. */
export function drawRulesFor(
  kind: SpotCheckKindSpec,
  id: string,
  policy: { share: number; minPerDivision: number; closures: string[] },
  input: { calendar: HolidayCalendar; policyVersion: string },
): DrawRules {
  const period = kind.periodOf(id, input.calendar.utcOffsetMinutes);
  return {
    id,
    seed: kind.seed(id),
    from: period.from,
    to: period.to,
    share: policy.share,
    minPerDivision: policy.minPerDivision,
    closures: policy.closures,
    policyVersion: input.policyVersion,
    workflowId: workflowInfo().workflowId,
  };
}

/**
 * Send a checked case back to its unit through its workflow's `reopen` update. `updateId` is
 * derived from the check, so a retry (or a re-run check) reopens the case once.
 */
export function returnToUnit(caseId: string, updateId: string, reopen: Reopen): Promise<ReopenOutcome> {
  // Reopening waits for the case's projection; a case that cannot be reopened is an answer, not a
  // failure, so what is retried is only an unreachable server: retried until it answers.
  const { reopenCase } = spotCheckActivities('1 minute', `reopen case ${caseId} for rectification`);
  return reopenCase({ caseId, updateId, reopen });
}

/** How an update validator refuses: nothing is written, and the caller reads `type` (by default INVALID_TRANSITION: HTTP 409). */
export type Refuse = (message: string, type?: string) => never;

/** The refusal of one workflow's updates; `details` say which check or inspection refused. */
export function refusal(details: Record<string, unknown>): Refuse {
  return (message, type = INVALID_TRANSITION) => {
    throw ApplicationFailure.create({ type, message, nonRetryable: true, details: [details] });
  };
}

/** Refuse a decision its checks (domain/supervision.ts) find wrong, naming every issue. */
export function refuseInvalid(issues: string[], what: string, refuse: Refuse): void {
  if (issues.length > 0) refuse(`Invalid ${what}: ${issues.join('; ')}`);
}

// ---- The daily desk check ----

// Database work is never given up: an outage only delays it.
const deskCheckWork = (summary: string) => spotCheckActivities('2 minutes', summary);
const { drawDeskCheck } = deskCheckWork('draw the cases to check');
const { completeDeskCheck } = deskCheckWork('complete the desk check');

const REVIEWER_ROLES = new Set(['inspector', 'supervisor', 'admin']);

/**
 * The daily desk check. Draws the configured share of each division's cases closed on the day
 * (seeded by the day, stored with its frame), gives each to a reviewer with a deadline, and returns
 * every non-compliant one to its unit by reopening the case with a rectification deadline.
 */
export async function deskCheckWorkflow(input: DeskCheckInput): Promise<DeskCheckOutcome> {
  const { policy, calendar } = input;
  const date = periodToCheck(deskCheckKind, input.date, calendar);
  const seed = deskCheckKind.seed(date);
  let draw: DeskCheckDraw | undefined;
  let closed = false;
  const refuse: Refuse = refusal({ deskCheckId: date });

  /** The current details the Temporal UI shows: the draw, the reviews done and the deadline. */
  function showDetails(): void {
    const items = draw?.items ?? [];
    setCurrentDetails(
      detailLines([
        ['Day checked', date],
        ['Drawn', draw && `${items.length} of ${draw.population} closed cases`],
        ['Reviewed', draw && `${items.filter((i) => i.result !== null).length} of ${items.length}`],
        ['Review due', draw && new Date(draw.reviewDueAt).toISOString()],
        ['Completed', closed ? 'yes' : undefined],
      ]),
    );
  }
  showDetails();

  setHandler(deskCheckQuery, (): DeskCheckView => ({
    id: date,
    seed,
    population: draw?.population,
    reviewDueAt: draw && new Date(draw.reviewDueAt).toISOString(),
    completed: closed,
    items: draw?.items ?? [],
  }));

  setHandler(
    deskReviewUpdate,
    async (r) => {
      const item = draw!.items.find((i) => i.caseId === r.caseId)!;
      const now = Date.now();
      item.result = r.compliant ? 'compliant' : 'non_compliant';
      item.finding = r.finding ?? null;
      item.reviewedBy = r.actor.id;
      item.reviewedAt = now;
      const { caseId, finding } = r;
      const { recordDeskReview } = deskCheckWork(`record the review of case ${caseId}`);
      await recordDeskReview({ deskCheckId: date, caseId, result: item.result, finding, reviewedBy: r.actor.id, reviewedAt: now });
      if (!r.compliant) {
        // A desk check returns the case to its unit, without escalation.
        const reason = `Desk check of ${date}: the handling does not comply and is returned for rectification`;
        const reworkDays = policy.rectificationDays;
        const reopen: Reopen = { actor: r.actor, reason, source: 'spot_check', escalate: false, reworkDays, finding };
        const outcome = await returnToUnit(caseId, `${seed}:${caseId}`, reopen);
        item.returnOutcome = outcome.outcome;
        const { recordDeskReturn } = deskCheckWork(`record the return of case ${caseId} to its unit`);
        await recordDeskReturn({ deskCheckId: date, caseId, outcome });
      }
      showDetails();
      return { ...item };
    },
    {
      validator: (r) => {
        refuseInvalid(deskReviewIssues(r), 'review', refuse);
        if (!draw) refuse(`The desk check of ${date} is still being drawn`);
        if (closed) refuse(`The review deadline of the desk check of ${date} has passed`);
        const item = draw.items.find((i) => i.caseId === r.caseId);
        if (!item) refuse(`Case ${r.caseId} is not in the desk check of ${date}`);
        if (item.result) refuse(`Case ${r.caseId} has already been reviewed (${item.result})`);
        if (!REVIEWER_ROLES.has(r.actor.role)) refuse(`A ${r.actor.role} may not review a desk check`);
        if (r.actor.role === 'inspector' && item.reviewerId && item.reviewerId !== r.actor.id) {
          refuse(`Case ${r.caseId} is assigned to another reviewer`);
        }
      },
    },
  );

  const rules = drawRulesFor(deskCheckKind, date, policy, input);
  draw = await drawDeskCheck({ ...rules, reviewDueAt: addDuration(Date.now(), policy.reviewDeadline, calendar) });

  const items = draw.items;
  const pending = () => items.some((i) => i.result === null);
  showDetails();
  const remaining = draw.reviewDueAt - Date.now();
  if (pending() && remaining > 0) await condition(() => !pending(), remaining, { summary: 'review deadline of the desk check' });
  closed = true;
  await condition(allHandlersFinished);
  for (const item of items) if (item.result === null) item.result = 'missed';
  await completeDeskCheck({ deskCheckId: date, completedAt: Date.now() });
  showDetails();

  const count = (result: DeskCheckItem['result']) => items.filter((i) => i.result === result).length;
  return {
    id: date,
    seed,
    population: draw.population,
    drawn: items.length,
    compliant: count('compliant'),
    nonCompliant: count('non_compliant'),
    returned: items.filter((i) => i.returnOutcome === 'reopened').length,
    missed: count('missed'),
  };
}

// ---- The quarterly re-inspection ----

const inspectionWork = (summary: string) => spotCheckActivities('5 minutes', summary);
const { drawReInspection } = inspectionWork('draw the cases and their inspectors');
const { recordInspectionStart } = inspectionWork('record the start of the inspection');
const { recordInspectionReminder } = inspectionWork('remind the inspector');
const { recordInspectionOverdue } = inspectionWork('record the inspection overdue');
const { recordInspectionFinding } = inspectionWork('record the finding');
const { publishInspection } = inspectionWork('publish the result');

/** Inspections started at once (each start is a round trip to the server). */
const START_BATCH = 50;

/**
 * The quarterly on-site re-inspection ("double random, one public"): draws at least the policy's
 * share of every division's cases closed in the quarter (at least the minimum where there were any),
 * each with a random inspector who did not handle it, and runs one child inspection workflow per
 * case, each with its own deadline and reminders; it ends when every inspection has its finding.
 * Backfill a missed quarter by running it with `quarter`, or through the Schedule's backfill (see
 * README). About three history events per inspection: a quarter of a few thousand inspections stays
 * well inside Temporal's history limits.
 */
export async function reInspectionWorkflow(input: ReInspectionInput): Promise<ReInspectionOutcome> {
  const quarter = periodToCheck(reInspectionKind, input.quarter, input.calendar);
  const draw = await drawReInspection(drawRulesFor(reInspectionKind, quarter, input.policy, input));
  const unassigned = draw.inspections.filter((i) => !i.inspectorId).map((i) => i.caseId);
  if (unassigned.length) log.warn('no eligible inspector for some drawn cases', { quarter, unassigned });

  const running: Array<Promise<InspectionView>> = [];
  const toStart = draw.inspections.filter((i) => i.inspectorId && !i.finding);
  setCurrentDetails(
    detailLines([
      ['Quarter', quarter],
      ['Drawn', `${draw.inspections.length} of ${draw.population} closed cases`],
      ['To start', toStart.length],
      ['Unassigned', unassigned.length || undefined],
    ]),
  );
  for (let at = 0; at < toStart.length; at += START_BATCH) {
    const handles = await Promise.all(toStart.slice(at, at + START_BATCH).map((i) => startInspection(quarter, i, input)));
    for (const handle of handles) if (handle) running.push(handle.result());
  }
  const done = await Promise.allSettled(running);
  const findings: Record<InspectionFinding, number> = { rectified: 0, not_rectified: 0, false_report: 0 };
  let failed = 0;
  for (const d of done) {
    if (d.status === 'fulfilled' && d.value.finding) findings[d.value.finding.finding]++;
    else failed++;
  }
  const { seed, population } = draw;
  return { quarter, seed, population, drawn: draw.inspections.length, started: running.length, findings, failed, unassigned };
}

/** Start one inspection; undefined when it already runs or ran (a re-run of the quarter). */
async function startInspection(quarter: string, i: InspectionItem, input: ReInspectionInput) {
  const { inspectionDeadline, remindAt, rectificationDays, escalate } = input.policy;
  try {
    return await startChild(inspectionWorkflow, {
      workflowId: inspectionWorkflowIdFor(quarter, i.caseId),
      staticSummary: inspectionSummary({ quarter, caseId: i.caseId, divisionCode: i.divisionCode, inspectorId: i.inspectorId! }),
      args: [
        {
          inspectionId: i.inspectionId,
          quarter,
          caseId: i.caseId,
          divisionCode: i.divisionCode,
          unitId: i.unitId,
          inspectorId: i.inspectorId!,
          policy: { inspectionDeadline, remindAt, rectificationDays, escalate },
          calendar: input.calendar,
        },
      ],
      // An inspection outlives a terminated quarter run; it is restarted only if it failed or was terminated.
      parentClosePolicy: ParentClosePolicy.ABANDON,
      workflowIdReusePolicy: 'ALLOW_DUPLICATE_FAILED_ONLY',
    });
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) return undefined;
    throw err;
  }
}

// ---- One inspection ----

/**
 * One on-site inspection of a closed case: a deadline from the policy, reminders to the inspector at
 * the policy's points of the period, the overdue notice at the deadline, and the finding. A case not
 * rectified or falsely reported is reopened (escalated, with a rectification deadline) and an
 * accountability record is written; every result is published.
 */
export async function inspectionWorkflow(input: InspectionInput): Promise<InspectionView> {
  const { policy, calendar } = input;
  const startedAt = Date.now();
  const dueAt = addDuration(startedAt, policy.inspectionDeadline, calendar);
  const points = [...new Set(policy.remindAt)].sort((a, b) => a - b).map((f, i) => ({ n: i + 1, at: pointBetween(startedAt, dueAt, f) }));
  const reminders: Array<{ n: number; at: number }> = [];
  let overdue = false;
  let finding: (InspectionFindingInput & { foundAt: number }) | undefined;
  let reopen: ReopenOutcome | undefined;
  let published = false;
  const ref = { inspectionId: input.inspectionId, caseId: input.caseId, divisionCode: input.divisionCode, inspectorId: input.inspectorId };
  const refuse: Refuse = refusal({ inspectionId: input.inspectionId });

  const view = (): InspectionView => ({
    inspectionId: input.inspectionId,
    caseId: input.caseId,
    inspectorId: input.inspectorId,
    startedAt: new Date(startedAt).toISOString(),
    dueAt: new Date(dueAt).toISOString(),
    reminders: reminders.map((r) => ({ n: r.n, at: new Date(r.at).toISOString() })),
    overdue,
    finding: finding && { ...finding, foundAt: new Date(finding.foundAt).toISOString() },
    reopen,
    published,
  });

  setHandler(inspectionQuery, view);

  /** The current details the Temporal UI shows: the deadline, the reminders sent and the finding. */
  function showDetails(): void {
    setCurrentDetails(
      detailLines([
        ['Due', new Date(dueAt).toISOString()],
        ['Reminders sent', reminders.length],
        ['Overdue', overdue ? 'yes' : undefined],
        ['Finding', finding?.finding.replace(/_/g, ' ') ?? 'none yet'],
        ['Case reopened', reopen?.outcome],
      ]),
    );
  }
  showDetails();

  setHandler(
    recordFindingUpdate,
    async (f) => {
      const foundAt = Date.now();
      finding = { ...f, foundAt };
      const { note, responsiblePerson } = f;
      const { inspectionId, caseId, unitId } = input;
      const foundBy = f.actor.id;
      await recordInspectionFinding({ inspectionId, caseId, unitId, finding: f.finding, note, responsiblePerson, foundBy, foundAt });
      if (f.finding !== 'rectified') {
        // An on-site finding reopens the case, escalated as the policy says.
        const what = f.finding === 'false_report' ? 'the reported handling was false' : 'the problem was not rectified';
        const reason = `On-site re-inspection ${input.quarter}: ${what}`;
        const { escalate, rectificationDays: reworkDays } = policy;
        const request: Reopen = { actor: f.actor, reason, source: 're_inspection', escalate, reworkDays, finding: note };
        reopen = await returnToUnit(caseId, `re-inspection:${inspectionId}`, request);
      }
      await publishInspection({ inspectionId: input.inspectionId, publishedAt: Date.now(), reopen });
      published = true;
      showDetails();
      return view();
    },
    {
      validator: (f) => {
        refuseInvalid(findingIssues(f), 'finding', refuse);
        if (finding) refuse(`The finding of inspection ${input.inspectionId} is already recorded (${finding.finding})`);
        if (f.actor.id !== input.inspectorId) refuse(`Inspection ${input.inspectionId} is assigned to another inspector`, NOT_ASSIGNED);
      },
    },
  );

  await recordInspectionStart({ inspectionId: input.inspectionId, workflowId: workflowInfo().workflowId, startedAt, dueAt });

  // Each reminder, then the deadline, is a durable timer; a finding at any point ends the wait.
  let next = 0;
  while (!finding) {
    const reminder = points[next];
    const at = reminder ? reminder.at : overdue ? undefined : dueAt;
    if (at === undefined) {
      await condition(() => finding !== undefined);
      break;
    }
    const summary = reminder ? `reminder ${reminder.n} to the inspector` : 'inspection deadline';
    if (at > Date.now() && (await condition(() => finding !== undefined, at - Date.now(), { summary }))) break;
    if (reminder) {
      reminders.push(reminder);
      next++;
      await recordInspectionReminder({ ...ref, n: reminder.n, at: reminder.at, dueAt });
    } else {
      overdue = true;
      await recordInspectionOverdue({ ...ref, at: dueAt });
    }
    showDetails();
  }
  await condition(allHandlersFinished);
  return view();
}
