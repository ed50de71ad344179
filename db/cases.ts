import type { Pool, PoolClient } from 'pg';
import type { CaseEvent, CaseView, Location, Reporter } from '../domain/case';
import { iso, isoOrNull } from '../domain/instant';
import type { Category } from '../domain/policy';
import { reporterOf, type ReporterCipher, type ReporterRow } from './reporters';

/**
 * The case projection (tables `cases` and `case_events`): what activities/projection.ts writes
 * from the workflow's events, and what the API and the activities read.
 */

type Queryable = Pick<PoolClient, 'query'>;

// ---- Writes (the projection; idempotent under retries) ----

/** The case row: the view after the events, and what the view leaves out. */
export interface CaseProjection {
  view: CaseView;
  description: string;
  location: Location;
  repliedAt?: number;
  /** The seq of the last event projected: the row only ever moves forward by it. */
  lastSeq: number;
}

/** Insert or move the case row forward; a projection older than the row (by seq) changes nothing. */
export async function saveCase(client: Queryable, p: CaseProjection): Promise<void> {
  const { view, location } = p;
  await client.query(
    `INSERT INTO cases (case_id, status, closure, category, urgency, channel, division_code, title, description,
       lat, lon, site_id, owner_id, unit_id, escalation_level, policy_version, received_at, accepted_at, replied_at,
       closed_at, deadline_kind, deadline_at, overdue, returns, reopen_count, merged_into, anonymous, reporter_consent,
       view, last_seq, address, updated_at)
     VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18,$19,$20,$21,$22,$23,$24,$25,$26,$27,$28,$29,$30,$31, now())
     ON CONFLICT (case_id) DO UPDATE SET
       status = EXCLUDED.status, closure = EXCLUDED.closure, description = EXCLUDED.description,
       lat = EXCLUDED.lat, lon = EXCLUDED.lon, site_id = EXCLUDED.site_id, address = EXCLUDED.address, unit_id = EXCLUDED.unit_id,
       escalation_level = EXCLUDED.escalation_level, accepted_at = EXCLUDED.accepted_at,
       replied_at = EXCLUDED.replied_at, closed_at = EXCLUDED.closed_at, deadline_kind = EXCLUDED.deadline_kind,
       deadline_at = EXCLUDED.deadline_at, overdue = EXCLUDED.overdue, returns = EXCLUDED.returns,
       reopen_count = EXCLUDED.reopen_count, merged_into = EXCLUDED.merged_into, anonymous = EXCLUDED.anonymous,
       reporter_consent = EXCLUDED.reporter_consent, view = EXCLUDED.view, last_seq = EXCLUDED.last_seq,
       updated_at = now()
     WHERE cases.last_seq < EXCLUDED.last_seq`,
    [
      view.caseId,
      view.status,
      view.closure ?? null,
      view.category,
      view.urgency,
      view.channel,
      view.divisionCode,
      view.title,
      p.description,
      location.lat ?? null,
      location.lon ?? null,
      location.siteId ?? null,
      view.owner.id,
      view.unitId ?? null,
      view.escalationLevel,
      view.policyVersion,
      view.receivedAt,
      view.acceptedAt ?? null,
      isoOrNull(p.repliedAt),
      view.closedAt ?? null,
      view.deadline?.kind ?? null,
      view.deadline?.dueAt ?? null,
      view.deadline?.overdue ?? false,
      view.returns,
      view.reopenCount,
      view.mergedInto ?? null,
      view.anonymous,
      view.reporterConsent,
      JSON.stringify(view),
      p.lastSeq,
      location.address ?? null,
    ],
  );
}

/** One event of the case's timeline, keyed by case and seq: a repeat is a no-op. */
export async function saveCaseEvent(client: Queryable, caseId: string, e: CaseEvent): Promise<void> {
  await client.query(
    `INSERT INTO case_events (case_id, seq, type, at, actor_id, actor_role, reason, deadline_at, data, actor_unit_id)
     VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10) ON CONFLICT (case_id, seq) DO NOTHING`,
    [
      caseId,
      e.seq,
      e.type,
      iso(e.at),
      e.actor.id,
      e.actor.role,
      e.reason ?? null,
      isoOrNull(e.deadlineAt),
      e.data ? JSON.stringify(e.data) : null,
      e.actor.unitId ?? null,
    ],
  );
}

/** Events the read model refused for good (table `projection_dead_letters`), with the error and the view they came with. */
export interface ProjectionDeadLetter {
  caseId: string;
  fromSeq: number;
  toSeq: number;
  /** JSON text of the events and of the view: escapes stay escapes, whatever the values hold. */
  eventsJson: string;
  viewJson: string;
  sqlState?: string;
  error: string;
}

/** Keep refused events; the same range again is a no-op. */
export async function saveProjectionDeadLetter(client: Queryable, d: ProjectionDeadLetter): Promise<void> {
  await client.query(
    `INSERT INTO projection_dead_letters (case_id, from_seq, to_seq, events, view, sql_state, error)
     VALUES ($1,$2,$3,$4,$5,$6,$7) ON CONFLICT (case_id, from_seq, to_seq) DO NOTHING`,
    [d.caseId, d.fromSeq, d.toSeq, d.eventsJson, d.viewJson, d.sqlState ?? null, d.error],
  );
}

/** A projection of the case up to `lastSeq` succeeded: its dead letters up to there are in the read model now. */
export async function markProjectionDeadLettersReplayed(client: Queryable, caseId: string, lastSeq: number): Promise<void> {
  await client.query(`UPDATE projection_dead_letters SET replayed_at = now() WHERE case_id = $1 AND replayed_at IS NULL AND to_seq <= $2`, [
    caseId,
    lastSeq,
  ]);
}

export interface ProjectionDeadLetterRow {
  fromSeq: number;
  toSeq: number;
  events: string;
  sqlState: string | null;
  error: string;
  replayedAt: string | null;
}

/** A case's dead letters, oldest first. */
export async function listProjectionDeadLetters(pool: Pool, caseId: string): Promise<ProjectionDeadLetterRow[]> {
  const { rows } = await pool.query(
    `SELECT from_seq, to_seq, events, sql_state, error, replayed_at FROM projection_dead_letters WHERE case_id = $1 ORDER BY from_seq, to_seq`,
    [caseId],
  );
  return rows.map((r) => ({
    fromSeq: r.from_seq,
    toSeq: r.to_seq,
    events: r.events,
    sqlState: r.sql_state,
    error: r.error,
    replayedAt: r.replayed_at?.toISOString() ?? null,
  }));
}

// ---- Reads ----

export interface CaseRecord {
  view: CaseView;
  unitId: string | null;
  divisionCode: string;
  reporterConsent: boolean;
  description: string;
  location: { lat: number | null; lon: number | null; siteId: string | null; address: string | null };
}

export async function getCase(pool: Pool, caseId: string): Promise<CaseRecord | undefined> {
  const { rows } = await pool.query(
    `SELECT view, unit_id, division_code, reporter_consent, description, lat, lon, site_id, address FROM cases WHERE case_id = $1`,
    [caseId],
  );
  const r = rows[0];
  if (!r) return undefined;
  return {
    view: r.view,
    unitId: r.unit_id,
    divisionCode: r.division_code,
    reporterConsent: r.reporter_consent,
    description: r.description,
    location: { lat: r.lat, lon: r.lon, siteId: r.site_id, address: r.address },
  };
}

export interface TimelineEntry {
  seq: number;
  type: string;
  at: string;
  actor: { id: string; role: string; unitId?: string };
  reason: string | null;
  deadlineAt: string | null;
  data: Record<string, unknown> | null;
}

export async function getTimeline(pool: Pool, caseId: string): Promise<TimelineEntry[]> {
  const { rows } = await pool.query(
    `SELECT seq, type, at, actor_id, actor_role, actor_unit_id, reason, deadline_at, data FROM case_events WHERE case_id = $1 ORDER BY seq`,
    [caseId],
  );
  return rows.map((r) => ({
    seq: r.seq,
    type: r.type,
    at: r.at.toISOString(),
    actor: { id: r.actor_id, role: r.actor_role, ...(r.actor_unit_id && { unitId: r.actor_unit_id }) },
    reason: r.reason,
    deadlineAt: r.deadline_at?.toISOString() ?? null,
    data: r.data,
  }));
}

/** The reporter's identity, decrypted. Call it only for a principal allowed to see it (api/auth.ts canSeeReporter). */
export async function getReporter(pool: Pool, keyRing: ReporterCipher, caseId: string): Promise<Reporter | undefined> {
  const { rows } = await pool.query<ReporterRow>(`SELECT key_id, reporter_enc, legacy_reporter FROM case_reporters WHERE case_id = $1`, [
    caseId,
  ]);
  return rows[0] && reporterOf(keyRing, caseId, rows[0]);
}

/** The orders of the case list: by receipt, by the running deadline (none last), by escalation level (then receipt). */
export const caseSorts = ['received', 'due', 'escalation'] as const;
export type CaseSort = (typeof caseSorts)[number];

/** Each order's key, most significant first; the case id last makes it total, for keyset pages. */
const SORT_KEYS: Record<CaseSort, Array<{ sql: string; type: string }>> = {
  received: [
    { sql: 'received_at', type: 'timestamptz' },
    { sql: 'case_id', type: 'text' },
  ],
  due: [
    { sql: "coalesce(deadline_at, 'infinity'::timestamptz)", type: 'timestamptz' },
    { sql: 'case_id', type: 'text' },
  ],
  escalation: [
    { sql: 'escalation_level', type: 'integer' },
    { sql: 'received_at', type: 'timestamptz' },
    { sql: 'case_id', type: 'text' },
  ],
};

const KEY_VALUE: Record<string, RegExp> = {
  timestamptz: /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?([+-]\d{2}:\d{2}|Z)|infinity)$/,
  integer: /^-?\d{1,9}$/,
  text: /^[\x21-\x7e]{1,100}$/,
};

/** Whether `key` is a sort key of `sort` as listCases gives it in `next` (a cursor from outside is checked before use). */
export function isSortKey(sort: CaseSort, key: string[]): boolean {
  const keys = SORT_KEYS[sort];
  return key.length === keys.length && keys.every((k, i) => KEY_VALUE[k.type].test(key[i]));
}

/**
 * The text free-text search reads: case number, title, description and address, one per line (the
 * expression of the two indexes of migration 011: pg_trgm, and the bigrams of Chinese text).
 */
const SEARCH_TEXT = `(case_id || E'\\n' || title || E'\\n' || description || E'\\n' || coalesce(address, ''))`;
/**
 * The same text, built so that it matches no index: the ILIKE that only checks rows another index
 * (or the order of the list) found. PostgreSQL would otherwise scan pg_trgm's index for a pattern
 * it can take no trigram from (Chinese under the C locale) and AND it with the bigram index.
 */
const SEARCH_TEXT_UNINDEXED = `(case_id || (E'\\n' || title || E'\\n' || description || E'\\n' || coalesce(address, '')))`;

/** Characters the bigram index holds (cjk_grams of migration 011): not ASCII, not a no-break or ideographic space. */
const hasIndexedGram = (q: string) => [...q].some((ch) => ch.codePointAt(0)! > 127 && ch !== '\u00a0' && ch !== '\u3000');

/**
 * A free-text search counts its cases exactly up to this many, and beyond it gives PostgreSQL's
 * estimate (`totalExact: false`), as search engines do: an exact count of a word in a fifth of a
 * million cases re-reads 200,000 texts (30 s in bench:report), a page of them reads a few hundred.
 */
export const FREE_TEXT_EXACT_TOTAL_UP_TO = 5_000;

/** Whose phone number, e-mail or name: the blind index digests to look for (runtime/reporter-index.ts searchDigests). */
export interface ReporterMatch {
  kind: 'phone' | 'email' | 'name';
  digests: Buffer[];
}

export interface CaseFilter {
  status?: string[];
  category?: string[];
  divisionPrefixes?: string[];
  unitId?: string;
  /** The clerk who owns the case. */
  ownerId?: string;
  overdue?: boolean;
  /** The running deadline falls before this instant. */
  dueBefore?: string;
  receivedFrom?: string;
  receivedTo?: string;
  q?: string;
  reporter?: ReporterMatch[];
  sort?: CaseSort;
  order?: 'asc' | 'desc';
  limit: number;
  /** Offset paging (`page`), or keyset paging after the key of the last row of the previous page (`after`). */
  offset?: number;
  after?: string[];
}

/** A case in a list: the view without its timeline (the detail has it). */
export type CaseListItem = Omit<CaseView, 'timeline'>;

export interface CasePage {
  /** How many cases the filter selects: exact, or for a free text matching many, PostgreSQL's estimate. */
  total: number;
  totalExact: boolean;
  items: CaseListItem[];
  /** The sort key of the last item when more rows follow: the next page continues after it (keyset). */
  next?: string[];
}

/** A WHERE clause under construction: its conditions and their parameters ($1, $2, ... in order). */
class Where {
  readonly conditions: string[] = [];
  readonly params: unknown[] = [];
  param(value: unknown): string {
    this.params.push(value);
    return `$${this.params.length}`;
  }
  add(sql: (p: string) => string, value: unknown): void {
    this.conditions.push(sql(this.param(value)));
  }
  get sql(): string {
    return this.conditions.length ? `WHERE ${this.conditions.join(' AND ')}` : '';
  }
}

/** The filter's conditions but the free text, which each plan of listCases writes its own way. */
function structuredFilter(f: CaseFilter): Where {
  const w = new Where();
  if (f.status?.length) w.add((p) => `status = ANY(${p})`, f.status);
  if (f.category?.length) w.add((p) => `category = ANY(${p})`, f.category);
  if (f.divisionPrefixes)
    w.add(
      (p) => `division_code LIKE ANY(${p})`,
      f.divisionPrefixes.map((d) => `${d}%`),
    );
  if (f.unitId) w.add((p) => `unit_id = ${p}`, f.unitId);
  if (f.ownerId) w.add((p) => `owner_id = ${p}`, f.ownerId);
  if (f.overdue !== undefined) w.add((p) => `(deadline_at IS NOT NULL AND deadline_at < now()) = ${p}`, f.overdue);
  if (f.dueBefore) w.add((p) => `deadline_at < ${p}`, f.dueBefore);
  if (f.receivedFrom) w.add((p) => `received_at >= ${p}`, f.receivedFrom);
  if (f.receivedTo) w.add((p) => `received_at < ${p}`, f.receivedTo);
  for (const r of f.reporter ?? []) {
    w.add((p) => `case_id IN (SELECT case_id FROM case_reporters WHERE ${r.kind}_hmac = ANY(${p}))`, r.digests);
  }
  return w;
}

const likePattern = (q: string) => `%${q.replace(/[%_\\]/g, '\\$&')}%`;

/**
 * The free text as the indexes find it: Chinese (anything outside ASCII) through the bigram index,
 * the ILIKE on the unindexed text deciding; ASCII through pg_trgm's index on the ILIKE itself.
 */
function addIndexedText(w: Where, q: string): void {
  if (hasIndexedGram(q)) {
    w.add((p) => `cjk_grams(${SEARCH_TEXT}) @> cjk_query_grams(${p})`, q);
    w.add((p) => `${SEARCH_TEXT_UNINDEXED} ILIKE ${p}`, likePattern(q));
  } else {
    w.add((p) => `${SEARCH_TEXT} ILIKE ${p}`, likePattern(q));
  }
}

/** Keyset paging: the rows after `f.after` in the order asked (its values become parameters of `w`). */
function afterKey(f: CaseFilter, w: Where): string {
  const keys = SORT_KEYS[f.sort ?? 'received'];
  const values = keys.map((k, i) => `${w.param(f.after![i])}::${k.type}`);
  return `(${keys.map((k) => k.sql).join(', ')}) ${(f.order ?? 'desc') === 'desc' ? '<' : '>'} (${values.join(', ')})`;
}

/** The page after the filter: keyset (`after`) or offset, in the order asked. */
function pageSql(f: CaseFilter, w: Where, from: string): string {
  const keys = SORT_KEYS[f.sort ?? 'received'];
  const dir = (f.order ?? 'desc') === 'desc' ? 'DESC' : 'ASC';
  const conditions = [...w.conditions];
  if (f.after) conditions.push(afterKey(f, w));
  return `SELECT view - 'timeline' AS view, ARRAY[${keys.map((k) => `to_json(${k.sql}) #>> '{}'`).join(', ')}] AS sort_key
            FROM ${from} ${conditions.length ? `WHERE ${conditions.join(' AND ')}` : ''}
           ORDER BY ${keys.map((k) => `${k.sql} ${dir}`).join(', ')}
           LIMIT ${f.limit + 1} OFFSET ${f.after ? 0 : (f.offset ?? 0)}`;
}

type PageRow = { view: CaseListItem; sort_key: string[] };

function pageOf(f: CaseFilter, rows: PageRow[], total: number, totalExact: boolean): CasePage {
  const page = rows.slice(0, f.limit);
  return {
    total,
    totalExact,
    items: page.map((r) => r.view),
    ...(rows.length > f.limit && { next: page[page.length - 1].sort_key }),
  };
}

/**
 * One page of cases: the total of the filter, the items in the order asked, and, when more rows
 * follow, the sort key of the last one (`next`), from which the next page continues (keyset).
 *
 * Free text takes one of two plans, chosen by PostgreSQL's estimate of the cases it matches (from
 * the statistics of the text index's expression: one query plan, no rows read):
 * - few (up to FREE_TEXT_EXACT_TOTAL_UP_TO, or more while reading them all costs less than walking
 *   the list's order to a page of them): the text index finds them all, counted exactly, then sorted;
 * - many: the list is walked in its order through its index, each row's text checked, until the
 *   page is full (a word in a fifth of the cases fills a page of 50 after about 250 rows); the
 *   total is the estimate. A walk that finds too few within the rows the estimate promised (the
 *   estimate was wrong) stops there and the first plan answers instead.
 */
export async function listCases(pool: Pool, f: CaseFilter): Promise<CasePage> {
  if (f.q) {
    const estimate = await estimateRows(pool, f);
    const wanted = (f.after ? 0 : (f.offset ?? 0)) + f.limit + 1;
    // A table never analysed has no row count (reltuples -1): the estimate is then the least it holds.
    const tableRows = Math.max((await tableEstimate(pool)).n, estimate);
    if (estimate > Math.max(FREE_TEXT_EXACT_TOTAL_UP_TO, Math.sqrt(tableRows * wanted))) {
      const page = await walkInOrder(pool, f, Math.ceil((4 * wanted * tableRows) / estimate));
      if (page) return pageOf(f, page, estimate, false);
    }
  }
  const w = structuredFilter(f);
  if (f.q) addIndexedText(w, f.q);
  // The count reads the filter alone: take it before the page adds its keyset parameters to `w`.
  const count = { sql: w.sql, params: [...w.params] };
  const [total, rows] = await Promise.all([
    pool.query<{ n: string }>(`SELECT count(*) AS n FROM cases ${count.sql}`, count.params),
    pool.query<PageRow>(pageSql(f, w, 'cases'), w.params),
  ]);
  return pageOf(f, rows.rows, Number(total.rows[0].n), true);
}

/** PostgreSQL's estimate of the cases the whole filter selects, its free text through pg_trgm's expression statistics. */
async function estimateRows(pool: Pool, f: CaseFilter): Promise<number> {
  const w = structuredFilter(f);
  w.add((p) => `${SEARCH_TEXT} ILIKE ${p}`, likePattern(f.q!));
  const { rows } = await pool.query<{ 'QUERY PLAN': Array<{ Plan: { 'Plan Rows': number } }> }>(
    `EXPLAIN (FORMAT JSON) SELECT 1 FROM cases ${w.sql}`,
    w.params,
  );
  return rows[0]['QUERY PLAN'][0].Plan['Plan Rows'];
}

/** The number of cases as the planner knows it (pg_class.reltuples: no scan). */
async function tableEstimate(pool: Pool): Promise<{ n: number }> {
  const { rows } = await pool.query<{ n: number }>(
    `SELECT greatest(reltuples, 0)::float8 AS n FROM pg_class WHERE oid = 'cases'::regclass`,
  );
  return { n: rows[0]?.n ?? 0 };
}

/**
 * The page of a free text matching many cases: the rows in the list's order, at most `budget` of
 * them read, each row's text checked. Undefined when the budget ran out before the page was full.
 */
async function walkInOrder(pool: Pool, f: CaseFilter, budget: number): Promise<PageRow[] | undefined> {
  const inner = structuredFilter(f);
  const keys = SORT_KEYS[f.sort ?? 'received'];
  const dir = (f.order ?? 'desc') === 'desc' ? 'DESC' : 'ASC';
  if (f.after) inner.conditions.push(afterKey(f, inner));
  const window = `(SELECT * FROM cases ${inner.sql} ORDER BY ${keys.map((k) => `${k.sql} ${dir}`).join(', ')} LIMIT ${budget}) AS cases`;
  const outer = new Where();
  outer.params.push(...inner.params);
  outer.add((p) => `${SEARCH_TEXT_UNINDEXED} ILIKE ${p}`, likePattern(f.q!));
  const { rows } = await pool.query<PageRow>(pageSql({ ...f, after: undefined }, outer, window), outer.params);
  const wanted = f.limit + 1 + (f.after ? 0 : (f.offset ?? 0));
  if (rows.length + (f.after ? 0 : (f.offset ?? 0)) >= wanted) return rows;
  // Short: the walk either reached the end of the list (the last page, complete) or ran out of
  // budget first. Counting the rows it could walk (their order's index, no text read) tells which.
  const left = await pool.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM (SELECT 1 FROM cases ${inner.sql} ORDER BY ${keys.map((k) => `${k.sql} ${dir}`).join(', ')} LIMIT ${budget + 1}) AS walked`,
    inner.params,
  );
  return left.rows[0].n <= budget ? rows : undefined;
}

/** Where a new complaint is: other cases of its category near it may be the same pollution. */
export interface Nearness {
  /** The new case, never its own match. */
  caseId: string;
  category: Category;
  location: Location;
  radiusMeters: number;
}

// Same site, or within the radius (haversine on a 6,371 km sphere; a bounding box first, for the index).
export const NEAR = `(
  ($2::text IS NOT NULL AND site_id = $2)
  OR ($3::float8 IS NOT NULL AND lat IS NOT NULL
      AND lat BETWEEN $3 - $5 / 111320.0 AND $3 + $5 / 111320.0
      AND 2 * 6371000 * asin(sqrt(
            power(sin(radians(lat - $3) / 2), 2)
            + cos(radians($3)) * cos(radians(lat)) * power(sin(radians(lon - $4) / 2), 2))) <= $5)
)`;

export const nearParams = (n: Nearness) => {
  const { siteId, lat, lon } = n.location;
  return [n.category, siteId ?? null, lat ?? null, lon ?? null, n.radiusMeters, n.caseId];
};

/** The case near that was closed last, since `since` (epoch ms), and not merged into another. */
export async function lastClosedCaseNear(db: Pool | PoolClient, n: Nearness, since: number): Promise<string | undefined> {
  const { rows } = await db.query<{ case_id: string }>(
    `SELECT case_id FROM cases
      WHERE category = $1 AND case_id <> $6 AND merged_into IS NULL
        AND status = 'closed' AND closed_at >= $7 AND ${NEAR}
      ORDER BY closed_at DESC LIMIT 1`,
    [...nearParams(n), iso(since)],
  );
  return rows[0]?.case_id;
}

/** One page of the read model in case-id order, after `after` (keyset paging): what `npm run ops:check` compares with Temporal. */
export async function listCaseViewsAfter(pool: Pool, after: string | undefined, limit: number): Promise<CaseView[]> {
  const { rows } = await pool.query<{ view: CaseView }>(
    // Every case id sorts after '': the first page uses the primary key's index like the others.
    `SELECT view FROM cases WHERE case_id > $1 ORDER BY case_id LIMIT $2`,
    [after ?? '', limit],
  );
  return rows.map((r) => r.view);
}
