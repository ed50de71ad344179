import type { Pool } from 'pg';
import { dateIso, iso } from '../domain/instant';
import type { FindingRecord, InspectionItem, InspectionRef, InspectionStart, PublicationRecord } from '../domain/spot-check';
import { enqueueOutbox } from './outbox';
import { drawnCaseOf } from './spot-checks';
import { inTransaction } from './transaction';

/**
 * What a re-inspection records about its drawn cases: each on-site inspection's start, reminders,
 * overdue notice, finding (with the accountability record of a case not rectified or falsely
 * reported) and publication ("one public"). The draw itself is stored by db/spot-checks.ts.
 */

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
    ...drawnCaseOf(r),
    inspectorId: r.inspector_id,
    status: r.status,
    workflowId: r.workflow_id,
    startedAt: dateIso(r.started_at),
    dueAt: dateIso(r.due_at),
    reminders: r.reminders,
    overdueAt: dateIso(r.overdue_at),
    finding: r.finding,
    note: r.note,
    foundBy: r.found_by,
    foundAt: dateIso(r.found_at),
    reopenOutcome: r.reopen_outcome,
    published: r.published,
    publishedAt: dateIso(r.published_at),
    accountability: r.responsible_person ? { unitId: r.a_unit_id, responsiblePerson: r.responsible_person, finding: r.a_finding } : null,
  }));
}

/** The drawn cases as the re-inspection workflow holds them. */
export async function readInspectionItems(pool: Pool, reInspectionId: string): Promise<InspectionItem[]> {
  return (await getInspections(pool, reInspectionId)).map((r) => ({
    inspectionId: r.id,
    caseId: r.caseId,
    divisionCode: r.divisionCode,
    unitId: r.unitId,
    inspectorId: r.inspectorId,
    status: r.status as InspectionItem['status'],
    finding: r.finding as InspectionItem['finding'],
  }));
}

export async function recordInspectionStart(pool: Pool, r: InspectionStart): Promise<void> {
  await pool.query(
    `UPDATE inspections SET workflow_id = $2, started_at = $3, due_at = $4,
            status = CASE WHEN status = 'assigned' THEN 'in_progress' ELSE status END
      WHERE id = $1`,
    [r.inspectionId, r.workflowId, iso(r.startedAt), iso(r.dueAt)],
  );
}

/** Notify each recipient through the outbox (keyed per recipient: a retry enqueues nothing twice). */
async function notify(
  c: Parameters<typeof enqueueOutbox>[0],
  m: { key: string; caseId: string; seq: number; type: string; recipients: string[]; payload: Record<string, unknown> },
) {
  for (const recipient of m.recipients) {
    await enqueueOutbox(c, {
      idempotencyKey: `${m.key}:${recipient}`,
      caseId: m.caseId,
      eventSeq: m.seq,
      eventType: m.type,
      recipient,
      payload: { caseId: m.caseId, type: m.type, ...m.payload },
    });
  }
}

/** Reminder `n` (1-based) to the inspector; `at` is the moment it was due. */
export async function recordInspectionReminder(pool: Pool, r: InspectionRef & { n: number; at: number; dueAt: number }): Promise<void> {
  await inTransaction(pool, async (c) => {
    await c.query(
      `UPDATE inspections SET reminders = reminders || jsonb_build_array(jsonb_build_object('n', $2::int, 'at', $3::text))
        WHERE id = $1 AND NOT reminders @> jsonb_build_array(jsonb_build_object('n', $2::int))`,
      [r.inspectionId, r.n, iso(r.at)],
    );
    await notify(c, {
      key: `inspection:${r.inspectionId}:reminder:${r.n}`,
      caseId: r.caseId,
      seq: r.n,
      type: 'inspection_reminder',
      recipients: [`inspector:${r.inspectorId}`],
      payload: { inspectionId: r.inspectionId, at: iso(r.at), dueAt: iso(r.dueAt) },
    });
  });
}

/** The inspection deadline passed without a finding: the inspector and the division's supervisor are told. */
export async function recordInspectionOverdue(pool: Pool, r: InspectionRef & { at: number }): Promise<void> {
  await inTransaction(pool, async (c) => {
    await c.query(`UPDATE inspections SET status = 'overdue', overdue_at = $2 WHERE id = $1 AND status <> 'done'`, [
      r.inspectionId,
      iso(r.at),
    ]);
    await notify(c, {
      key: `inspection:${r.inspectionId}:overdue`,
      caseId: r.caseId,
      seq: 0,
      type: 'inspection_overdue',
      recipients: [`inspector:${r.inspectorId}`, `supervisor:${r.divisionCode}`],
      payload: { inspectionId: r.inspectionId, dueAt: iso(r.at) },
    });
  });
}

/** The finding, and for a case not rectified or falsely reported, its accountability record (one per inspection). */
export async function recordInspectionFinding(pool: Pool, r: FindingRecord): Promise<void> {
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
export async function publishInspection(pool: Pool, r: PublicationRecord): Promise<void> {
  await pool.query(
    `UPDATE inspections SET published = true, published_at = COALESCE(published_at, $2), reopen_outcome = $3, reopen_detail = $4
      WHERE id = $1`,
    [r.inspectionId, iso(r.publishedAt), r.reopen?.outcome ?? null, r.reopen?.detail ?? null],
  );
}

/** Published re-inspection results: no personal data (the responsible person stays in the accountability record). */
export async function listPublishedResults(pool: Pool, f: { limit: number; offset: number; quarter?: string; divisionPrefix?: string }) {
  const { rows } = await pool.query(
    `SELECT re_inspection_id, case_id, division_code, unit_id, finding, reopen_outcome, found_at, published_at, count(*) OVER () AS total
       FROM inspections
      WHERE published AND ($1::text IS NULL OR re_inspection_id = $1) AND ($2::text IS NULL OR division_code LIKE $2 || '%')
      ORDER BY published_at DESC, case_id LIMIT $3 OFFSET $4`,
    [f.quarter ?? null, f.divisionPrefix ?? null, f.limit, f.offset],
  );
  const items = rows.map((r) => ({
    quarter: r.re_inspection_id,
    caseId: r.case_id,
    divisionCode: r.division_code,
    unitId: r.unit_id,
    finding: r.finding,
    caseReopened: r.reopen_outcome === 'reopened',
    inspectedAt: dateIso(r.found_at),
    publishedAt: dateIso(r.published_at),
  }));
  return { total: rows.length ? Number(rows[0].total) : await countPublished(pool, f), items };
}

/** How many results are published (for a page past the last, which has no row to count them). */
async function countPublished(pool: Pool, f: { quarter?: string; divisionPrefix?: string }): Promise<number> {
  const { rows } = await pool.query<{ n: string }>(
    `SELECT count(*) AS n FROM inspections
      WHERE published AND ($1::text IS NULL OR re_inspection_id = $1) AND ($2::text IS NULL OR division_code LIKE $2 || '%')`,
    [f.quarter ?? null, f.divisionPrefix ?? null],
  );
  return Number(rows[0].n);
}

/** An accountability record: who answers for a case a re-inspection found not rectified or falsely reported. */
export interface AccountabilityRecord {
  id: number;
  inspectionId: string;
  reInspectionId: string;
  caseId: string;
  divisionCode: string;
  unitId: string | null;
  responsiblePerson: string;
  finding: string;
  note: string | null;
  createdAt: string;
}

/** One page of the accountability records, newest first, and how many there are; `divisionPrefixes` a supervisor's. */
export async function listAccountabilityRecords(
  pool: Pool,
  f: { limit: number; offset: number; divisionPrefixes?: string[]; unitId?: string },
): Promise<{ total: number; items: AccountabilityRecord[] }> {
  const from = `FROM accountability_records a JOIN inspections i ON i.id = a.inspection_id
      WHERE ($1::text[] IS NULL OR i.division_code LIKE ANY($1)) AND ($2::text IS NULL OR a.unit_id = $2)`;
  const filter = [f.divisionPrefixes?.map((d) => `${d}%`) ?? null, f.unitId ?? null];
  const [{ rows }, count] = await Promise.all([
    pool.query(
      `SELECT a.id, a.inspection_id, i.re_inspection_id, a.case_id, i.division_code, a.unit_id, a.responsible_person, a.finding,
              a.note, a.created_at
         ${from} ORDER BY a.created_at DESC, a.id DESC LIMIT $3 OFFSET $4`,
      [...filter, f.limit, f.offset],
    ),
    pool.query<{ n: string }>(`SELECT count(*) AS n ${from}`, filter),
  ]);
  return {
    total: Number(count.rows[0].n),
    items: rows.map((r) => ({
      id: Number(r.id),
      inspectionId: r.inspection_id,
      reInspectionId: r.re_inspection_id,
      caseId: r.case_id,
      divisionCode: r.division_code,
      unitId: r.unit_id,
      responsiblePerson: r.responsible_person,
      finding: r.finding,
      note: r.note,
      createdAt: r.created_at.toISOString(),
    })),
  };
}
