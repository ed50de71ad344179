import { ApplicationFailure, proxyActivities, workflowInfo, type ActivityOptions } from '@temporalio/workflow';
import { SearchAttributeType, defineSearchAttributeKey } from '@temporalio/common';
import type { z } from 'zod';
import type { createActivities } from '../activities';
import type { HolidayCalendar } from '../domain/calendar';
import type { Reopen } from '../domain/case';
import type { DrawRules, ReopenOutcome, SpotCheckKindSpec } from '../domain/spot-check';
import { INVALID_TRANSITION } from './contracts/errors';

/**
 * What the desk-check and re-inspection workflows share: the moment a scheduled run stands for, the
 * period it checks, the draw's rules from the policy, the return of a case to its unit, and how
 * their update validators refuse. What differs is in domain/spot-check.ts (the kind) and in each
 * workflow (who checks, what a finding does).
 */

type Activities = ReturnType<typeof createActivities>;

/** Database work is never given up: an outage only delays it. */
const retryUntilAnswered: ActivityOptions['retry'] = { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' };

/** The activities of a spot check, each attempt bounded by `startToCloseTimeout` and retried until it succeeds. */
export function spotCheckActivities(startToCloseTimeout: ActivityOptions['startToCloseTimeout']) {
  return proxyActivities<Activities>({ startToCloseTimeout, retry: retryUntilAnswered });
}

// Reopening waits for the case's projection; a case that cannot be reopened is an answer, not a
// failure, so what is retried is only an unreachable server: retried until it answers.
const { reopenCase } = spotCheckActivities('1 minute');

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

/** Refuse a decision its schema rejects, naming every issue. */
export function refuseInvalid(schema: z.ZodType, value: unknown, what: string, refuse: Refuse): void {
  const parsed = schema.safeParse(value);
  if (!parsed.success) refuse(`Invalid ${what}: ${parsed.error.issues.map((i) => i.message).join('; ')}`);
}
