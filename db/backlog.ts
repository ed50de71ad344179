import type { Pool, QueryResultRow } from 'pg';
import {
  activeBacklogStatuses,
  backlogStatuses,
  type BacklogMilestone,
  type BacklogSettings,
  type BacklogStatus,
  type BacklogSweepKind,
  type Leader,
} from '../domain/governance';
import { dateIso } from '../domain/instant';
import { enqueueOutbox } from './outbox';
import { inTransaction } from './transaction';

/**
 * Backlog listings (`backlog_cases`, one row per case and year) and the sweeps that make them
 * (`backlog_sweeps`, one row per sweep). Every write is keyed, so a retried activity changes
 * nothing twice.
 */

const ACTIVE = `(${activeBacklogStatuses.map((st) => `'${st}'`).join(', ')})`;
const FINISHED_CASE = `('closed', 'archived')`;

// ---- Sweeps ----

export interface BacklogSweepRequest {
  /** The sweep's workflow id: one record per sweep, however often the activity is retried. */
  sweepId: string;
  kind: BacklogSweepKind;
  now: number;
  year: number;
  settings: BacklogSettings;
}

export interface BacklogSweepCounts {
  year: number;
  listed: number;
  relisted: number;
  agedOut: number;
}

/**
 * List backlog from the projection, in one transaction. Every sweep lists the open cases that have
 * become backlog (overdue past the threshold, reopened often enough, or taken to the provincial
 * step) and have no active listing. The yearly sort first re-sorts the earlier years' active
 * listings: those whose case closed are cleared, those received within the re-sort window are
 * re-listed for `year` (to be assigned anew), the older ones are set aside (`aged_out`). A sweep id
 * seen before returns what that sweep did.
 */
export async function sweepBacklog(pool: Pool, input: BacklogSweepRequest): Promise<BacklogSweepCounts> {
  const { backlog } = input.settings;
  const now = new Date(input.now);
  return inTransaction(pool, async (c) => {
    const claimed = await c.query(
      `INSERT INTO backlog_sweeps (sweep_id, kind, list_year, ran_at, listed, relisted, aged_out)
       VALUES ($1, $2, $3, $4, 0, 0, 0) ON CONFLICT (sweep_id) DO NOTHING RETURNING sweep_id`,
      [input.sweepId, input.kind, input.year, now],
    );
    if (!claimed.rows[0]) {
      const { rows } = await c.query(`SELECT list_year, listed, relisted, aged_out FROM backlog_sweeps WHERE sweep_id = $1`, [
        input.sweepId,
      ]);
      return { year: rows[0].list_year, listed: rows[0].listed, relisted: rows[0].relisted, agedOut: rows[0].aged_out };
    }
    let relisted = 0;
    let agedOut = 0;
    if (input.kind === 'yearly') {
      await c.query(
        `UPDATE backlog_cases b SET status = 'cleared', cleared_at = COALESCE(k.closed_at, $2), updated_at = now()
           FROM cases k
          WHERE k.case_id = b.case_id AND b.list_year < $1 AND b.status IN ${ACTIVE} AND k.status IN ${FINISHED_CASE}`,
        [input.year, now],
      );
      const cutoff = new Date(now);
      cutoff.setUTCFullYear(cutoff.getUTCFullYear() - backlog.resortWindowYears);
      const aged = await c.query(
        `UPDATE backlog_cases SET status = 'aged_out', updated_at = now()
          WHERE list_year < $1 AND status IN ${ACTIVE} AND received_at <= $2`,
        [input.year, cutoff],
      );
      agedOut = aged.rowCount ?? 0;
      // Two statements, not one: the old listing must stop being active before the new one is inserted.
      const old = await c.query<{
        case_id: string;
        list_year: number;
        reasons: string[];
        division_code: string;
        category: string;
        received_at: Date;
      }>(
        `UPDATE backlog_cases SET status = 'relisted', updated_at = now()
          WHERE list_year < $1 AND status IN ${ACTIVE}
         RETURNING case_id, list_year, reasons, division_code, category, received_at`,
        [input.year],
      );
      for (const o of old.rows) {
        const inserted = await c.query(
          `INSERT INTO backlog_cases (case_id, list_year, reasons, division_code, category, received_at, listed_at, previous_year)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING`,
          [o.case_id, input.year, o.reasons, o.division_code, o.category, o.received_at, now, o.list_year],
        );
        relisted += inserted.rowCount ?? 0;
      }
    }
    const overdueCutoff = new Date(input.now - backlog.overdueDays * 86_400_000);
    const listed = await c.query(
      `INSERT INTO backlog_cases (case_id, list_year, reasons, division_code, category, received_at, listed_at)
       SELECT k.case_id, $1, r.reasons, k.division_code, k.category, k.received_at, $2
         FROM cases k
         CROSS JOIN LATERAL (SELECT array_remove(ARRAY[
             CASE WHEN k.deadline_at < $3 THEN 'overdue' END,
             CASE WHEN k.reopen_count >= $4 THEN 'reopened' END,
             CASE WHEN $5 AND EXISTS (SELECT 1 FROM case_events e WHERE e.case_id = k.case_id AND e.type = 'backlog_listed')
                  THEN 'provincial_escalation' END], NULL) AS reasons) r
        WHERE k.status NOT IN ${FINISHED_CASE}
          AND cardinality(r.reasons) > 0
          AND NOT EXISTS (SELECT 1 FROM backlog_cases b
                           WHERE b.case_id = k.case_id AND (b.list_year = $1 OR b.status IN ${ACTIVE}))
       ON CONFLICT DO NOTHING RETURNING case_id`,
      [input.year, now, overdueCutoff, backlog.reopenedAtLeast, backlog.includeProvincialEscalations],
    );
    const result = { year: input.year, listed: listed.rowCount ?? 0, relisted, agedOut };
    await c.query(`UPDATE backlog_sweeps SET listed = $2, relisted = $3, aged_out = $4 WHERE sweep_id = $1`, [
      input.sweepId,
      result.listed,
      result.relisted,
      result.agedOut,
    ]);
    return result;
  });
}

// ---- Listings' workflows ----

/** Active listings whose workflow has not been started yet, oldest first. */
export async function listingsAwaitingWorkflow(pool: Pool, limit: number): Promise<Array<{ caseId: string; year: number }>> {
  const { rows } = await pool.query<{ case_id: string; list_year: number }>(
    `SELECT case_id, list_year FROM backlog_cases WHERE workflow_started_at IS NULL AND status IN ${ACTIVE}
      ORDER BY listed_at, case_id LIMIT $1`,
    [limit],
  );
  return rows.map((r) => ({ caseId: r.case_id, year: r.list_year }));
}

export async function markListingWorkflowStarted(pool: Pool, caseId: string, year: number): Promise<void> {
  await pool.query(`UPDATE backlog_cases SET workflow_started_at = now() WHERE case_id = $1 AND list_year = $2`, [caseId, year]);
}

export interface BacklogListingState {
  /** The listing's status in the table (`relisted` / `aged_out`: a yearly sort took it over). */
  listing: BacklogStatus;
  /** The case's status in the projection. */
  caseStatus: string;
  closedAt?: number;
}

export async function getListingState(pool: Pool, caseId: string, year: number): Promise<BacklogListingState | undefined> {
  const { rows } = await pool.query<{ status: BacklogStatus; case_status: string; closed_at: Date | null }>(
    `SELECT b.status, k.status AS case_status, k.closed_at
       FROM backlog_cases b JOIN cases k ON k.case_id = b.case_id
      WHERE b.case_id = $1 AND b.list_year = $2`,
    [caseId, year],
  );
  const row = rows[0];
  return row && { listing: row.status, caseStatus: row.case_status, closedAt: row.closed_at?.getTime() };
}

/**
 * Record a milestone of a backlog listing in its row, and queue the notifications it causes in the
 * outbox (keyed by case, year, milestone and assignment version: a retry queues nothing twice).
 * A listing already cleared, re-listed or set aside is not moved back.
 */
export async function recordBacklogMilestone(
  pool: Pool,
  input: { caseId: string; year: number; at: number; milestone: BacklogMilestone },
): Promise<void> {
  const { caseId, year, milestone: m } = input;
  const at = new Date(input.at);
  await inTransaction(pool, async (c) => {
    const { rows } = await c.query<{ division_code: string; system_leader: Leader | null; territorial_leader: Leader | null }>(
      `SELECT division_code, system_leader, territorial_leader FROM backlog_cases WHERE case_id = $1 AND list_year = $2 FOR UPDATE`,
      [caseId, year],
    );
    const row = rows[0];
    if (!row) throw new Error(`no backlog listing ${caseId} for ${year}`);
    const live = `case_id = $1 AND list_year = $2 AND status IN ${ACTIVE}`;
    let recipients: string[] = [];
    let key: string = m.kind;
    const supervisor = `supervisor:${row.division_code}`;
    const leadersOf = (a: Leader | null, b: Leader | null) => [a, b].filter((l): l is Leader => !!l).map((l) => `leader:${l.id}`);
    switch (m.kind) {
      case 'assigned':
        await c.query(
          `UPDATE backlog_cases SET status = 'assigned', system_leader = $3, territorial_leader = $4, assigned_by = $5,
                  assigned_at = $6, clearing_due_at = $7, reminded_at = NULL, overdue_at = NULL, updated_at = now()
            WHERE ${live}`,
          [caseId, year, JSON.stringify(m.systemLeader), JSON.stringify(m.territorialLeader), m.assignedBy, at, new Date(m.clearingDueAt)],
        );
        recipients = [...leadersOf(m.systemLeader, m.territorialLeader), supervisor];
        key = `assigned:${m.version}`;
        break;
      case 'assignment_reminder':
        await c.query(`UPDATE backlog_cases SET assignment_reminded_at = $3, updated_at = now() WHERE ${live}`, [caseId, year, at]);
        recipients = [supervisor];
        break;
      case 'clearing_reminder':
        await c.query(`UPDATE backlog_cases SET reminded_at = $3, updated_at = now() WHERE ${live}`, [caseId, year, at]);
        recipients = leadersOf(row.system_leader, row.territorial_leader);
        key = `clearing_reminder:${m.version}`;
        break;
      case 'overdue':
        await c.query(`UPDATE backlog_cases SET status = 'overdue', overdue_at = $3, updated_at = now() WHERE ${live}`, [caseId, year, at]);
        recipients = [...leadersOf(row.system_leader, row.territorial_leader), supervisor, `provincial-inspection:${row.division_code}`];
        key = `overdue:${m.version}`;
        break;
      case 'cleared':
        await c.query(`UPDATE backlog_cases SET status = 'cleared', cleared_at = $3, updated_at = now() WHERE ${live}`, [caseId, year, at]);
        recipients = [...leadersOf(row.system_leader, row.territorial_leader), supervisor];
        break;
    }
    for (const recipient of recipients) {
      await enqueueOutbox(c, {
        idempotencyKey: `backlog:${caseId}:${year}:${key}:${recipient}`,
        caseId,
        eventSeq: 0,
        eventType: `backlog_${m.kind}`,
        recipient,
        payload: {
          caseId,
          listYear: year,
          type: `backlog_${m.kind}`,
          at: at.toISOString(),
          ...('clearingDueAt' in m && { clearingDueAt: new Date(m.clearingDueAt).toISOString() }),
        },
      });
    }
  });
}

// ---- Reads for the API ----

export interface BacklogRow {
  caseId: string;
  year: number;
  reasons: string[];
  status: BacklogStatus;
  divisionCode: string;
  category: string;
  receivedAt: string | null;
  listedAt: string | null;
  previousYear: number | null;
  systemLeader: Leader | null;
  territorialLeader: Leader | null;
  assignedAt: string | null;
  clearingDueAt: string | null;
  remindedAt: string | null;
  overdueAt: string | null;
  clearedAt: string | null;
}

function backlogRow(r: QueryResultRow): BacklogRow {
  return {
    caseId: r.case_id,
    year: r.list_year,
    reasons: r.reasons,
    status: r.status,
    divisionCode: r.division_code,
    category: r.category,
    receivedAt: dateIso(r.received_at),
    listedAt: dateIso(r.listed_at),
    previousYear: r.previous_year,
    systemLeader: r.system_leader,
    territorialLeader: r.territorial_leader,
    assignedAt: dateIso(r.assigned_at),
    clearingDueAt: dateIso(r.clearing_due_at),
    remindedAt: dateIso(r.reminded_at),
    overdueAt: dateIso(r.overdue_at),
    clearedAt: dateIso(r.cleared_at),
  };
}

export interface BacklogFilter {
  year?: number;
  status?: BacklogStatus;
  /** Division codes or prefixes the listing's case must be in; undefined: all. */
  divisionPrefixes?: string[];
  limit: number;
  offset: number;
}

/** One page of listings, newest year first. */
export async function listBacklog(pool: Pool, f: BacklogFilter): Promise<{ total: number; items: BacklogRow[] }> {
  const where: string[] = [];
  const params: unknown[] = [];
  const add = (sql: (p: string) => string, v: unknown) => {
    params.push(v);
    where.push(sql(`$${params.length}`));
  };
  if (f.year) add((p) => `list_year = ${p}`, f.year);
  if (f.status) add((p) => `status = ${p}`, f.status);
  if (f.divisionPrefixes)
    add(
      (p) => `division_code LIKE ANY(${p})`,
      f.divisionPrefixes.map((d) => `${d}%`),
    );
  const clause = where.length ? `WHERE ${where.join(' AND ')}` : '';
  params.push(f.limit, f.offset);
  const { rows } = await pool.query(
    `SELECT *, count(*) OVER () AS total FROM backlog_cases ${clause}
      ORDER BY list_year DESC, listed_at, case_id LIMIT $${params.length - 1} OFFSET $${params.length}`,
    params,
  );
  return { total: rows.length ? Number(rows[0].total) : 0, items: rows.map(backlogRow) };
}

/** How many listings of a year are in each status (every status present, 0 when none). */
export async function countBacklogByStatus(pool: Pool, year: number, divisionPrefixes: string[]): Promise<Record<BacklogStatus, number>> {
  const { rows } = await pool.query<{ status: BacklogStatus; n: string }>(
    `SELECT status, count(*) AS n FROM backlog_cases WHERE list_year = $1 AND division_code LIKE ANY($2) GROUP BY status`,
    [year, divisionPrefixes.map((d) => `${d}%`)],
  );
  const byStatus = Object.fromEntries(backlogStatuses.map((st) => [st, 0])) as Record<BacklogStatus, number>;
  for (const r of rows) byStatus[r.status] = Number(r.n);
  return byStatus;
}

/** Every listing of a case, newest year first. */
export async function listingsOfCase(pool: Pool, caseId: string): Promise<BacklogRow[]> {
  const { rows } = await pool.query(`SELECT * FROM backlog_cases WHERE case_id = $1 ORDER BY list_year DESC`, [caseId]);
  return rows.map(backlogRow);
}

/** The year of the case's active listing, if it has one. */
export async function activeListingYear(pool: Pool, caseId: string): Promise<number | undefined> {
  const { rows } = await pool.query<{ list_year: number }>(
    `SELECT list_year FROM backlog_cases WHERE case_id = $1 AND status IN ${ACTIVE}`,
    [caseId],
  );
  return rows[0]?.list_year;
}
