/**
 * The four rates (四率) by which complaint handling is judged, defined on a case's events as the
 * projection stores them (case_events) and on spot-check results. A rate counts *facts*; each fact
 * belongs to the period that contains its time `at`, and to the case's category and division and to
 * the unit that had the case at that moment. db/migrations/005_analysis.sql derives exactly these
 * facts in SQL (function rate_facts_of) and db/rates.ts sums them; test/report.test.ts checks
 * that both agree.
 *
 * - Timely acceptance (及时受理率) = accepted within the limit / accepted.
 *   Fact: each `accepted` event (a case is accepted once). at = its time; due = the deadline of the
 *   last `registered_for_acceptance` event before it (the acceptance limit from receipt, or from the
 *   supplement of missing information). Passed when at <= due. An acceptance its unit declined
 *   (`assignment_declined`: wrongly assigned) is no acceptance: its fact is dropped, and the case
 *   counts when a unit accepts it again (policy `intake.declinedAssignment` sets that deadline).
 * - On-time completion (按期办结率) = completed by the deadline in force / completed.
 *   Fact: the case's first `result_approved` event (a case is completed once, when the unit's reply
 *   is approved). at = the time of that approved reply (the last `result_submitted` before the
 *   approval); due = the deadline in force when the reply was submitted (the deadline of the last
 *   event before the submission that carries one: the handling deadline with every approved
 *   extension, or the rework deadline after a return). Passed when at <= due.
 * - Handling compliance (办理规范率) = compliant / spot-checked.
 *   Fact: each spot-check result (desk check or on-site re-inspection); at = when it was checked.
 * - Public satisfaction (群众满意率) = satisfied or basically satisfied / callbacks answered.
 *   Fact: each `callback_answered` event whose outcome is satisfied, basically_satisfied or
 *   dissatisfied (an unreachable complainant did not answer). at = its time.
 *
 * A rate with no facts in a period has no value (null), never 0% or 100%.
 */

export const rateNames = ['timelyAcceptance', 'onTimeCompletion', 'compliance', 'satisfaction'] as const;
export type RateName = (typeof rateNames)[number];

/** What each rate is called and what it divides, for reports and the README. */
export const rateDefinitions: Record<RateName, { title: string; numerator: string; denominator: string }> = {
  timelyAcceptance: {
    title: 'Timely acceptance',
    numerator: 'cases accepted by their acceptance deadline',
    denominator: 'cases accepted in the period',
  },
  onTimeCompletion: {
    title: 'On-time completion',
    numerator: 'completed cases whose approved reply came by the deadline in force (extensions included)',
    denominator: 'cases completed (reply approved) in the period',
  },
  compliance: {
    title: 'Handling compliance',
    numerator: 'spot checks that found the handling compliant',
    denominator: 'spot checks in the period',
  },
  satisfaction: {
    title: 'Public satisfaction',
    numerator: 'callbacks answered satisfied or basically satisfied',
    denominator: 'callbacks answered in the period',
  },
};

/** The facts derived from case events; compliance facts come from spot-check results. */
export type EventFactKind = 'acceptance' | 'completion' | 'satisfaction';

export const factKindOfRate: Record<RateName, EventFactKind | 'compliance'> = {
  timelyAcceptance: 'acceptance',
  onTimeCompletion: 'completion',
  compliance: 'compliance',
  satisfaction: 'satisfaction',
};

/** The part of a stored event that the rates read. */
export interface RateEvent {
  seq: number;
  type: string;
  at: number;
  deadlineAt?: number;
  data?: Record<string, unknown> | null;
}

export interface RateFact {
  kind: EventFactKind;
  /** The event that establishes the fact. */
  seq: number;
  /** When the fact counts (period attribution). */
  at: number;
  /** The deadline it is judged against (acceptance and completion). */
  dueAt?: number;
  passed: boolean;
  /** The unit that had the case at that moment. */
  unitId?: string;
}

export const ANSWERED_OUTCOMES = ['satisfied', 'basically_satisfied', 'dissatisfied'] as const;
export const SATISFIED_OUTCOMES = ['satisfied', 'basically_satisfied'] as const;

/** The rate facts of one case, from its events (any order). */
export function rateFactsOf(events: readonly RateEvent[]): RateFact[] {
  const ordered = [...events].sort((a, b) => a.seq - b.seq);
  const facts: RateFact[] = [];
  let unitId: string | undefined;
  let acceptDue: number | undefined;
  let lastDeadline: number | undefined;
  let reply: { at: number; dueAt?: number } | undefined;
  let completed = false;
  for (const e of ordered) {
    // The unit that has the case: named by its acceptance, then by each transfer.
    if (e.type === 'accepted') unitId = stringOrUndefined(e.data?.unitId);
    if (e.type === 'transferred') unitId = stringOrUndefined(e.data?.to);
    switch (e.type) {
      case 'registered_for_acceptance':
        acceptDue = e.deadlineAt;
        break;
      case 'accepted':
        facts.push({
          kind: 'acceptance',
          seq: e.seq,
          at: e.at,
          dueAt: acceptDue,
          passed: acceptDue !== undefined && e.at <= acceptDue,
          unitId,
        });
        break;
      case 'assignment_declined': {
        const last = facts.map((f) => f.kind).lastIndexOf('acceptance');
        if (last >= 0) facts.splice(last, 1);
        break;
      }
      case 'result_submitted':
        // The deadline in force at submission: that of the last event before it that carries one.
        reply = { at: e.at, dueAt: lastDeadline };
        break;
      case 'result_approved':
        if (!completed && reply) {
          completed = true;
          facts.push({
            kind: 'completion',
            seq: e.seq,
            at: reply.at,
            dueAt: reply.dueAt,
            passed: reply.dueAt !== undefined && reply.at <= reply.dueAt,
            unitId,
          });
        }
        break;
      case 'callback_answered': {
        const outcome = e.data?.outcome;
        if ((ANSWERED_OUTCOMES as readonly unknown[]).includes(outcome)) {
          facts.push({
            kind: 'satisfaction',
            seq: e.seq,
            at: e.at,
            passed: (SATISFIED_OUTCOMES as readonly unknown[]).includes(outcome),
            unitId,
          });
        }
        break;
      }
    }
    if (e.deadlineAt !== undefined) lastDeadline = e.deadlineAt;
  }
  return facts;
}

function stringOrUndefined(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

export interface Rate {
  numerator: number;
  denominator: number;
  /** numerator / denominator; null when nothing was counted. */
  value: number | null;
}

export function rate(numerator: number, denominator: number): Rate {
  return { numerator, denominator, value: denominator > 0 ? numerator / denominator : null };
}

export type RateSet = Record<RateName, Rate>;

export function emptyRateSet(): RateSet {
  return { timelyAcceptance: rate(0, 0), onTimeCompletion: rate(0, 0), compliance: rate(0, 0), satisfaction: rate(0, 0) };
}
