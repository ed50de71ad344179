import type { Pool } from 'pg';
import { dateIso } from '../domain/instant';

/**
 * Each role's inbox, read from the projection: the cases and drawn items that wait for a decision of
 * that person, each with the kind of decision it awaits, soonest deadline first. api/routes/queues.ts
 * names the decision and its route; this repository only finds what waits.
 */

/** What an item of a queue waits for. */
export const queueKinds = {
  unit: ['handle', 'rework'],
  clerk: ['supplement', 'acceptance', 'declined_assignment', 'result_review', 'callback'],
  supervisor: ['extension_request', 'review_request', 'exhausted_callback', 'overdue', 'desk_check_item', 'reward_approval'],
  inspector: ['re_inspection'],
} as const;
export type QueueRole = keyof typeof queueKinds;
export type QueueKind = (typeof queueKinds)[QueueRole][number];

export interface QueueItem {
  kind: QueueKind;
  caseId: string;
  /** The deadline of the decision awaited, ISO 8601; null when it has none. */
  dueAt: string | null;
  title: string | null;
  status: string | null;
  divisionCode: string;
  unitId: string | null;
  escalationLevel: number | null;
  /** The desk check or re-inspection an item was drawn in. */
  drawId: string | null;
  /** The reward payment (its seq) a `reward_approval` awaits the decision on. */
  paymentSeq: number | null;
}

export interface Queue {
  total: number;
  counts: Partial<Record<QueueKind, number>>;
  /** Supervisors: overdue cases by escalation level (0 none … 3 provincial). */
  overdueByLevel?: Record<string, number>;
  items: QueueItem[];
}

/** Who asks: the person (token subject), the unit they act for, the divisions a supervisor covers. */
export interface QueueOwner {
  sub: string;
  unitId?: string;
  divisions?: string[];
}

/** The cases' columns every item of a case kind carries, in the order of `itemColumns`. */
const caseColumns = `c.case_id, c.deadline_at, c.title, c.status, c.division_code, c.unit_id, c.escalation_level, NULL::text, NULL::integer`;
const itemColumns = `kind, case_id, due_at, title, status, division_code, unit_id, escalation_level, draw_id, payment_seq`;
/** Division prefixes as LIKE patterns: `$2`. */
const inDivisions = (alias: string) => `${alias}.division_code LIKE ANY($2)`;

/**
 * Each role's inbox as one UNION ALL; `$1` is the person or unit, `$2` the division patterns.
 * A supervisor's `reward_approval` (a payment of `reward_payments` awaiting approval) has no due
 * date: the policy sets no deadline for an approval, and the time it was requested is none (as a
 * deadline it would put every approval, long past, above the cases that are due). Whoever made the
 * finding that called for the payment may not approve it (workflows/reward.ts), so it is not in
 * their inbox.
 */
const sources: Record<QueueRole, string> = {
  unit: `
    SELECT c.deadline_kind, ${caseColumns} FROM cases c
     WHERE c.unit_id = $1 AND c.status = 'handling' AND c.deadline_kind IN ('handle', 'rework')`,
  clerk: `
    SELECT 'supplement', ${caseColumns} FROM cases c WHERE c.owner_id = $1 AND c.status = 'awaiting_supplement'
    UNION ALL
    SELECT CASE WHEN EXISTS (SELECT 1 FROM case_events e WHERE e.case_id = c.case_id AND e.type = 'assignment_declined')
                THEN 'declined_assignment' ELSE 'acceptance' END, ${caseColumns}
      FROM cases c WHERE c.owner_id = $1 AND c.status = 'pending_acceptance'
    UNION ALL
    SELECT 'result_review', ${caseColumns} FROM cases c WHERE c.owner_id = $1 AND c.status = 'under_review'
    UNION ALL
    SELECT 'callback', ${caseColumns} FROM cases c WHERE c.owner_id = $1 AND c.status = 'callback'`,
  supervisor: `
    SELECT 'extension_request', ${caseColumns} FROM cases c
     WHERE ${inDivisions('c')} AND c.status = 'handling' AND c.view ? 'pendingExtension'
    UNION ALL
    SELECT 'review_request', ${caseColumns} FROM cases c WHERE ${inDivisions('c')} AND c.status = 'review_requested'
    UNION ALL
    SELECT 'exhausted_callback', c.case_id, c.closed_at, c.title, c.status, c.division_code, c.unit_id, c.escalation_level, NULL, NULL
      FROM cases c WHERE ${inDivisions('c')} AND c.status = 'closed' AND c.closure = 'unreachable'
    UNION ALL
    SELECT 'overdue', ${caseColumns} FROM cases c
     WHERE ${inDivisions('c')} AND c.deadline_at < now() AND c.status NOT IN ('closed', 'archived')
    UNION ALL
    SELECT 'desk_check_item', i.case_id, d.review_due_at, c.title, c.status, i.division_code, i.unit_id, c.escalation_level, d.id, NULL
      FROM desk_check_items i JOIN desk_checks d ON d.id = i.desk_check_id LEFT JOIN cases c ON c.case_id = i.case_id
     WHERE ${inDivisions('i')} AND i.result IS NULL AND d.completed_at IS NULL
       AND (i.reviewer_id IS NULL OR i.reviewer_id = $1)
    UNION ALL
    SELECT 'reward_approval', c.case_id, NULL, c.title, c.status, c.division_code, c.unit_id, c.escalation_level, NULL, r.seq
      FROM reward_payments r JOIN cases c ON c.case_id = r.case_id
     WHERE r.status = 'awaiting_approval' AND ${inDivisions('c')} AND r.requested_by <> $1`,
  inspector: `
    SELECT 're_inspection', i.case_id, i.due_at, c.title, c.status, i.division_code, i.unit_id, c.escalation_level, i.re_inspection_id, NULL
      FROM inspections i LEFT JOIN cases c ON c.case_id = i.case_id
     WHERE i.inspector_id = $1 AND i.status IN ('assigned', 'in_progress', 'overdue')`,
};

interface ItemRow {
  kind: QueueKind;
  case_id: string;
  due_at: Date | null;
  title: string | null;
  status: string | null;
  division_code: string;
  unit_id: string | null;
  escalation_level: number | null;
  draw_id: string | null;
  payment_seq: number | null;
}

/** One page of a role's inbox, soonest deadline first (none last; ties by case, kind and payment), with the counts of the whole inbox. */
export async function readQueue(pool: Pool, role: QueueRole, who: QueueOwner, page: { limit: number; offset: number }): Promise<Queue> {
  const inbox = `WITH q (${itemColumns}) AS (${sources[role]})`;
  // $2 only where the inbox reads it (an unused parameter has no type PostgreSQL could infer).
  const params: unknown[] = [role === 'unit' ? who.unitId : who.sub];
  if (role === 'supervisor') params.push((who.divisions ?? []).map((d) => `${d}%`));
  const n = params.length;
  const [items, counts] = await Promise.all([
    pool.query<ItemRow>(
      `${inbox} SELECT * FROM q ORDER BY due_at ASC NULLS LAST, case_id, kind, payment_seq LIMIT $${n + 1} OFFSET $${n + 2}`,
      [...params, page.limit, page.offset],
    ),
    pool.query<{ kind: QueueKind; level: number | null; n: string }>(
      `${inbox} SELECT kind, CASE WHEN kind = 'overdue' THEN escalation_level END AS level, count(*) AS n FROM q GROUP BY 1, 2`,
      params,
    ),
  ]);
  const byKind: Partial<Record<QueueKind, number>> = {};
  const overdueByLevel: Record<string, number> = {};
  let total = 0;
  for (const r of counts.rows) {
    const n = Number(r.n);
    total += n;
    byKind[r.kind] = (byKind[r.kind] ?? 0) + n;
    if (r.kind === 'overdue') overdueByLevel[String(r.level)] = n;
  }
  return {
    total,
    counts: byKind,
    ...(role === 'supervisor' && { overdueByLevel }),
    items: items.rows.map((r) => ({
      kind: r.kind,
      caseId: r.case_id,
      dueAt: dateIso(r.due_at),
      title: r.title,
      status: r.status,
      divisionCode: r.division_code,
      unitId: r.unit_id,
      escalationLevel: r.escalation_level,
      drawId: r.draw_id,
      paymentSeq: r.payment_seq,
    })),
  };
}
