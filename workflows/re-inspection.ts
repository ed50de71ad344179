import { ParentClosePolicy, allHandlersFinished, condition, log, setHandler, startChild, workflowInfo } from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import { addDuration, pointBetween } from '../domain/calendar';
import type { Reopen } from '../domain/case';
import { reInspectionKind, type InspectionItem, type ReopenOutcome } from '../domain/spot-check';
import { findingSchema, type InspectionFinding, type InspectionFindingInput } from '../domain/supervision';
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
import { drawRulesFor, periodToCheck, refusal, refuseInvalid, returnToUnit, spotCheckActivities, type Refuse } from './spot-check';

const {
  drawReInspection,
  recordInspectionStart,
  recordInspectionReminder,
  recordInspectionOverdue,
  recordInspectionFinding,
  publishInspection,
} = spotCheckActivities('5 minutes');

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
      return view();
    },
    {
      validator: (f) => {
        refuseInvalid(findingSchema, f, 'finding', refuse);
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
    if (at > Date.now() && (await condition(() => finding !== undefined, at - Date.now()))) break;
    if (reminder) {
      reminders.push(reminder);
      next++;
      await recordInspectionReminder({ ...ref, n: reminder.n, at: reminder.at, dueAt });
    } else {
      overdue = true;
      await recordInspectionOverdue({ ...ref, at: dueAt });
    }
  }
  await condition(allHandlersFinished);
  return view();
}
