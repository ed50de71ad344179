import {
  ApplicationFailure,
  allHandlersFinished,
  condition,
  defineQuery,
  defineUpdate,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import { SearchAttributeType, defineSearchAttributeKey } from '@temporalio/common';
import type { createActivities } from '../activities';
import type { DeskCheckDraw, DeskCheckItem } from '../activities/supervision';
import { addDuration, type HolidayCalendar } from '../domain/calendar';
import { deskCheckSeed } from '../domain/sampling';
import { deskReviewSchema, type DeskReview } from '../domain/supervision';
import { localDayPeriod, previousLocalDate } from '../domain/supervision-periods';
import type { DeskCheckPolicy } from '../domain/supervision-policy';
import { detailLines } from '../domain/workflow-summaries';
import { INVALID_TRANSITION } from './contracts/errors';

type Activities = ReturnType<typeof createActivities>;

// Database work is never given up: an outage only delays it.
// Each proxy carries the summary the Temporal UI shows on the activity.
const databaseWork = (summary: string) =>
  proxyActivities<Activities>({
    startToCloseTimeout: '2 minutes',
    retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
    summary,
  });
const { drawDeskCheck } = databaseWork('draw the cases to check');
const { completeDeskCheck } = databaseWork('complete the desk check');
// Reopening waits for the case's projection; a case that cannot be reopened is an answer, not a
// failure, so what is retried is only an unreachable server: retried until it answers.
const reopening = (summary: string) =>
  proxyActivities<Activities>({
    startToCloseTimeout: '1 minute',
    retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
    summary,
  });

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

export interface DeskCheckInput {
  /** The local day (YYYY-MM-DD) whose closed cases are checked. Default: the day before the scheduled time. */
  date?: string;
  /** The desk-check section of the policy in force (the Schedule carries it; see worker/schedules.ts). */
  policy: DeskCheckPolicy;
  calendar: HolidayCalendar;
  policyVersion: string;
}

export interface DeskCheckView {
  id: string;
  seed: string;
  /** Cases in the sampling frame (closed that day); undefined until the draw is stored. */
  population?: number;
  reviewDueAt?: string;
  completed: boolean;
  items: DeskCheckItem[];
}

export interface DeskCheckOutcome {
  id: string;
  seed: string;
  population: number;
  drawn: number;
  compliant: number;
  nonCompliant: number;
  returned: number;
  missed: number;
}

export const deskCheckQuery = defineQuery<DeskCheckView>('deskCheck');
/** A reviewer's result for one drawn case; a non-compliant one goes back to its unit. */
export const deskReviewUpdate = defineUpdate<DeskCheckItem, [DeskReview]>('deskReview');

const REVIEWER_ROLES = new Set(['inspector', 'supervisor', 'admin']);

/**
 * The daily desk check. Draws the configured share of each division's cases closed on the day
 * (seeded by the day, stored with its frame), gives each to a reviewer with a deadline, and returns
 * every non-compliant one to its unit by reopening the case with a rectification deadline.
 */
export async function deskCheckWorkflow(input: DeskCheckInput): Promise<DeskCheckOutcome> {
  const { policy, calendar } = input;
  const date = input.date ?? previousLocalDate(scheduledTime(), calendar.utcOffsetMinutes);
  const seed = deskCheckSeed(date);
  let draw: DeskCheckDraw | undefined;
  let closed = false;

  function reject(message: string): never {
    throw ApplicationFailure.create({ type: INVALID_TRANSITION, message, nonRetryable: true, details: [{ deskCheckId: date }] });
  }

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

  setHandler(deskCheckQuery, () => ({
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
      await databaseWork(`record the review of case ${r.caseId}`).recordDeskReview({
        deskCheckId: date,
        caseId: r.caseId,
        result: item.result,
        finding: r.finding,
        reviewedBy: r.actor.id,
        reviewedAt: now,
      });
      if (!r.compliant) {
        const outcome = await reopening(`reopen case ${r.caseId} for rectification`).reopenCase({
          caseId: r.caseId,
          updateId: `${seed}:${r.caseId}`,
          reopen: {
            actor: r.actor,
            reason: `Desk check of ${date}: the handling does not comply and is returned for rectification`,
            source: 'spot_check',
            escalate: false,
            reworkDays: policy.rectificationDays,
            finding: r.finding,
          },
        });
        item.returnOutcome = outcome.outcome;
        await databaseWork(`record the return of case ${r.caseId} to its unit`).recordDeskReturn({
          deskCheckId: date,
          caseId: r.caseId,
          outcome,
        });
      }
      showDetails();
      return { ...item };
    },
    {
      validator: (r) => {
        const parsed = deskReviewSchema.safeParse(r);
        if (!parsed.success) reject(`Invalid review: ${parsed.error.issues.map((i) => i.message).join('; ')}`);
        if (!draw) reject(`The desk check of ${date} is still being drawn`);
        if (closed) reject(`The review deadline of the desk check of ${date} has passed`);
        const item = draw.items.find((i) => i.caseId === r.caseId);
        if (!item) reject(`Case ${r.caseId} is not in the desk check of ${date}`);
        if (item.result) reject(`Case ${r.caseId} has already been reviewed (${item.result})`);
        if (!REVIEWER_ROLES.has(r.actor.role)) reject(`A ${r.actor.role} may not review a desk check`);
        if (r.actor.role === 'inspector' && item.reviewerId && item.reviewerId !== r.actor.id) {
          reject(`Case ${r.caseId} is assigned to another reviewer`);
        }
      },
    },
  );

  const period = localDayPeriod(date, calendar.utcOffsetMinutes);
  draw = await drawDeskCheck({
    id: date,
    seed,
    from: period.from,
    to: period.to,
    share: policy.share,
    minPerDivision: policy.minPerDivision,
    closures: policy.closures,
    policyVersion: input.policyVersion,
    workflowId: workflowInfo().workflowId,
    reviewDueAt: addDuration(Date.now(), policy.reviewDeadline, calendar),
  });

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
