import type { Pool, QueryResultRow } from 'pg';
import type { CampaignCriteria } from '../domain/governance';
import { dateIso } from '../domain/instant';

/**
 * Campaigns (`campaigns`, one row per campaign: definition, status, counts, result) and the cases
 * they tagged (`campaign_cases`). Every write is keyed, so a retried activity changes nothing twice.
 */

const FINISHED_CASE = `('closed', 'archived')`;

export type CampaignRowStatus = 'running' | 'paused' | 'finished';

export interface CampaignRecord {
  campaignId: string;
  name: string;
  criteria: CampaignCriteria;
  period: { from: number; to: number };
  status: CampaignRowStatus;
  startedBy: string;
  startedAt: number;
  tagged: number;
  tightened: number;
  result?: unknown;
}

/** Upsert the campaign's row (its definition, status, counts and, at the end, its result). */
export async function saveCampaign(pool: Pool, r: CampaignRecord): Promise<void> {
  await pool.query(
    `INSERT INTO campaigns (campaign_id, name, criteria, period_from, period_to, status, started_by, started_at, tagged, tightened, result, finished_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, CASE WHEN $6 = 'finished' THEN now() END)
     ON CONFLICT (campaign_id) DO UPDATE SET status = EXCLUDED.status, tagged = EXCLUDED.tagged, tightened = EXCLUDED.tightened,
       result = COALESCE(EXCLUDED.result, campaigns.result), finished_at = COALESCE(campaigns.finished_at, EXCLUDED.finished_at),
       updated_at = now()`,
    [
      r.campaignId,
      r.name,
      JSON.stringify(r.criteria),
      new Date(r.period.from),
      new Date(r.period.to),
      r.status,
      r.startedBy,
      new Date(r.startedAt),
      r.tagged,
      r.tightened,
      r.result === undefined ? null : JSON.stringify(r.result),
    ],
  );
}

/** The SQL condition "case k matches the criteria", with its parameters numbered from `first`. */
function matching(criteria: CampaignCriteria, first: number): { sql: string; params: unknown[] } {
  const patterns = criteria.keywords.map((k) => `%${k.replace(/[%_\\]/g, '\\$&')}%`);
  return {
    sql: `k.category = ANY($${first}) AND k.division_code LIKE ANY($${first + 1})
          AND (cardinality($${first + 2}::text[]) = 0 OR k.title ILIKE ANY($${first + 2}) OR k.description ILIKE ANY($${first + 2}))`,
    params: [criteria.categories, criteria.divisions.map((d) => `${d}%`), patterns],
  };
}

/**
 * Tag up to `batchSize` open cases that match the campaign and are not tagged yet ('open' if they
 * were open when it started, 'new' if received since); returns how many this batch tagged.
 */
export async function tagMatchingCases(
  pool: Pool,
  input: { campaignId: string; criteria: CampaignCriteria; startedAt: number; now: number; batchSize: number },
): Promise<number> {
  const m = matching(input.criteria, 5);
  const { rowCount } = await pool.query(
    `INSERT INTO campaign_cases (campaign_id, case_id, matched_as, tagged_at)
     SELECT $1, k.case_id, CASE WHEN k.received_at < $2 THEN 'open' ELSE 'new' END, $3
       FROM cases k
      WHERE k.status NOT IN ${FINISHED_CASE} AND ${m.sql}
        AND NOT EXISTS (SELECT 1 FROM campaign_cases x WHERE x.campaign_id = $1 AND x.case_id = k.case_id)
      ORDER BY k.received_at, k.case_id
      LIMIT $4
     ON CONFLICT DO NOTHING`,
    [input.campaignId, new Date(input.startedAt), new Date(input.now), input.batchSize, ...m.params],
  );
  return rowCount ?? 0;
}

/** How many cases the campaign has tagged in all. */
export async function countTaggedCases(pool: Pool, campaignId: string): Promise<number> {
  const { rows } = await pool.query<{ n: string }>(`SELECT count(*) AS n FROM campaign_cases WHERE campaign_id = $1`, [campaignId]);
  return Number(rows[0].n);
}

/** Tagged cases being handled (a handle or rework deadline runs) that have not had the tightening `key` yet. */
export async function casesToTighten(pool: Pool, campaignId: string, key: string, limit: number): Promise<string[]> {
  const { rows } = await pool.query<{ case_id: string }>(
    `SELECT x.case_id FROM campaign_cases x JOIN cases k ON k.case_id = x.case_id
      WHERE x.campaign_id = $1 AND x.tightened_key IS DISTINCT FROM $2
        AND k.status = 'handling' AND k.deadline_kind IN ('handle', 'rework')
      ORDER BY x.case_id LIMIT $3`,
    [campaignId, key, limit],
  );
  return rows.map((r) => r.case_id);
}

export async function markCaseTightened(pool: Pool, campaignId: string, caseId: string, key: string): Promise<void> {
  await pool.query(`UPDATE campaign_cases SET tightened_key = $3, tightened_at = now() WHERE campaign_id = $1 AND case_id = $2`, [
    campaignId,
    caseId,
    key,
  ]);
}

/** How many tagged cases have had a tightening in all. */
export async function countTightenedCases(pool: Pool, campaignId: string): Promise<number> {
  const { rows } = await pool.query<{ n: string }>(
    `SELECT count(*) AS n FROM campaign_cases WHERE campaign_id = $1 AND tightened_key IS NOT NULL`,
    [campaignId],
  );
  return Number(rows[0].n);
}

export interface VolumeComparison {
  before: { from: number; to: number; count: number };
  during: { from: number; to: number; count: number };
}

/** How many matching complaints were received in each window (every complaint counts, whatever became of it). */
export async function compareComplaintVolume(
  pool: Pool,
  input: { criteria: CampaignCriteria; before: { from: number; to: number }; during: { from: number; to: number } },
): Promise<VolumeComparison> {
  const m = matching(input.criteria, 5);
  const { rows } = await pool.query<{ before: string; during: string }>(
    `SELECT count(*) FILTER (WHERE k.received_at >= $1 AND k.received_at < $2) AS before,
            count(*) FILTER (WHERE k.received_at >= $3 AND k.received_at < $4) AS during
       FROM cases k WHERE ${m.sql}`,
    [new Date(input.before.from), new Date(input.before.to), new Date(input.during.from), new Date(input.during.to), ...m.params],
  );
  return {
    before: { ...input.before, count: Number(rows[0].before) },
    during: { ...input.during, count: Number(rows[0].during) },
  };
}

// ---- Reads for the API ----

export interface CampaignRow {
  campaignId: string;
  name: string;
  status: CampaignRowStatus;
  criteria: CampaignCriteria;
  period: { from: string | null; to: string | null };
  tagged: number;
  tightened: number;
  startedAt: string | null;
  finishedAt: string | null;
  /** The before/after comparison, once the campaign has finished. */
  result: unknown;
}

function campaignRow(r: QueryResultRow): CampaignRow {
  return {
    campaignId: r.campaign_id,
    name: r.name,
    status: r.status,
    criteria: r.criteria,
    period: { from: dateIso(r.period_from), to: dateIso(r.period_to) },
    tagged: r.tagged,
    tightened: r.tightened,
    startedAt: dateIso(r.started_at),
    finishedAt: dateIso(r.finished_at),
    result: r.result,
  };
}

export async function getCampaign(pool: Pool, campaignId: string): Promise<CampaignRow | undefined> {
  const { rows } = await pool.query(`SELECT * FROM campaigns WHERE campaign_id = $1`, [campaignId]);
  return rows[0] && campaignRow(rows[0]);
}

/** Every campaign, newest first. */
export async function listCampaigns(pool: Pool): Promise<CampaignRow[]> {
  const { rows } = await pool.query(`SELECT * FROM campaigns ORDER BY started_at DESC, campaign_id`);
  return rows.map(campaignRow);
}

/** The campaign's tagged cases: how many were open at its start, how many new, how many are closed. */
export async function countCampaignCases(pool: Pool, campaignId: string): Promise<{ open: number; new: number; closed: number }> {
  const { rows } = await pool.query<{ open: string; new: string; closed: string }>(
    `SELECT count(*) FILTER (WHERE x.matched_as = 'open') AS open, count(*) FILTER (WHERE x.matched_as = 'new') AS new,
            count(*) FILTER (WHERE k.status IN ${FINISHED_CASE}) AS closed
       FROM campaign_cases x JOIN cases k ON k.case_id = x.case_id WHERE x.campaign_id = $1`,
    [campaignId],
  );
  return { open: Number(rows[0].open), new: Number(rows[0].new), closed: Number(rows[0].closed) };
}

/** A case a campaign tagged, with where it stands now. */
export interface CampaignMember {
  caseId: string;
  matchedAs: 'open' | 'new';
  taggedAt: string;
  tightenedAt: string | null;
  status: string | null;
  title: string | null;
  divisionCode: string | null;
  unitId: string | null;
  deadlineAt: string | null;
}

/**
 * One page of the cases a campaign tagged, in the order it tagged them, and how many there are;
 * `divisionPrefixes`: only those in these divisions (a supervisor's).
 */
export async function listCampaignMembers(
  pool: Pool,
  campaignId: string,
  f: { limit: number; offset: number; divisionPrefixes?: string[] },
): Promise<{ total: number; items: CampaignMember[] }> {
  const from = `FROM campaign_cases m LEFT JOIN cases c ON c.case_id = m.case_id
      WHERE m.campaign_id = $1 AND ($2::text[] IS NULL OR c.division_code LIKE ANY($2))`;
  const scope = f.divisionPrefixes?.map((d) => `${d}%`) ?? null;
  const [{ rows }, count] = await Promise.all([
    pool.query(
      `SELECT m.case_id, m.matched_as, m.tagged_at, m.tightened_at, c.status, c.title, c.division_code, c.unit_id, c.deadline_at
         ${from} ORDER BY m.tagged_at, m.case_id LIMIT $3 OFFSET $4`,
      [campaignId, scope, f.limit, f.offset],
    ),
    pool.query<{ n: string }>(`SELECT count(*) AS n ${from}`, [campaignId, scope]),
  ]);
  return {
    total: Number(count.rows[0].n),
    items: rows.map((r) => ({
      caseId: r.case_id,
      matchedAs: r.matched_as,
      taggedAt: r.tagged_at.toISOString(),
      tightenedAt: dateIso(r.tightened_at),
      status: r.status,
      title: r.title,
      divisionCode: r.division_code,
      unitId: r.unit_id,
      deadlineAt: dateIso(r.deadline_at),
    })),
  };
}
