import type { Pool, PoolClient } from 'pg';
import { dateIso, iso } from '../domain/instant';
import type { Inspector } from '../domain/sampling';
import type { ClosedCase, DrawRules, FrameCase, SpotCheckKind } from '../domain/spot-check';

/**
 * What desk checks and re-inspections store alike: the sampling frame read from the case
 * projection, the draw (seed, rules, frame and sample, written once), its listing, and the
 * inspector pool that checkers are drawn from. What each kind records about its drawn cases is in
 * db/desk-checks.ts and db/re-inspections.ts.
 */

type Db = Pick<Pool | PoolClient, 'query'>;

/** Where a kind keeps its draws, and what its listing counts. */
interface DrawStore {
  table: string;
  /** A desk check also stores its review deadline with the draw. */
  dueColumn?: string;
  /** Inserts the drawn cases: $1 the draw, $2..$5 their ids, divisions, units and checkers. */
  insertItems: string;
  /** Joins the drawn cases (as `i`) to the draw (as `d`), for the listing. */
  itemsJoin: string;
  /** The listing's instants: answer key to column. */
  instants: Record<string, string>;
  /** The listing's counts: their answer key, and each count's condition on `i`. */
  tally: { key: string; counts: Record<string, string> };
}

/** Counts of drawn cases by the value of one of their columns: answer key to SQL condition. */
function countsOf(column: string, values: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(values).map(([key, value]) => [key, `i.${column} = '${value}'`]));
}

const stores: Record<SpotCheckKind, DrawStore> = {
  desk_check: {
    table: 'desk_checks',
    dueColumn: 'review_due_at',
    insertItems: `INSERT INTO desk_check_items (desk_check_id, case_id, division_code, unit_id, reviewer_id)
       SELECT $1, * FROM unnest($2::text[], $3::text[], $4::text[], $5::text[]) ON CONFLICT DO NOTHING`,
    itemsJoin: 'desk_check_items i ON i.desk_check_id = d.id',
    instants: { reviewDueAt: 'review_due_at', completedAt: 'completed_at' },
    tally: {
      key: 'results',
      counts: {
        ...countsOf('result', { compliant: 'compliant', nonCompliant: 'non_compliant', missed: 'missed' }),
        ...countsOf('return_outcome', { returned: 'reopened' }),
      },
    },
  },
  re_inspection: {
    table: 're_inspections',
    insertItems: `INSERT INTO inspections (id, re_inspection_id, case_id, division_code, unit_id, inspector_id, status)
       SELECT $1 || ':' || t.case_id, $1, t.case_id, t.division_code, t.unit_id, t.inspector_id,
              CASE WHEN t.inspector_id IS NULL THEN 'unassigned' ELSE 'assigned' END
         FROM unnest($2::text[], $3::text[], $4::text[], $5::text[]) AS t (case_id, division_code, unit_id, inspector_id)
       ON CONFLICT DO NOTHING`,
    itemsJoin: 'inspections i ON i.re_inspection_id = d.id',
    instants: { createdAt: 'created_at' },
    tally: {
      key: 'findings',
      counts: {
        ...countsOf('finding', { rectified: 'rectified', notRectified: 'not_rectified', falseReport: 'false_report' }),
        ...countsOf('status', { overdue: 'overdue', unassigned: 'unassigned' }),
      },
    },
  },
};

// ---- The sampling frame ----

/** Cases whose (latest) closure fell in the period with one of the closures; merged cases excluded. */
export async function readSamplingFrame(db: Db, r: Pick<DrawRules, 'from' | 'to' | 'closures'>): Promise<ClosedCase[]> {
  const { rows } = await db.query<{ case_id: string; division_code: string; unit_id: string | null }>(
    `SELECT case_id, division_code, unit_id FROM cases
      WHERE closed_at >= $1 AND closed_at < $2 AND closure = ANY($3) AND merged_into IS NULL
      ORDER BY case_id`,
    [iso(r.from), iso(r.to), r.closures],
  );
  return rows.map((x) => ({ id: x.case_id, divisionCode: x.division_code, unitId: x.unit_id }));
}

/** Everyone who acted on each case (its event actors): they may not check it. */
export async function readHandlers(db: Db, caseIds: string[]): Promise<Map<string, string[]>> {
  const { rows } = await db.query<{ case_id: string; actors: string[] }>(
    `SELECT case_id, array_agg(DISTINCT actor_id) AS actors FROM case_events WHERE case_id = ANY($1) GROUP BY case_id`,
    [caseIds],
  );
  return new Map(rows.map((x) => [x.case_id, x.actors]));
}

// ---- The draw ----

/** What every drawn case records, in both kinds' item tables: the case, its division and its handling unit. */
export function drawnCaseOf(r: { case_id: string; division_code: string; unit_id: string | null }) {
  return { caseId: r.case_id, divisionCode: r.division_code, unitId: r.unit_id };
}

export interface NewDraw {
  rules: DrawRules;
  frame: FrameCase[];
  /** The sample, in the order of its ids. */
  drawn: ClosedCase[];
  /** Who checks each drawn case (by case id); null when no one may. */
  checkers: Record<string, string | null>;
  reviewDueAt?: number;
}

/** Store a draw with its frame and its drawn cases, in the caller's transaction; false when one was stored meanwhile. */
export async function insertDraw(c: PoolClient, kind: SpotCheckKind, d: NewDraw): Promise<boolean> {
  const { table, dueColumn, insertItems } = stores[kind];
  const r = d.rules;
  const frame = JSON.stringify(d.frame.map((x) => ({ id: x.id, divisionCode: x.divisionCode })));
  const ids = d.drawn.map((x) => x.id);
  const head = [r.id, iso(r.from), iso(r.to), r.seed, r.share, r.minPerDivision, r.closures, r.policyVersion, frame, ids, r.workflowId];
  const due = dueColumn ? [iso(d.reviewDueAt)] : [];
  const inserted = await c.query(
    `INSERT INTO ${table} (id, period_from, period_to, seed, share, min_per_division, closures, policy_version,
       population, drawn, workflow_id${dueColumn ? `, ${dueColumn}` : ''})
     VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11${dueColumn ? ',$12' : ''}) ON CONFLICT (id) DO NOTHING`,
    [...head, ...due],
  );
  if (!inserted.rowCount) return false;
  const column = <K extends keyof ClosedCase>(k: K) => d.drawn.map((x) => x[k]);
  await c.query(insertItems, [r.id, ids, column('divisionCode'), column('unitId'), d.drawn.map((x) => d.checkers[x.id])]);
  return true;
}

export interface DrawHeadRecord {
  seed: string;
  /** Cases in the sampling frame. */
  population: number;
  /** A desk check's review deadline, epoch ms. */
  dueAt?: number;
}

/** The seed and frame size of a stored draw (without its frame), or undefined when the period is not drawn yet. */
export async function readDrawHead(db: Db, kind: SpotCheckKind, id: string): Promise<DrawHeadRecord | undefined> {
  const { table, dueColumn } = stores[kind];
  const { rows } = await db.query(
    `SELECT seed, jsonb_array_length(population) AS n${dueColumn ? `, ${dueColumn} AS due_at` : ''} FROM ${table} WHERE id = $1`,
    [id],
  );
  const r = rows[0];
  return r && { seed: r.seed, population: r.n, ...(r.due_at && { dueAt: r.due_at.getTime() }) };
}

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
export async function getStoredDraw(pool: Pool, kind: SpotCheckKind, id: string): Promise<StoredDraw | undefined> {
  const { rows } = await pool.query(
    `SELECT id, seed, share, min_per_division, closures, policy_version, period_from, period_to, population, drawn, workflow_id, created_at
       FROM ${stores[kind].table} WHERE id = $1`,
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

/** The draws of a kind, newest first, each with its rules, instants and the counts of what its checks found. */
/** One page of a kind's draws, newest first, and how many there are. */
export async function listDraws(pool: Pool, kind: SpotCheckKind, page: Page) {
  const { table, itemsJoin, instants, tally } = stores[kind];
  const columns = Object.values(instants).map((c) => `d.${c}`);
  const counts = Object.entries(tally.counts).map(([key, condition]) => `count(i.*) FILTER (WHERE ${condition}) AS "${key}"`);
  const { rows } = await pool.query(
    `SELECT d.id, d.seed, d.share, d.min_per_division, d.policy_version, jsonb_array_length(d.population) AS population,
            cardinality(d.drawn) AS drawn, d.workflow_id, ${[...columns, ...counts].join(', ')}
       FROM ${table} d LEFT JOIN ${itemsJoin}
      GROUP BY d.id ORDER BY d.id DESC LIMIT $1 OFFSET $2`,
    [page.limit, page.offset],
  );
  const total = await pool.query<{ n: string }>(`SELECT count(*) AS n FROM ${table}`);
  const items = rows.map((r) => ({
    id: r.id as string,
    seed: r.seed as string,
    share: r.share as number,
    minPerDivision: r.min_per_division as number,
    policyVersion: r.policy_version as string,
    population: r.population as number,
    drawn: r.drawn as number,
    ...Object.fromEntries(Object.entries(instants).map(([key, column]) => [key, dateIso(r[column])])),
    workflowId: r.workflow_id as string,
    [tally.key]: Object.fromEntries(Object.keys(tally.counts).map((key) => [key, Number(r[key])])),
  }));
  return { total: Number(total.rows[0].n), items };
}

// ---- Who checks: the inspector pool ----

/** The active inspectors, who may be drawn as reviewers and inspectors. */
export async function readActiveInspectors(db: Db): Promise<Inspector[]> {
  const { rows } = await db.query<{ id: string; division_code: string }>(`SELECT id, division_code FROM inspectors WHERE active`);
  return rows.map((i) => ({ id: i.id, divisionCode: i.division_code }));
}

export async function listInspectors(pool: Pool) {
  const { rows } = await pool.query(`SELECT id, name, division_code, active FROM inspectors ORDER BY id`);
  return rows.map((r) => ({ id: r.id, name: r.name, divisionCode: r.division_code, active: r.active }));
}

export async function upsertInspector(pool: Pool, i: { id: string; name?: string; divisionCode: string; active: boolean }) {
  await pool.query(
    `INSERT INTO inspectors (id, name, division_code, active) VALUES ($1,$2,$3,$4)
     ON CONFLICT (id) DO UPDATE
       SET name = EXCLUDED.name, division_code = EXCLUDED.division_code, active = EXCLUDED.active, updated_at = now()`,
    [i.id, i.name ?? null, i.divisionCode, i.active],
  );
}

// ---- Findings, across draws ----

/** A drawn case with its result: a desk check's review or a re-inspection's finding. */
export interface SpotCheckFinding {
  kind: SpotCheckKind;
  /** The desk check's day or the re-inspection's quarter. */
  drawId: string;
  caseId: string;
  divisionCode: string;
  unitId: string | null;
  /** compliant, non_compliant, missed (desk checks); rectified, not_rectified, false_report (re-inspections). */
  result: string;
  finding: string | null;
  by: string | null;
  at: string | null;
  /** Whether the case was reopened for it. */
  caseReopened: boolean;
}

/** One page of the results of both kinds, newest first, and how many there are. */
export async function listFindings(
  pool: Pool,
  f: { limit: number; offset: number; kind?: SpotCheckKind; result?: string; divisionPrefixes?: string[] },
): Promise<{ total: number; items: SpotCheckFinding[] }> {
  const union = `(
      SELECT 'desk_check' AS kind, desk_check_id AS draw_id, case_id, division_code, unit_id, result, finding,
             reviewed_by AS by, reviewed_at AS at, return_outcome = 'reopened' AS reopened
        FROM desk_check_items WHERE result IS NOT NULL
      UNION ALL
      SELECT 're_inspection', re_inspection_id, case_id, division_code, unit_id, finding, note, found_by, found_at,
             reopen_outcome = 'reopened'
        FROM inspections WHERE finding IS NOT NULL
    ) r
    WHERE ($1::text IS NULL OR r.kind = $1) AND ($2::text IS NULL OR r.result = $2)
      AND ($3::text[] IS NULL OR r.division_code LIKE ANY($3))`;
  const filter = [f.kind ?? null, f.result ?? null, f.divisionPrefixes?.map((d) => `${d}%`) ?? null];
  const [{ rows }, count] = await Promise.all([
    pool.query(`SELECT * FROM ${union} ORDER BY r.at DESC NULLS LAST, r.case_id LIMIT $4 OFFSET $5`, [...filter, f.limit, f.offset]),
    pool.query<{ n: string }>(`SELECT count(*) AS n FROM ${union}`, filter),
  ]);
  return {
    total: Number(count.rows[0].n),
    items: rows.map((r) => ({
      kind: r.kind,
      drawId: r.draw_id,
      caseId: r.case_id,
      divisionCode: r.division_code,
      unitId: r.unit_id,
      result: r.result,
      finding: r.finding,
      by: r.by,
      at: dateIso(r.at),
      caseReopened: r.reopened === true,
    })),
  };
}
