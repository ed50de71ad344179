import { allHandlersFinished, condition, setHandler } from '@temporalio/workflow';
import { addDuration } from '../domain/calendar';
import type { Reopen } from '../domain/case';
import { deskCheckKind, type DeskCheckDraw, type DeskCheckItem } from '../domain/spot-check';
import { deskReviewSchema } from '../domain/supervision';
import {
  deskCheckQuery,
  deskReviewUpdate,
  type DeskCheckInput,
  type DeskCheckOutcome,
  type DeskCheckView,
} from './contracts/desk-check';
import { drawRulesFor, periodToCheck, refusal, refuseInvalid, returnToUnit, spotCheckActivities, type Refuse } from './spot-check';

// Database work is never given up: an outage only delays it.
const { drawDeskCheck, recordDeskReview, recordDeskReturn, completeDeskCheck } = spotCheckActivities('2 minutes');

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
      await recordDeskReview({ deskCheckId: date, caseId, result: item.result, finding, reviewedBy: r.actor.id, reviewedAt: now });
      if (!r.compliant) {
        // A desk check returns the case to its unit, without escalation.
        const reason = `Desk check of ${date}: the handling does not comply and is returned for rectification`;
        const reworkDays = policy.rectificationDays;
        const reopen: Reopen = { actor: r.actor, reason, source: 'spot_check', escalate: false, reworkDays, finding };
        const outcome = await returnToUnit(caseId, `${seed}:${caseId}`, reopen);
        item.returnOutcome = outcome.outcome;
        await recordDeskReturn({ deskCheckId: date, caseId, outcome });
      }
      return { ...item };
    },
    {
      validator: (r) => {
        refuseInvalid(deskReviewSchema, r, 'review', refuse);
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
  const remaining = draw.reviewDueAt - Date.now();
  if (pending() && remaining > 0) await condition(() => !pending(), remaining);
  closed = true;
  await condition(allHandlersFinished);
  for (const item of items) if (item.result === null) item.result = 'missed';
  await completeDeskCheck({ deskCheckId: date, completedAt: Date.now() });

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
