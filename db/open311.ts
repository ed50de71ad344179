import type { Pool } from 'pg';

/** Queries behind the Open311 routes: batch tokens, and public reads of the case projection. */

export interface NewToken {
  token: string;
  client: string;
  idempotencyKey?: string;
  requestHash?: string;
  address?: string;
  mediaUrl?: string;
}

export interface ClaimedToken {
  token: string;
  requestHash: string | null;
}

/**
 * Record a request's token. With an idempotency key, the first post with that key (per client)
 * claims the row and every repeat gets the same token back, even when two arrive at once.
 */
export async function claimToken(pool: Pool, t: NewToken): Promise<ClaimedToken> {
  const { rows } = await pool.query<{ token: string; request_hash: string | null }>(
    `INSERT INTO open311_tokens (token, client, idempotency_key, request_hash, address, media_url)
     VALUES ($1, $2, $3, $4, $5, $6)
     ON CONFLICT (client, idempotency_key) DO UPDATE SET client = EXCLUDED.client
     RETURNING token, request_hash`,
    [t.token, t.client, t.idempotencyKey ?? null, t.requestHash ?? null, t.address ?? null, t.mediaUrl ?? null],
  );
  return { token: rows[0].token, requestHash: rows[0].request_hash };
}

/** The case a token's request was registered as (idempotent: the same case on every retry). */
export async function setTokenCase(pool: Pool, token: string, caseId: string): Promise<void> {
  await pool.query(`UPDATE open311_tokens SET case_id = $2 WHERE token = $1`, [token, caseId]);
}

/**
 * A token and, once its case is registered and in the read model, the case id; undefined for an
 * unknown token.
 */
export async function resolveToken(pool: Pool, token: string): Promise<{ token: string; caseId: string | null } | undefined> {
  const { rows } = await pool.query<{ token: string; case_id: string | null }>(
    `SELECT t.token, c.case_id FROM open311_tokens t LEFT JOIN cases c ON c.case_id = t.case_id WHERE t.token = $1`,
    [token],
  );
  return rows[0] && { token: rows[0].token, caseId: rows[0].case_id };
}

/** The columns of a case that Open311 reads may show. Never the reporter. */
export interface PublicCaseRow {
  caseId: string;
  status: string;
  closure: string | null;
  category: string;
  channel: string;
  description: string;
  unitId: string | null;
  receivedAt: Date;
  updatedAt: Date;
  deadlineAt: Date | null;
  lat: number | null;
  lon: number | null;
  siteId: string | null;
  mergedInto: string | null;
  /** From the Open311 request that filed it, if one did. */
  address: string | null;
  mediaUrl: string | null;
}

export interface PublicCaseFilter {
  /** When given, the other filters (but the division) are ignored. */
  ids?: string[];
  categories?: string[];
  statuses?: string[];
  /** requested_datetime in [receivedFrom, receivedTo], both included. */
  receivedFrom?: Date;
  receivedTo?: Date;
  /** Division code prefix ("37" a province, "3701" a city). */
  divisionPrefix?: string;
  limit: number;
  offset: number;
}

export async function findPublicCases(pool: Pool, f: PublicCaseFilter): Promise<PublicCaseRow[]> {
  const where: string[] = [];
  const params: unknown[] = [];
  const add = (sql: (p: string) => string, value: unknown) => {
    params.push(value);
    where.push(sql(`$${params.length}`));
  };
  if (f.divisionPrefix) add((p) => `c.division_code LIKE ${p}`, `${f.divisionPrefix}%`);
  if (f.ids) {
    add((p) => `c.case_id = ANY(${p})`, f.ids);
  } else {
    if (f.categories?.length) add((p) => `c.category = ANY(${p})`, f.categories);
    if (f.statuses?.length) add((p) => `c.status = ANY(${p})`, f.statuses);
    if (f.receivedFrom) add((p) => `c.received_at >= ${p}`, f.receivedFrom);
    if (f.receivedTo) add((p) => `c.received_at <= ${p}`, f.receivedTo);
  }
  params.push(f.limit, f.offset);
  const { rows } = await pool.query(
    `SELECT c.case_id, c.status, c.closure, c.category, c.channel, c.description, c.unit_id, c.received_at, c.updated_at,
            c.deadline_at, c.lat, c.lon, c.site_id, c.merged_into, t.address, t.media_url
       FROM cases c LEFT JOIN open311_tokens t ON t.case_id = c.case_id
       ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
      ORDER BY c.received_at DESC, c.case_id DESC
      LIMIT $${params.length - 1} OFFSET $${params.length}`,
    params,
  );
  return rows.map((r) => ({
    caseId: r.case_id,
    status: r.status,
    closure: r.closure,
    category: r.category,
    channel: r.channel,
    description: r.description,
    unitId: r.unit_id,
    receivedAt: r.received_at,
    updatedAt: r.updated_at,
    deadlineAt: r.deadline_at,
    lat: r.lat,
    lon: r.lon,
    siteId: r.site_id,
    mergedInto: r.merged_into,
    address: r.address,
    mediaUrl: r.media_url,
  }));
}

export interface CaseEventRow {
  caseId: string;
  seq: number;
  type: string;
  at: Date;
  data: Record<string, unknown> | null;
}

/** Events of the given types in [from, to] (both included), oldest first. */
export async function findEvents(
  pool: Pool,
  f: { types: string[]; from: Date; to: Date; divisionPrefix?: string; limit: number; offset: number },
): Promise<CaseEventRow[]> {
  const params: unknown[] = [f.types, f.from, f.to, f.limit, f.offset];
  let division = '';
  if (f.divisionPrefix) {
    params.push(`${f.divisionPrefix}%`);
    division = `AND EXISTS (SELECT 1 FROM cases c WHERE c.case_id = e.case_id AND c.division_code LIKE $6)`;
  }
  const { rows } = await pool.query(
    `SELECT e.case_id, e.seq, e.type, e.at, e.data FROM case_events e
      WHERE e.type = ANY($1) AND e.at >= $2 AND e.at <= $3 ${division}
      ORDER BY e.at, e.case_id, e.seq
      LIMIT $4 OFFSET $5`,
    params,
  );
  return rows.map((r) => ({ caseId: r.case_id, seq: r.seq, type: r.type, at: r.at, data: r.data }));
}
