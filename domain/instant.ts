/**
 * Instants as the API and the read model show them: ISO 8601 in UTC. The one place these
 * conversions live; workflows, activities, repositories and routes import them.
 */

/** Epoch milliseconds to ISO 8601; `undefined` stays `undefined`. */
export function iso(ms: number | undefined): string | undefined {
  return ms === undefined ? undefined : new Date(ms).toISOString();
}

/** Epoch milliseconds to ISO 8601, for a column that is `NULL` when there is no instant. */
export function isoOrNull(ms: number | undefined | null): string | null {
  return ms === undefined || ms === null ? null : new Date(ms).toISOString();
}

/** A `timestamptz` column read by `pg` (a Date, or null) to ISO 8601, or null. */
export function dateIso(d: Date | null | undefined): string | null {
  return d ? d.toISOString() : null;
}
