import type { PoolClient } from 'pg';
import { iso } from '../domain/instant';
import { NEAR, nearParams, type Nearness } from './cases';

/**
 * The registration side of duplicate detection (db/migrations/008_intake_sites.sql): each intake
 * decision, recorded under the advisory locks of its site (domain/intake-sites.ts) in the
 * transaction that made it. Callers run these in one `inTransaction`.
 */

/** The first key of every intake lock (the second is the hash of the site or cell key). */
const INTAKE_LOCK_SPACE = 12_369;

export type IntakeRelation = { kind: 'duplicate' | 'recurrence'; caseId: string };

/** Wait for the locks of `keys`, in one fixed order (no deadlock), until the transaction ends. */
export async function lockIntakeSites(client: PoolClient, keys: string[]): Promise<void> {
  if (keys.length === 0) return;
  await client.query(
    `SELECT pg_advisory_xact_lock($1, h) FROM (SELECT DISTINCT hashtext(k) AS h FROM unnest($2::text[]) AS k ORDER BY h) AS ordered`,
    [INTAKE_LOCK_SPACE, keys],
  );
}

/** The decision already recorded for `caseId` (a retried activity), or undefined: null when it was handled on its own. */
export async function recordedIntakeDecision(client: PoolClient, caseId: string): Promise<IntakeRelation | null | undefined> {
  const { rows } = await client.query<{ related_kind: IntakeRelation['kind'] | null; related_case_id: string | null }>(
    `SELECT related_kind, related_case_id FROM intake_sites WHERE case_id = $1`,
    [caseId],
  );
  if (rows.length === 0) return undefined;
  const [r] = rows;
  return r.related_kind && r.related_case_id ? { kind: r.related_kind, caseId: r.related_case_id } : null;
}

/**
 * The earliest primary near, registered since `since` (epoch ms) and still open: from the decisions
 * recorded here (which the read model may not show yet), and from the read model for cases decided
 * before this table existed. A case whose intake is still under way (status `registered`) or that
 * was itself linked to another is never a primary.
 */
export async function firstOpenPrimaryNear(client: PoolClient, n: Nearness, since: number): Promise<string | undefined> {
  const { rows } = await client.query<{ case_id: string }>(
    `SELECT case_id FROM (
        SELECT i.case_id, i.received_at FROM intake_sites i
         WHERE category = $1 AND case_id <> $6 AND related_case_id IS NULL AND received_at >= $7 AND ${NEAR}
           AND NOT EXISTS (SELECT 1 FROM cases c WHERE c.case_id = i.case_id
                             AND (c.status IN ('closed', 'archived') OR c.merged_into IS NOT NULL))
        UNION ALL
        SELECT c.case_id, c.received_at FROM cases c
         WHERE category = $1 AND case_id <> $6 AND merged_into IS NULL
           AND status NOT IN ('registered', 'closed', 'archived') AND received_at >= $7 AND ${NEAR}
           AND NOT EXISTS (SELECT 1 FROM intake_sites i WHERE i.case_id = c.case_id AND i.related_case_id IS NOT NULL)
      ) AS candidates
      ORDER BY received_at, case_id LIMIT 1`,
    [...nearParams(n), iso(since)],
  );
  return rows[0]?.case_id;
}

/** Record the intake decision of `n.caseId` (null: handled on its own, a primary for those that follow). */
export async function recordIntakeDecision(
  client: PoolClient,
  n: Nearness,
  receivedAt: number,
  related: IntakeRelation | null,
): Promise<void> {
  const { siteId, lat, lon } = n.location;
  await client.query(
    `INSERT INTO intake_sites (case_id, category, site_id, lat, lon, received_at, related_kind, related_case_id)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (case_id) DO NOTHING`,
    [n.caseId, n.category, siteId ?? null, lat ?? null, lon ?? null, iso(receivedAt), related?.kind ?? null, related?.caseId ?? null],
  );
}
