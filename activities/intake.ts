import type { Pool } from 'pg';
import { lastClosedCaseNear, type Nearness } from '../db/cases';
import { firstOpenPrimaryNear, lockIntakeSites, recordedIntakeDecision, recordIntakeDecision } from '../db/intake-sites';
import { inTransaction } from '../db/transaction';
import { duplicateLockKeys } from '../domain/intake-sites';

export interface RelatedCaseQuery extends Nearness {
  divisionCode: string;
  /** Epoch ms: an open case registered since then may be this one's duplicate. */
  duplicateSince: number;
  /** Epoch ms: a case closed since then, at the same site, is reopened by this one. */
  recurrenceSince: number;
  /** Epoch ms: when this complaint was received (recorded for those that follow); absent in activities scheduled before it was sent. */
  receivedAt?: number;
}

export interface RelatedCase {
  kind: 'duplicate' | 'recurrence';
  caseId: string;
}

/**
 * Finds the case a new complaint belongs to: an open case of the same category nearby (a duplicate,
 * linked rather than handled twice), or a recently closed case at the same site (a recurrence,
 * which reopens it).
 *
 * The decision is serialised per site: under the advisory locks of the complaint's site and grid
 * cells (domain/intake-sites.ts), it looks for a primary among the decisions already recorded in
 * `intake_sites` and in the read model, and records its own in the same transaction. A complaint
 * that follows another about the same site, by a millisecond or at the same moment, waits for the
 * lock and finds it, although the read model may not show it yet. A retried activity reads back
 * the decision it recorded.
 */
export async function findRelatedCase(pool: Pool, q: RelatedCaseQuery): Promise<RelatedCase | null> {
  const { siteId, lat, lon } = q.location;
  if (!siteId && (lat === undefined || lon === undefined)) return null;
  return inTransaction(pool, async (client) => {
    await lockIntakeSites(client, duplicateLockKeys(q.category, q.location, q.radiusMeters));
    const recorded = await recordedIntakeDecision(client, q.caseId);
    if (recorded !== undefined) return recorded;
    const duplicate = await firstOpenPrimaryNear(client, q, q.duplicateSince);
    const recurrence = duplicate ? undefined : await lastClosedCaseNear(client, q, q.recurrenceSince);
    const related: RelatedCase | null = duplicate
      ? { kind: 'duplicate', caseId: duplicate }
      : recurrence
        ? { kind: 'recurrence', caseId: recurrence }
        : null;
    await recordIntakeDecision(client, q, q.receivedAt ?? Date.now(), related);
    return related;
  });
}
