import type { Pool } from 'pg';
import { dateIso, iso } from '../domain/instant';
import type { DeskCheckItem, DeskReturnRecord, DeskReviewRecord } from '../domain/spot-check';
import { drawnCaseOf } from './spot-checks';
import { inTransaction } from './transaction';

/**
 * What a desk check records about its drawn cases: each reviewer's result, the return of a
 * non-compliant case to its unit, and the close of the check (reviews not in by then are missed).
 * The draw itself is stored by db/spot-checks.ts.
 */

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
    ...drawnCaseOf(r),
    reviewerId: r.reviewer_id,
    result: r.result,
    finding: r.finding,
    reviewedBy: r.reviewed_by,
    reviewedAt: dateIso(r.reviewed_at),
    returnOutcome: r.return_outcome,
    returnDetail: r.return_detail,
    rectificationDueAt: dateIso(r.rectification_due_at),
  }));
}

/** The drawn cases as the desk-check workflow holds them (instants in epoch ms). */
export async function readDeskCheckItems(pool: Pool, id: string): Promise<DeskCheckItem[]> {
  return (await getDeskCheckItems(pool, id)).map((r) => ({
    caseId: r.caseId,
    divisionCode: r.divisionCode,
    unitId: r.unitId,
    reviewerId: r.reviewerId,
    result: r.result as DeskCheckItem['result'],
    finding: r.finding,
    reviewedBy: r.reviewedBy,
    reviewedAt: r.reviewedAt === null ? null : Date.parse(r.reviewedAt),
    returnOutcome: r.returnOutcome as DeskCheckItem['returnOutcome'],
  }));
}

export async function getDeskCheckState(pool: Pool, id: string): Promise<{ workflowId: string; completedAt: string | null } | undefined> {
  const { rows } = await pool.query(`SELECT workflow_id, completed_at FROM desk_checks WHERE id = $1`, [id]);
  return rows[0] && { workflowId: rows[0].workflow_id, completedAt: dateIso(rows[0].completed_at) };
}

export async function recordDeskReview(pool: Pool, r: DeskReviewRecord): Promise<void> {
  await pool.query(
    `UPDATE desk_check_items SET result = $3, finding = $4, reviewed_by = $5, reviewed_at = $6
      WHERE desk_check_id = $1 AND case_id = $2`,
    [r.deskCheckId, r.caseId, r.result, r.finding ?? null, r.reviewedBy, iso(r.reviewedAt)],
  );
}

export async function recordDeskReturn(pool: Pool, r: DeskReturnRecord): Promise<void> {
  await pool.query(
    `UPDATE desk_check_items SET return_outcome = $3, return_detail = $4, rectification_due_at = $5
      WHERE desk_check_id = $1 AND case_id = $2`,
    [r.deskCheckId, r.caseId, r.outcome.outcome, r.outcome.detail ?? null, r.outcome.rectificationDueAt ?? null],
  );
}

/** Close a desk check: reviews not in by the deadline are recorded as missed. */
export async function completeDeskCheck(pool: Pool, r: { deskCheckId: string; completedAt: number }): Promise<{ missed: number }> {
  return inTransaction(pool, async (c) => {
    const missed = await c.query(`UPDATE desk_check_items SET result = 'missed' WHERE desk_check_id = $1 AND result IS NULL`, [
      r.deskCheckId,
    ]);
    await c.query(`UPDATE desk_checks SET completed_at = COALESCE(completed_at, $2) WHERE id = $1`, [r.deskCheckId, iso(r.completedAt)]);
    return { missed: missed.rowCount ?? 0 };
  });
}
