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

/** Characters the bigram index holds (cjk_grams of migration 011): not ASCII, not a no-break or ideographic space. */
const hasIndexedGram = (q: string) => [...q].some((ch) => ch.codePointAt(0)! > 127 && ch !== '\u00a0' && ch !== '\u3000');

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

/**
 * One page of cases: the total of the filter, the items in the order asked, and, when more rows
 * follow, the sort key of the last one (`next`), from which the next page continues (keyset).
 */
export async function listCases(pool: Pool, f: CaseFilter): Promise<{ total: number; items: CaseListItem[]; next?: string[] }> {
  const where: string[] = [];
  const params: unknown[] = [];
  const param = (value: unknown) => {
    params.push(value);
    return `$${params.length}`;
  };
  const add = (sql: (p: string) => string, value: unknown) => where.push(sql(param(value)));
  if (f.status?.length) add((p) => `status = ANY(${p})`, f.status);
  if (f.category?.length) add((p) => `category = ANY(${p})`, f.category);
  if (f.divisionPrefixes)
    add(
      (p) => `division_code LIKE ANY(${p})`,
      f.divisionPrefixes.map((d) => `${d}%`),
    );
  if (f.unitId) add((p) => `unit_id = ${p}`, f.unitId);
  if (f.ownerId) add((p) => `owner_id = ${p}`, f.ownerId);
  if (f.overdue !== undefined) add((p) => `(deadline_at IS NOT NULL AND deadline_at < now()) = ${p}`, f.overdue);
  if (f.dueBefore) add((p) => `deadline_at < ${p}`, f.dueBefore);
  if (f.receivedFrom) add((p) => `received_at >= ${p}`, f.receivedFrom);
  if (f.receivedTo) add((p) => `received_at < ${p}`, f.receivedTo);
  if (f.q) {
    // The ILIKE decides (pg_trgm's index serves it from three letters on); for Chinese text the
    // bigram index narrows the rows first, whatever the database's locale, from one character on.
    add((p) => `${SEARCH_TEXT} ILIKE ${p}`, `%${f.q.replace(/[%_\\]/g, '\\$&')}%`);
    if (hasIndexedGram(f.q)) add((p) => `cjk_grams(${SEARCH_TEXT}) @> cjk_query_grams(${p})`, f.q);
  }
  for (const r of f.reporter ?? []) {
    add((p) => `case_id IN (SELECT case_id FROM case_reporters WHERE ${r.kind}_hmac = ANY(${p}))`, r.digests);
  }
  const filterParams = [...params];
  const clause = where.length ? `WHERE ${where.join(' AND ')}` : '';
  const keys = SORT_KEYS[f.sort ?? 'received'];
  const dir = (f.order ?? 'desc') === 'desc' ? 'DESC' : 'ASC';
  const pageWhere = [...where];
  if (f.after) {
    const values = keys.map((k, i) => `${param(f.after![i])}::${k.type}`);
    pageWhere.push(`(${keys.map((k) => k.sql).join(', ')}) ${dir === 'DESC' ? '<' : '>'} (${values.join(', ')})`);
  }
  const pageClause = pageWhere.length ? `WHERE ${pageWhere.join(' AND ')}` : '';
  const total = await pool.query<{ n: string }>(`SELECT count(*) AS n FROM cases ${clause}`, filterParams);
  const rows = await pool.query<{ view: CaseListItem; sort_key: string[] }>(
    `SELECT view - 'timeline' AS view, ARRAY[${keys.map((k) => `to_json(${k.sql}) #>> '{}'`).join(', ')}] AS sort_key
       FROM cases ${pageClause}
      ORDER BY ${keys.map((k) => `${k.sql} ${dir}`).join(', ')}
      LIMIT ${f.limit + 1} OFFSET ${f.after ? 0 : (f.offset ?? 0)}`,
    params,
  );
  const page = rows.rows.slice(0, f.limit);
  const more = rows.rows.length > f.limit;
  return {
    total: Number(total.rows[0].n),
    items: page.map((r) => r.view),
    ...(more && { next: page[page.length - 1].sort_key }),
  };
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
