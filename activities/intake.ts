import type { Pool } from 'pg';
import type { Category, } from '../domain/policy';
import type { Location } from '../domain/case';

export interface RelatedCaseQuery {
  caseId: string;
  category: Category;
  divisionCode: string;
  location: Location;
  radiusMeters: number;
  /** Epoch ms: an open case registered since then may be this one's duplicate. */
  duplicateSince: number;
  /** Epoch ms: a case closed since then, at the same site, is reopened by this one. */
  recurrenceSince: number;
}

export interface RelatedCase {
  kind: 'duplicate' | 'recurrence';
  caseId: string;
}

// Same site, or within the radius (haversine on a 6,371 km sphere; a bounding box first, for the index).
const NEAR = `(
  ($2::text IS NOT NULL AND site_id = $2)
  OR ($3::float8 IS NOT NULL AND lat IS NOT NULL
      AND lat BETWEEN $3 - $5 / 111320.0 AND $3 + $5 / 111320.0
      AND 2 * 6371000 * asin(sqrt(
            power(sin(radians(lat - $3) / 2), 2)
            + cos(radians($3)) * cos(radians(lat)) * power(sin(radians(lon - $4) / 2), 2))) <= $5)
)`;

/**
 * Finds the case a new complaint belongs to: an open case of the same category nearby (a duplicate,
 * linked rather than handled twice), or a recently closed case at the same site (a recurrence,
 * which reopens it). Reads the projection only.
 */
export async function findRelatedCase(pool: Pool, q: RelatedCaseQuery): Promise<RelatedCase | null> {
  const { siteId, lat, lon } = q.location;
  if (!siteId && (lat === undefined || lon === undefined)) return null;
  const params = [q.category, siteId ?? null, lat ?? null, lon ?? null, q.radiusMeters, q.caseId];
  const duplicate = await pool.query<{ case_id: string }>(
    `SELECT case_id FROM cases
      WHERE category = $1 AND case_id <> $6 AND merged_into IS NULL
        AND status NOT IN ('closed', 'archived') AND received_at >= $7 AND ${NEAR}
      ORDER BY received_at LIMIT 1`,
    [...params, new Date(q.duplicateSince).toISOString()],
  );
  if (duplicate.rows[0]) return { kind: 'duplicate', caseId: duplicate.rows[0].case_id };
  const recurrence = await pool.query<{ case_id: string }>(
    `SELECT case_id FROM cases
      WHERE category = $1 AND case_id <> $6 AND merged_into IS NULL
        AND status = 'closed' AND closed_at >= $7 AND ${NEAR}
      ORDER BY closed_at DESC LIMIT 1`,
    [...params, new Date(q.recurrenceSince).toISOString()],
  );
  if (recurrence.rows[0]) return { kind: 'recurrence', caseId: recurrence.rows[0].case_id };
  return null;
}
