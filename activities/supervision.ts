import { WorkflowNotFoundError, WorkflowUpdateFailedError, type Client } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { Pool, PoolClient } from 'pg';
import { workflowIdFor, type Reopen } from '../domain/case';
import { assignInspectors, drawStratified } from '../domain/sampling';
import type { InspectionFinding as Finding } from '../domain/supervision';
import { INVALID_TRANSITION, reopenUpdate } from '../workflows/contracts/complaint';

/**
 * The I/O of desk checks and re-inspections: read the sampling frame from the case projection,
 * draw and store the sample (seed, rules, frame and sample in one transaction), record reviews,
 * findings and accountability, and reopen cases through their workflows. Every write is keyed, so
 * an activity retried after a crash writes nothing twice and reopens nothing twice.
 */

/** The rules of one draw, taken from the policy by the workflow. */
export interface DrawRules {
  /** The draw's id: the day (YYYY-MM-DD) or the quarter (YYYY-Qn). */
  id: string;
  seed: string;
  /** The sampled period, epoch ms, half-open. */
  from: number;
  to: number;
  share: number;
  minPerDivision: number;
  closures: string[];
  policyVersion: string;
  workflowId: string;
}

/** One case of the sampling frame. */
export interface FrameCase {
  id: string;
  divisionCode: string;
}

export interface DeskCheckItem {
  caseId: string;
  divisionCode: string;
  unitId: string | null;
  reviewerId: string | null;
  result: 'compliant' | 'non_compliant' | 'missed' | null;
  finding: string | null;
  reviewedBy: string | null;
  reviewedAt: number | null;
  returnOutcome: ReopenOutcome['outcome'] | null;
}

export interface DeskCheckDraw {
  id: string;
  seed: string;
  population: number;
  reviewDueAt: number;
  items: DeskCheckItem[];
}

export interface InspectionItem {
  inspectionId: string;
  caseId: string;
  divisionCode: string;
  unitId: string | null;
  inspectorId: string | null;
  status: 'unassigned' | 'assigned' | 'in_progress' | 'overdue' | 'done';
  finding: Finding | null;
}

export interface ReInspectionDraw {
  id: string;
  seed: string;
  population: number;
  inspections: InspectionItem[];
}

export interface ReopenInput {
  caseId: string;
  /** Derived from the check or inspection: a retried activity sends the same update, which Temporal applies once. */
  updateId: string;
  reopen: Reopen;
}

export interface ReopenOutcome {
  outcome: 'reopened' | 'not_reopenable';
  detail?: string;
  status?: string;
  escalationLevel?: number;
  reopenCount?: number;
  rectificationDueAt?: string;
}

const iso = (ms: number) => new Date(ms).toISOString();
const ms = (d: Date | null) => (d ? d.getTime() : null);

async function inTransaction<T>(pool: Pool, work: (c: PoolClient) => Promise<T>): Promise<T> {
  const c = await pool.connect();
  try {
    await c.query('BEGIN');
    const result = await work(c);
    await c.query('COMMIT');
    return result;
  } catch (err) {
    await c.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    c.release();
  }
}

interface ClosedCase extends FrameCase {
  unitId: string | null;
}

/** Cases whose (latest) closure fell in the period with one of the closures; merged cases excluded. */
async function closedCases(pool: Pool | PoolClient, r: DrawRules): Promise<ClosedCase[]> {
  const { rows } = await pool.query<{ case_id: string; division_code: string; unit_id: string | null }>(
    `SELECT case_id, division_code, unit_id FROM cases
      WHERE closed_at >= $1 AND closed_at < $2 AND closure = ANY($3) AND merged_into IS NULL
      ORDER BY case_id`,
    [iso(r.from), iso(r.to), r.closures],
  );
  return rows.map((x) => ({ id: x.case_id, divisionCode: x.division_code, unitId: x.unit_id }));
}

/** Draw the sample and give each drawn case an inspector who did not handle it. */
async function drawAndAssign(c: PoolClient, r: DrawRules) {
  const frame = await closedCases(c, r);
  const drawnIds = drawStratified(frame, (x) => x.divisionCode, r.share, r.minPerDivision, r.seed);
  const byId = new Map(frame.map((x) => [x.id, x]));
  const drawn = drawnIds.map((id) => byId.get(id)!);
  const handlers = await c.query<{ case_id: string; actors: string[] }>(
    `SELECT case_id, array_agg(DISTINCT actor_id) AS actors FROM case_events WHERE case_id = ANY($1) GROUP BY case_id`,
    [drawnIds],
  );
  const handlersOf = new Map(handlers.rows.map((x) => [x.case_id, x.actors]));
  const inspectors = await c.query<{ id: string; division_code: string }>(`SELECT id, division_code FROM inspectors WHERE active`);
  const assigned = assignInspectors(
    drawn.map((x) => ({ caseId: x.id, divisionCode: x.divisionCode, handlers: handlersOf.get(x.id) ?? [] })),
    inspectors.rows.map((i) => ({ id: i.id, divisionCode: i.division_code })),
    r.seed,
  );
  return { frame, drawn, drawnIds, assigned };
}

const frameJson = (frame: FrameCase[]) => JSON.stringify(frame.map((x) => ({ id: x.id, divisionCode: x.divisionCode })));

// ---- Desk checks ----

async function loadDeskCheckDraw(pool: Pool | PoolClient, id: string): Promise<DeskCheckDraw | undefined> {
  const head = await pool.query<{ seed: string; n: number; review_due_at: Date }>(
    `SELECT seed, jsonb_array_length(population) AS n, review_due_at FROM desk_checks WHERE id = $1`,
    [id],
  );
  if (!head.rows[0]) return undefined;
  const items = await pool.query(
    `SELECT case_id, division_code, unit_id, reviewer_id, result, finding, reviewed_by, reviewed_at, return_outcome
       FROM desk_check_items WHERE desk_check_id = $1 ORDER BY case_id`,
    [id],
  );
  return {
    id,
    seed: head.rows[0].seed,
    population: head.rows[0].n,
    reviewDueAt: head.rows[0].review_due_at.getTime(),
    items: items.rows.map((x) => ({
      caseId: x.case_id,
      divisionCode: x.division_code,
      unitId: x.unit_id,
      reviewerId: x.reviewer_id,
      result: x.result,
      finding: x.finding,
      reviewedBy: x.reviewed_by,
      reviewedAt: ms(x.reviewed_at),
      returnOutcome: x.return_outcome,
    })),
  };
}

/**
 * Draw a day's desk check and store it, or return the stored one: the first draw of a day is the
 * draw, whatever re-runs and retries follow.
 */
async function drawDeskCheck(pool: Pool, input: DrawRules & { reviewDueAt: number }): Promise<DeskCheckDraw> {
  const stored = await loadDeskCheckDraw(pool, input.id);
  if (stored) return stored;
  await inTransaction(pool, async (c) => {
    const { frame, drawn, drawnIds, assigned } = await drawAndAssign(c, input);
    const inserted = await c.query(
      `INSERT INTO desk_checks (id, period_from, period_to, seed, share, min_per_division, closures, policy_version,
         population, drawn, workflow_id, review_due_at)
       VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12) ON CONFLICT (id) DO NOTHING`,
      [
        input.id,
        iso(input.from),
        iso(input.to),
        input.seed,
        input.share,
        input.minPerDivision,
        input.closures,
        input.policyVersion,
        frameJson(frame),
        drawnIds,
        input.workflowId,
        iso(input.reviewDueAt),
      ],
    );
    if (!inserted.rowCount) return; // drawn meanwhile by a concurrent run
    await c.query(
      `INSERT INTO desk_check_items (desk_check_id, case_id, division_code, unit_id, reviewer_id)
       SELECT $1, * FROM unnest($2::text[], $3::text[], $4::text[], $5::text[]) ON CONFLICT DO NOTHING`,
      [input.id, drawnIds, drawn.map((x) => x.divisionCode), drawn.map((x) => x.unitId), drawn.map((x) => assigned[x.id])],
    );
  });
  return (await loadDeskCheckDraw(pool, input.id))!;
}

export interface DeskReviewRecord {
  deskCheckId: string;
  caseId: string;
  result: 'compliant' | 'non_compliant';
  finding?: string;
  reviewedBy: string;
  reviewedAt: number;
}

async function recordDeskReview(pool: Pool, r: DeskReviewRecord): Promise<void> {
  await pool.query(
    `UPDATE desk_check_items SET result = $3, finding = $4, reviewed_by = $5, reviewed_at = $6
      WHERE desk_check_id = $1 AND case_id = $2`,
    [r.deskCheckId, r.caseId, r.result, r.finding ?? null, r.reviewedBy, iso(r.reviewedAt)],
  );
}

async function recordDeskReturn(pool: Pool, r: { deskCheckId: string; caseId: string; outcome: ReopenOutcome }): Promise<void> {
  await pool.query(
    `UPDATE desk_check_items SET return_outcome = $3, return_detail = $4, rectification_due_at = $5
      WHERE desk_check_id = $1 AND case_id = $2`,
    [r.deskCheckId, r.caseId, r.outcome.outcome, r.outcome.detail ?? null, r.outcome.rectificationDueAt ?? null],
  );
}

/** Close a desk check: reviews not in by the deadline are recorded as missed. */
async function completeDeskCheck(pool: Pool, r: { deskCheckId: string; completedAt: number }): Promise<{ missed: number }> {
  return inTransaction(pool, async (c) => {
    const missed = await c.query(`UPDATE desk_check_items SET result = 'missed' WHERE desk_check_id = $1 AND result IS NULL`, [
      r.deskCheckId,
    ]);
    await c.query(`UPDATE desk_checks SET completed_at = COALESCE(completed_at, $2) WHERE id = $1`, [r.deskCheckId, iso(r.completedAt)]);
    return { missed: missed.rowCount ?? 0 };
  });
}

// ---- Re-inspections ----

async function loadReInspectionDraw(pool: Pool | PoolClient, id: string): Promise<ReInspectionDraw | undefined> {
  const head = await pool.query<{ seed: string; n: number }>(
    `SELECT seed, jsonb_array_length(population) AS n FROM re_inspections WHERE id = $1`,
    [id],
  );
  if (!head.rows[0]) return undefined;
  const rows = await pool.query(
    `SELECT id, case_id, division_code, unit_id, inspector_id, status, finding FROM inspections
      WHERE re_inspection_id = $1 ORDER BY case_id`,
    [id],
  );
  return {
    id,
    seed: head.rows[0].seed,
    population: head.rows[0].n,
    inspections: rows.rows.map((x) => ({
      inspectionId: x.id,
      caseId: x.case_id,
      divisionCode: x.division_code,
      unitId: x.unit_id,
      inspectorId: x.inspector_id,
      status: x.status,
      finding: x.finding,
    })),
  };
}

/** Draw a quarter's re-inspection sample with its inspectors and store it, or return the stored one. */
async function drawReInspection(pool: Pool, input: DrawRules): Promise<ReInspectionDraw> {
  const stored = await loadReInspectionDraw(pool, input.id);
  if (stored) return stored;
  await inTransaction(pool, async (c) => {
    const { frame, drawn, drawnIds, assigned } = await drawAndAssign(c, input);
    const inserted = await c.query(
      `INSERT INTO re_inspections (id, period_from, period_to, seed, share, min_per_division, closures, policy_version,
         population, drawn, workflow_id)
       VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11) ON CONFLICT (id) DO NOTHING`,
      [
        input.id,
        iso(input.from),
        iso(input.to),
        input.seed,
        input.share,
        input.minPerDivision,
        input.closures,
        input.policyVersion,
        frameJson(frame),
        drawnIds,
        input.workflowId,
      ],
    );
    if (!inserted.rowCount) return;
    await c.query(
      `INSERT INTO inspections (id, re_inspection_id, case_id, division_code, unit_id, inspector_id, status)
       SELECT $1 || ':' || t.case_id, $1, t.case_id, t.division_code, t.unit_id, t.inspector_id,
              CASE WHEN t.inspector_id IS NULL THEN 'unassigned' ELSE 'assigned' END
         FROM unnest($2::text[], $3::text[], $4::text[], $5::text[]) AS t (case_id, division_code, unit_id, inspector_id)
       ON CONFLICT DO NOTHING`,
      [input.id, drawnIds, drawn.map((x) => x.divisionCode), drawn.map((x) => x.unitId), drawn.map((x) => assigned[x.id])],
    );
  });
  return (await loadReInspectionDraw(pool, input.id))!;
}

async function recordInspectionStart(
  pool: Pool,
  r: { inspectionId: string; workflowId: string; startedAt: number; dueAt: number },
): Promise<void> {
  await pool.query(
    `UPDATE inspections SET workflow_id = $2, started_at = $3, due_at = $4,
            status = CASE WHEN status = 'assigned' THEN 'in_progress' ELSE status END
      WHERE id = $1`,
    [r.inspectionId, r.workflowId, iso(r.startedAt), iso(r.dueAt)],
  );
}

/** Notifications go through the outbox the worker drains (keyed: a retry enqueues nothing twice). */
async function enqueue(
  c: Pool | PoolClient,
  key: string,
  caseId: string,
  seq: number,
  type: string,
  recipients: string[],
  payload: object,
) {
  for (const recipient of recipients) {
    await c.query(
      `INSERT INTO outbox (idempotency_key, case_id, event_seq, event_type, recipient, payload)
       VALUES ($1,$2,$3,$4,$5,$6) ON CONFLICT (idempotency_key) DO NOTHING`,
      [`${key}:${recipient}`, caseId, seq, type, recipient, JSON.stringify({ caseId, type, ...payload })],
    );
  }
}

interface InspectionRef {
  inspectionId: string;
  caseId: string;
  divisionCode: string;
  inspectorId: string;
}

/** Reminder `n` (1-based) to the inspector; `at` is the moment it was due. */
async function recordInspectionReminder(pool: Pool, r: InspectionRef & { n: number; at: number; dueAt: number }): Promise<void> {
  await inTransaction(pool, async (c) => {
    await c.query(
      `UPDATE inspections SET reminders = reminders || jsonb_build_array(jsonb_build_object('n', $2::int, 'at', $3::text))
        WHERE id = $1 AND NOT reminders @> jsonb_build_array(jsonb_build_object('n', $2::int))`,
      [r.inspectionId, r.n, iso(r.at)],
    );
    await enqueue(c, `inspection:${r.inspectionId}:reminder:${r.n}`, r.caseId, r.n, 'inspection_reminder', [`inspector:${r.inspectorId}`], {
      inspectionId: r.inspectionId,
      at: iso(r.at),
      dueAt: iso(r.dueAt),
    });
  });
}

/** The inspection deadline passed without a finding: the inspector and the division's supervisor are told. */
async function recordInspectionOverdue(pool: Pool, r: InspectionRef & { at: number }): Promise<void> {
  await inTransaction(pool, async (c) => {
    await c.query(`UPDATE inspections SET status = 'overdue', overdue_at = $2 WHERE id = $1 AND status <> 'done'`, [
      r.inspectionId,
      iso(r.at),
    ]);
    await enqueue(
      c,
      `inspection:${r.inspectionId}:overdue`,
      r.caseId,
      0,
      'inspection_overdue',
      [`inspector:${r.inspectorId}`, `supervisor:${r.divisionCode}`],
      { inspectionId: r.inspectionId, dueAt: iso(r.at) },
    );
  });
}

export interface FindingRecord {
  inspectionId: string;
  caseId: string;
  unitId: string | null;
  finding: Finding;
  note?: string;
  responsiblePerson?: string;
  foundBy: string;
  foundAt: number;
}

/** The finding, and for a case not rectified or falsely reported, its accountability record (one per inspection). */
async function recordInspectionFinding(pool: Pool, r: FindingRecord): Promise<void> {
  await inTransaction(pool, async (c) => {
    await c.query(`UPDATE inspections SET status = 'done', finding = $2, note = $3, found_by = $4, found_at = $5 WHERE id = $1`, [
      r.inspectionId,
      r.finding,
      r.note ?? null,
      r.foundBy,
      iso(r.foundAt),
    ]);
    if (r.finding !== 'rectified') {
      await c.query(
        `INSERT INTO accountability_records (inspection_id, case_id, unit_id, responsible_person, finding, note, created_at)
         VALUES ($1,$2,$3,$4,$5,$6,$7) ON CONFLICT (inspection_id) DO NOTHING`,
        [r.inspectionId, r.caseId, r.unitId, r.responsiblePerson ?? 'not named', r.finding, r.note ?? null, iso(r.foundAt)],
      );
    }
  });
}

/** Publish the result ("one public"), with what became of the case. */
async function publishInspection(pool: Pool, r: { inspectionId: string; publishedAt: number; reopen?: ReopenOutcome }): Promise<void> {
  await pool.query(
    `UPDATE inspections SET published = true, published_at = COALESCE(published_at, $2), reopen_outcome = $3, reopen_detail = $4
      WHERE id = $1`,
    [r.inspectionId, iso(r.publishedAt), r.reopen?.outcome ?? null, r.reopen?.detail ?? null],
  );
}

// ---- Reopening through the complaint workflow ----

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

export function supervisionActivities(pool: Pool, client: Client | undefined) {
  return {
    drawDeskCheck: (input: DrawRules & { reviewDueAt: number }) => drawDeskCheck(pool, input),
    recordDeskReview: (r: DeskReviewRecord) => recordDeskReview(pool, r),
    recordDeskReturn: (r: { deskCheckId: string; caseId: string; outcome: ReopenOutcome }) => recordDeskReturn(pool, r),
    completeDeskCheck: (r: { deskCheckId: string; completedAt: number }) => completeDeskCheck(pool, r),
    drawReInspection: (input: DrawRules) => drawReInspection(pool, input),
    recordInspectionStart: (r: { inspectionId: string; workflowId: string; startedAt: number; dueAt: number }) =>
      recordInspectionStart(pool, r),
    recordInspectionReminder: (r: InspectionRef & { n: number; at: number; dueAt: number }) => recordInspectionReminder(pool, r),
    recordInspectionOverdue: (r: InspectionRef & { at: number }) => recordInspectionOverdue(pool, r),
    recordInspectionFinding: (r: FindingRecord) => recordInspectionFinding(pool, r),
    publishInspection: (r: { inspectionId: string; publishedAt: number; reopen?: ReopenOutcome }) => publishInspection(pool, r),
    reopenCase: (input: ReopenInput) => reopenCase(client, input),
  };
}
