import { WorkflowNotFoundError, WorkflowUpdateFailedError, type Client } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { Pool } from 'pg';
import * as deskChecks from '../db/desk-checks';
import * as reInspections from '../db/re-inspections';
import { insertDraw, readActiveInspectors, readDrawHead, readHandlers, readSamplingFrame } from '../db/spot-checks';
import { inTransaction } from '../db/transaction';
import { assignInspectors, drawStratified } from '../domain/sampling';
import type { DeskCheckDraw, DrawRules, ReInspectionDraw, ReopenInput, ReopenOutcome, SpotCheckKind } from '../domain/spot-check';
import { INVALID_TRANSITION, reopenUpdate, workflowIdFor } from '../workflows/contracts/complaint';

/**
 * The I/O of desk checks and re-inspections: draw and store the sample (seed, rules, frame and
 * sample in one transaction) the same way for both, record what each kind's checkers find, and
 * reopen cases through their workflows. Every write is keyed, so an activity retried after a crash
 * writes nothing twice and reopens nothing twice. The SQL is in db/spot-checks.ts,
 * db/desk-checks.ts and db/re-inspections.ts.
 */

/**
 * Draw a period's sample and store it, or return the stored one: the first draw of a period is
 * the draw, whatever re-runs and retries follow. Each drawn case gets a checker who did not handle it.
 */
async function draw<D>(
  pool: Pool,
  kind: SpotCheckKind,
  rules: DrawRules & { reviewDueAt?: number },
  load: (id: string) => Promise<D | undefined>,
): Promise<D> {
  const stored = await load(rules.id);
  if (stored) return stored;
  await inTransaction(pool, async (c) => {
    const frame = await readSamplingFrame(c, rules);
    const drawnIds = drawStratified(frame, (x) => x.divisionCode, rules.share, rules.minPerDivision, rules.seed);
    const byId = new Map(frame.map((x) => [x.id, x]));
    const drawn = drawnIds.map((id) => byId.get(id)!);
    const handlers = await readHandlers(c, drawnIds);
    const checkers = assignInspectors(
      drawn.map((x) => ({ caseId: x.id, divisionCode: x.divisionCode, handlers: handlers.get(x.id) ?? [] })),
      await readActiveInspectors(c),
      rules.seed,
    );
    await insertDraw(c, kind, { rules, frame, drawn, checkers, reviewDueAt: rules.reviewDueAt });
  });
  return (await load(rules.id))!;
}

async function storedDeskCheck(pool: Pool, id: string): Promise<DeskCheckDraw | undefined> {
  const head = await readDrawHead(pool, 'desk_check', id);
  if (!head) return undefined;
  const items = await deskChecks.readDeskCheckItems(pool, id);
  return { id, seed: head.seed, population: head.population, reviewDueAt: head.dueAt!, items };
}

async function storedReInspection(pool: Pool, id: string): Promise<ReInspectionDraw | undefined> {
  const head = await readDrawHead(pool, 're_inspection', id);
  if (!head) return undefined;
  const inspections = await reInspections.readInspectionItems(pool, id);
  return { id, seed: head.seed, population: head.population, inspections };
}

/**
 * Reopen a closed case through its workflow's `reopen` update. The update id is derived from the
 * check, so a retried activity (or a re-run check) is deduplicated by Temporal and the case is
 * reopened once. A case that can no longer be reopened (reopened meanwhile, under review, or
 * archived) is reported as such rather than failing the check.
 */
async function reopenCase(client: Client | undefined, input: ReopenInput): Promise<ReopenOutcome> {
  if (!client) throw ApplicationFailure.nonRetryable('reopenCase needs a Temporal client in ActivityDeps', 'MissingDependency');
  try {
    const view = await client.workflow.getHandle(workflowIdFor(input.caseId)).executeUpdate(reopenUpdate, {
      args: [input.reopen],
      updateId: input.updateId,
    });
    return {
      outcome: 'reopened',
      status: view.status,
      escalationLevel: view.escalationLevel,
      reopenCount: view.reopenCount,
      rectificationDueAt: view.deadline?.dueAt,
    };
  } catch (err) {
    if (err instanceof WorkflowUpdateFailedError && err.cause instanceof ApplicationFailure && err.cause.type === INVALID_TRANSITION) {
      return { outcome: 'not_reopenable', detail: err.cause.message };
    }
    if (err instanceof WorkflowNotFoundError) {
      return { outcome: 'not_reopenable', detail: 'the case workflow has finished (archived): reopen it as a new case' };
    }
    throw err;
  }
}

/** The activities of both kinds; their names are part of running workflows' histories and stay as they are. */
export function spotCheckActivities(pool: Pool, client: Client | undefined) {
  const bound =
    <A, R>(write: (pool: Pool, a: A) => Promise<R>) =>
    (a: A) =>
      write(pool, a);
  return {
    drawDeskCheck: (rules: DrawRules & { reviewDueAt: number }) => draw(pool, 'desk_check', rules, (id) => storedDeskCheck(pool, id)),
    recordDeskReview: bound(deskChecks.recordDeskReview),
    recordDeskReturn: bound(deskChecks.recordDeskReturn),
    completeDeskCheck: bound(deskChecks.completeDeskCheck),
    drawReInspection: (rules: DrawRules) => draw(pool, 're_inspection', rules, (id) => storedReInspection(pool, id)),
    recordInspectionStart: bound(reInspections.recordInspectionStart),
    recordInspectionReminder: bound(reInspections.recordInspectionReminder),
    recordInspectionOverdue: bound(reInspections.recordInspectionOverdue),
    recordInspectionFinding: bound(reInspections.recordInspectionFinding),
    publishInspection: bound(reInspections.publishInspection),
    reopenCase: (input: ReopenInput) => reopenCase(client, input),
  };
}
