import type { Pool } from 'pg';
import { escalationLevels, MAX_ESCALATION_LEVEL, type CaseStatus, type Closure, type EscalationLevelName } from '../domain/case';
import { dateIso } from '../domain/instant';
import type { Category, Urgency } from '../domain/policy';

/**
 * The public feed of key cases (api/routes/public.ts): a redacted read of the `cases` projection.
 * Only the columns that may be published are read at all: nothing about the reporter, no free text.
 */

/** One key case as published. */
export interface KeyCase {
  caseId: string;
  category: Category;
  urgency: Urgency;
  divisionCode: string;
  status: CaseStatus;
  outcome: Closure | null;
  escalation: EscalationLevelName;
  handlingUnit: string | null;
  reopened: number;
  receivedAt: string;
  acceptedAt: string | null;
  closedAt: string | null;
  deadline: { kind: string; dueAt: string; overdue: boolean } | null;
  updatedAt: string;
}

export interface KeyCaseFilter {
  /** Division code or prefix. */
  division?: string;
  categories?: Category[];
  /** Only cases whose row changed since then (ISO 8601). */
  updatedSince?: string;
  limit: number;
  offset: number;
}

/** The selection of key cases: urgent, escalated, reopened or past their deadline; never one merged into another. */
const KEY_CASE = `merged_into IS NULL AND (urgency = 'urgent' OR escalation_level > 0 OR reopen_count > 0
  OR (deadline_at IS NOT NULL AND deadline_at < now()))`;

interface KeyCaseRow {
  case_id: string;
  category: Category;
  urgency: Urgency;
  division_code: string;
  status: CaseStatus;
  closure: Closure | null;
  escalation_level: number;
  unit_id: string | null;
  reopen_count: number;
  received_at: Date;
  accepted_at: Date | null;
  closed_at: Date | null;
  deadline_kind: string | null;
  deadline_at: Date | null;
  updated_at: Date;
}

/** One page of key cases, newest first, and how many there are in all. */
export async function listKeyCases(pool: Pool, f: KeyCaseFilter): Promise<{ total: number; items: KeyCase[] }> {
  const where = [KEY_CASE];
  const params: unknown[] = [];
  const add = (sql: (p: string) => string, value: unknown) => {
    params.push(value);
    where.push(sql(`$${params.length}`));
  };
  if (f.division) add((p) => `division_code LIKE ${p}`, `${f.division}%`);
  if (f.categories?.length) add((p) => `category = ANY(${p})`, f.categories);
  if (f.updatedSince) add((p) => `updated_at >= ${p}`, f.updatedSince);
  const clause = `WHERE ${where.join(' AND ')}`;
  const total = await pool.query<{ n: string }>(`SELECT count(*) AS n FROM cases ${clause}`, params);
  params.push(f.limit, f.offset);
  const { rows } = await pool.query<KeyCaseRow>(
    `SELECT case_id, category, urgency, division_code, status, closure, escalation_level, unit_id, reopen_count,
            received_at, accepted_at, closed_at, deadline_kind, deadline_at, updated_at
       FROM cases ${clause}
      ORDER BY received_at DESC, case_id DESC
      LIMIT $${params.length - 1} OFFSET $${params.length}`,
    params,
  );
  const now = Date.now();
  return {
    total: Number(total.rows[0].n),
    items: rows.map((r) => ({
      caseId: r.case_id,
      category: r.category,
      urgency: r.urgency,
      divisionCode: r.division_code,
      status: r.status,
      outcome: r.closure,
      escalation: escalationLevels[Math.min(r.escalation_level, MAX_ESCALATION_LEVEL)],
      handlingUnit: r.unit_id,
      reopened: r.reopen_count,
      receivedAt: r.received_at.toISOString(),
      acceptedAt: dateIso(r.accepted_at),
      closedAt: dateIso(r.closed_at),
      deadline:
        r.deadline_kind && r.deadline_at
          ? { kind: r.deadline_kind, dueAt: r.deadline_at.toISOString(), overdue: r.deadline_at.getTime() < now }
          : null,
      updatedAt: r.updated_at.toISOString(),
    })),
  };
}
