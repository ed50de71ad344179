import type { Pool } from 'pg';
import { firstOpenCaseNear, lastClosedCaseNear, type Nearness } from '../db/cases';

export interface RelatedCaseQuery extends Nearness {
  divisionCode: string;
  /** Epoch ms: an open case registered since then may be this one's duplicate. */
  duplicateSince: number;
  /** Epoch ms: a case closed since then, at the same site, is reopened by this one. */
  recurrenceSince: number;
}

export interface RelatedCase {
  kind: 'duplicate' | 'recurrence';
  caseId: string;
}

/**
 * Finds the case a new complaint belongs to: an open case of the same category nearby (a duplicate,
 * linked rather than handled twice), or a recently closed case at the same site (a recurrence,
 * which reopens it). Reads the projection only.
 */
export async function findRelatedCase(pool: Pool, q: RelatedCaseQuery): Promise<RelatedCase | null> {
  const { siteId, lat, lon } = q.location;
  if (!siteId && (lat === undefined || lon === undefined)) return null;
  const duplicate = await firstOpenCaseNear(pool, q, q.duplicateSince);
  if (duplicate) return { kind: 'duplicate', caseId: duplicate };
  const recurrence = await lastClosedCaseNear(pool, q, q.recurrenceSince);
  if (recurrence) return { kind: 'recurrence', caseId: recurrence };
  return null;
}
