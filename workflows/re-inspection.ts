import {
  ApplicationFailure,
  ParentClosePolicy,
  allHandlersFinished,
  condition,
  defineQuery,
  defineUpdate,
  log,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  startChild,
  workflowInfo,
} from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import type { createActivities } from '../activities';
import type { InspectionItem, ReopenOutcome } from '../activities/supervision';
import { addDuration, pointBetween, type HolidayCalendar } from '../domain/calendar';
import { reInspectionSeed } from '../domain/sampling';
import { findingSchema, inspectionWorkflowIdFor, type InspectionFinding, type InspectionFindingInput } from '../domain/supervision';
import { previousQuarter, quarterPeriod } from '../domain/supervision-periods';
import type { ReInspectionPolicy } from '../domain/supervision-policy';
import { detailLines, inspectionSummary } from '../domain/workflow-summaries';
import { INVALID_TRANSITION } from './contracts/errors';
import { scheduledTime } from './desk-check';

type Activities = ReturnType<typeof createActivities>;

// Each proxy carries the summary the Temporal UI shows on the activity.
const databaseWork = (summary: string) =>
  proxyActivities<Activities>({
    startToCloseTimeout: '5 minutes',
    retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
    summary,
  });
const { drawReInspection } = databaseWork('draw the cases and their inspectors');
const { recordInspectionStart } = databaseWork('record the start of the inspection');
const { recordInspectionReminder } = databaseWork('remind the inspector');
const { recordInspectionOverdue } = databaseWork('record the inspection overdue');
const { recordInspectionFinding } = databaseWork('record the finding');
const { publishInspection } = databaseWork('publish the result');
// Reopening waits for the case's projection; a case that cannot be reopened is an answer, not a
// failure, so what is retried is only an unreachable server: retried until it answers.
const reopening = (summary: string) =>
  proxyActivities<Activities>({
    startToCloseTimeout: '1 minute',
    retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
    summary,
  });

/** Inspections started at once (each start is a round trip to the server). */
const START_BATCH = 50;

export interface ReInspectionInput {
  /** The quarter (YYYY-Qn) whose closed cases are re-inspected. Default: the quarter before the scheduled time. */
  quarter?: string;
  /** The re-inspection section of the policy in force (the Schedule carries it; see worker/schedules.ts). */
  policy: ReInspectionPolicy;
  calendar: HolidayCalendar;
  policyVersion: string;
}

export interface ReInspectionOutcome {
  quarter: string;
  seed: string;
  population: number;
  drawn: number;
  /** Inspections this run started and saw finish (a re-run starts only those never started). */
  started: number;
  findings: Record<InspectionFinding, number>;
  /** Inspections that ended without a finding (terminated or failed). */
  failed: number;
  /** Drawn cases no inspector in the pool could take (none covers the division, or all handled it). */
  unassigned: string[];
}

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
  const { policy, calendar } = input;
  const quarter = input.quarter ?? previousQuarter(scheduledTime(), calendar.utcOffsetMinutes);
  const seed = reInspectionSeed(quarter);
  const period = quarterPeriod(quarter, calendar.utcOffsetMinutes);
  const draw = await drawReInspection({
    id: quarter,
    seed,
    from: period.from,
    to: period.to,
    share: policy.share,
    minPerDivision: policy.minPerDivision,
    closures: policy.closures,
    policyVersion: input.policyVersion,
    workflowId: workflowInfo().workflowId,
  });
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
  return {
    quarter,
    seed,
    population: draw.population,
    drawn: draw.inspections.length,
    started: running.length,
    findings,
    failed,
    unassigned,
  };
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

export interface InspectionInput {
  inspectionId: string;
  quarter: string;
  caseId: string;
  divisionCode: string;
  unitId: string | null;
  inspectorId: string;
  policy: Pick<ReInspectionPolicy, 'inspectionDeadline' | 'remindAt' | 'rectificationDays' | 'escalate'>;
  calendar: HolidayCalendar;
}

export interface InspectionView {
  inspectionId: string;
  caseId: string;
  inspectorId: string;
  startedAt: string;
  dueAt: string;
  /** Reminders sent, each at the moment it was due. */
  reminders: Array<{ n: number; at: string }>;
  overdue: boolean;
  finding?: InspectionFindingInput & { foundAt: string };
  reopen?: ReopenOutcome;
  published: boolean;
}

export const inspectionQuery = defineQuery<InspectionView>('inspection');
/** The assigned inspector's finding. Not rectified or false report: the case is reopened and someone answers for it. */
export const recordFindingUpdate = defineUpdate<InspectionView, [InspectionFindingInput]>('recordFinding');

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

  function reject(type: string, message: string): never {
    throw ApplicationFailure.create({ type, message, nonRetryable: true, details: [{ inspectionId: input.inspectionId }] });
  }

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
      await recordInspectionFinding({
        inspectionId: input.inspectionId,
        caseId: input.caseId,
        unitId: input.unitId,
        finding: f.finding,
        note: f.note,
        responsiblePerson: f.responsiblePerson,
        foundBy: f.actor.id,
        foundAt,
      });
      if (f.finding !== 'rectified') {
        const what = f.finding === 'false_report' ? 'the reported handling was false' : 'the problem was not rectified';
        reopen = await reopening(`reopen case ${input.caseId} for rectification`).reopenCase({
          caseId: input.caseId,
          updateId: `re-inspection:${input.inspectionId}`,
          reopen: {
            actor: f.actor,
            reason: `On-site re-inspection ${input.quarter}: ${what}`,
            source: 're_inspection',
            escalate: policy.escalate,
            reworkDays: policy.rectificationDays,
            finding: f.note,
          },
        });
      }
      await publishInspection({ inspectionId: input.inspectionId, publishedAt: Date.now(), reopen });
      published = true;
      showDetails();
      return view();
    },
    {
      validator: (f) => {
        const parsed = findingSchema.safeParse(f);
        if (!parsed.success) reject(INVALID_TRANSITION, `Invalid finding: ${parsed.error.issues.map((i) => i.message).join('; ')}`);
        if (finding) reject(INVALID_TRANSITION, `The finding of inspection ${input.inspectionId} is already recorded (${finding.finding})`);
        if (f.actor.id !== input.inspectorId) reject('NotAssigned', `Inspection ${input.inspectionId} is assigned to another inspector`);
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
