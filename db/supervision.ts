import type { Pool } from 'pg';
import type { FrameCase } from '../activities/supervision';

/** Reads of desk checks, re-inspections, inspectors and published results (written by activities/supervision.ts). */

const isoOrNull = (d: Date | null) => (d ? d.toISOString() : null);

export type DrawKind = 'desk_check' | 're_inspection';
const drawTable: Record<DrawKind, string> = { desk_check: 'desk_checks', re_inspection: 're_inspections' };

export interface StoredDraw {
  id: string;
  seed: string;
  share: number;
  minPerDivision: number;
  closures: string[];
  policyVersion: string;
  periodFrom: string;
  periodTo: string;
  population: FrameCase[];
  drawn: string[];
  workflowId: string;
  createdAt: string;
}

/** A draw with its sampling frame, for re-running it. */
export async function getStoredDraw(pool: Pool, kind: DrawKind, id: string): Promise<StoredDraw | undefined> {
  const { rows } = await pool.query(
    `SELECT id, seed, share, min_per_division, closures, policy_version, period_from, period_to, population, drawn, workflow_id, created_at
       FROM ${drawTable[kind]} WHERE id = $1`,
    [id],
  );
  const r = rows[0];
  if (!r) return undefined;
  return {
    id: r.id,
    seed: r.seed,
    share: r.share,
    minPerDivision: r.min_per_division,
    closures: r.closures,
    policyVersion: r.policy_version,
    periodFrom: r.period_from.toISOString(),
    periodTo: r.period_to.toISOString(),
    population: r.population,
    drawn: r.drawn,
    workflowId: r.workflow_id,
    createdAt: r.created_at.toISOString(),
  };
}

export interface Page {
  limit: number;
  offset: number;
}

export async function listDeskChecks(pool: Pool, page: Page) {
  const { rows } = await pool.query(
    `SELECT d.id, d.seed, d.share, d.min_per_division, d.policy_version, jsonb_array_length(d.population) AS population,
            cardinality(d.drawn) AS drawn, d.review_due_at, d.completed_at, d.workflow_id,
            count(i.*) FILTER (WHERE i.result = 'compliant') AS compliant,
            count(i.*) FILTER (WHERE i.result = 'non_compliant') AS non_compliant,
            count(i.*) FILTER (WHERE i.result = 'missed') AS missed,
            count(i.*) FILTER (WHERE i.return_outcome = 'reopened') AS returned
       FROM desk_checks d LEFT JOIN desk_check_items i ON i.desk_check_id = d.id
      GROUP BY d.id ORDER BY d.id DESC LIMIT $1 OFFSET $2`,
    [page.limit, page.offset],
  );
  return rows.map((r) => ({
    id: r.id,
    seed: r.seed,
    share: r.share,
    minPerDivision: r.min_per_division,
    policyVersion: r.policy_version,
    population: r.population,
    drawn: r.drawn,
    reviewDueAt: r.review_due_at.toISOString(),
    completedAt: isoOrNull(r.completed_at),
    workflowId: r.workflow_id,
    results: {
      compliant: Number(r.compliant),
      nonCompliant: Number(r.non_compliant),
      missed: Number(r.missed),
      returned: Number(r.returned),
    },
  }));
}

export interface DeskCheckItemRecord {
  caseId: string;
  divisionCode: string;
  unitId: string | null;
  reviewerId: string | null;
  result: string | null;
  finding: string | null;
  reviewedBy: string | null;
  reviewedAt: string | null;
  returnOutcome: string | null;
  returnDetail: string | null;
  rectificationDueAt: string | null;
}

export async function getDeskCheckItems(pool: Pool, id: string, caseId?: string): Promise<DeskCheckItemRecord[]> {
  const { rows } = await pool.query(
    `SELECT case_id, division_code, unit_id, reviewer_id, result, finding, reviewed_by, reviewed_at, return_outcome,
            return_detail, rectification_due_at
       FROM desk_check_items WHERE desk_check_id = $1 AND ($2::text IS NULL OR case_id = $2) ORDER BY case_id`,
    [id, caseId ?? null],
  );
  return rows.map((r) => ({
    caseId: r.case_id,
    divisionCode: r.division_code,
    unitId: r.unit_id,
    reviewerId: r.reviewer_id,
    result: r.result,
    finding: r.finding,
    reviewedBy: r.reviewed_by,
    reviewedAt: isoOrNull(r.reviewed_at),
    returnOutcome: r.return_outcome,
    returnDetail: r.return_detail,
    rectificationDueAt: isoOrNull(r.rectification_due_at),
  }));
}

export async function getDeskCheckState(pool: Pool, id: string): Promise<{ workflowId: string; completedAt: string | null } | undefined> {
  const { rows } = await pool.query(`SELECT workflow_id, completed_at FROM desk_checks WHERE id = $1`, [id]);
  return rows[0] && { workflowId: rows[0].workflow_id, completedAt: isoOrNull(rows[0].completed_at) };
}

export async function listReInspections(pool: Pool, page: Page) {
  const { rows } = await pool.query(
    `SELECT r.id, r.seed, r.share, r.min_per_division, r.policy_version, jsonb_array_length(r.population) AS population,
            cardinality(r.drawn) AS drawn, r.created_at, r.workflow_id,
            count(i.*) FILTER (WHERE i.finding = 'rectified') AS rectified,
            count(i.*) FILTER (WHERE i.finding = 'not_rectified') AS not_rectified,
            count(i.*) FILTER (WHERE i.finding = 'false_report') AS false_report,
            count(i.*) FILTER (WHERE i.status = 'overdue') AS overdue,
            count(i.*) FILTER (WHERE i.status = 'unassigned') AS unassigned
       FROM re_inspections r LEFT JOIN inspections i ON i.re_inspection_id = r.id
      GROUP BY r.id ORDER BY r.id DESC LIMIT $1 OFFSET $2`,
    [page.limit, page.offset],
  );
  return rows.map((r) => ({
    id: r.id,
    seed: r.seed,
    share: r.share,
    minPerDivision: r.min_per_division,
    policyVersion: r.policy_version,
    population: r.population,
    drawn: r.drawn,
    createdAt: r.created_at.toISOString(),
    workflowId: r.workflow_id,
    findings: {
      rectified: Number(r.rectified),
      notRectified: Number(r.not_rectified),
      falseReport: Number(r.false_report),
      overdue: Number(r.overdue),
      unassigned: Number(r.unassigned),
    },
  }));
}

export interface InspectionRecord {
  id: string;
  reInspectionId: string;
  caseId: string;
  divisionCode: string;
  unitId: string | null;
  inspectorId: string | null;
  status: string;
  workflowId: string | null;
  startedAt: string | null;
  dueAt: string | null;
  reminders: Array<{ n: number; at: string }>;
  overdueAt: string | null;
  finding: string | null;
  note: string | null;
  foundBy: string | null;
  foundAt: string | null;
  reopenOutcome: string | null;
  published: boolean;
  publishedAt: string | null;
  accountability: { unitId: string | null; responsiblePerson: string; finding: string } | null;
}

export async function getInspections(pool: Pool, reInspectionId: string, caseId?: string): Promise<InspectionRecord[]> {
  const { rows } = await pool.query(
    `SELECT i.*, a.unit_id AS a_unit_id, a.responsible_person, a.finding AS a_finding
       FROM inspections i LEFT JOIN accountability_records a ON a.inspection_id = i.id
      WHERE i.re_inspection_id = $1 AND ($2::text IS NULL OR i.case_id = $2) ORDER BY i.case_id`,
    [reInspectionId, caseId ?? null],
  );
  return rows.map((r) => ({
    id: r.id,
    reInspectionId: r.re_inspection_id,
    caseId: r.case_id,
    divisionCode: r.division_code,
    unitId: r.unit_id,
    inspectorId: r.inspector_id,
    status: r.status,
    workflowId: r.workflow_id,
    startedAt: isoOrNull(r.started_at),
    dueAt: isoOrNull(r.due_at),
    reminders: r.reminders,
    overdueAt: isoOrNull(r.overdue_at),
    finding: r.finding,
    note: r.note,
    foundBy: r.found_by,
    foundAt: isoOrNull(r.found_at),
    reopenOutcome: r.reopen_outcome,
    published: r.published,
    publishedAt: isoOrNull(r.published_at),
    accountability: r.responsible_person ? { unitId: r.a_unit_id, responsiblePerson: r.responsible_person, finding: r.a_finding } : null,
  }));
}

/** Published re-inspection results: no personal data (the responsible person stays in the accountability record). */
export async function listPublishedResults(pool: Pool, f: Page & { quarter?: string; divisionPrefix?: string }) {
  const { rows } = await pool.query(
    `SELECT re_inspection_id, case_id, division_code, unit_id, finding, reopen_outcome, found_at, published_at
       FROM inspections
      WHERE published AND ($1::text IS NULL OR re_inspection_id = $1) AND ($2::text IS NULL OR division_code LIKE $2 || '%')
      ORDER BY published_at DESC, case_id LIMIT $3 OFFSET $4`,
    [f.quarter ?? null, f.divisionPrefix ?? null, f.limit, f.offset],
  );
  return rows.map((r) => ({
    quarter: r.re_inspection_id,
    caseId: r.case_id,
    divisionCode: r.division_code,
    unitId: r.unit_id,
    finding: r.finding,
    caseReopened: r.reopen_outcome === 'reopened',
    inspectedAt: isoOrNull(r.found_at),
    publishedAt: isoOrNull(r.published_at),
  }));
}

export async function listInspectors(pool: Pool) {
  const { rows } = await pool.query(`SELECT id, name, division_code, active FROM inspectors ORDER BY id`);
  return rows.map((r) => ({ id: r.id, name: r.name, divisionCode: r.division_code, active: r.active }));
}

export async function upsertInspector(pool: Pool, i: { id: string; name?: string; divisionCode: string; active: boolean }) {
  await pool.query(
    `INSERT INTO inspectors (id, name, division_code, active) VALUES ($1,$2,$3,$4)
     ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, division_code = EXCLUDED.division_code, active = EXCLUDED.active, updated_at = now()`,
    [i.id, i.name ?? null, i.divisionCode, i.active],
  );
}
