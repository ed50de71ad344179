import type { Pool } from 'pg';

/**
 * Case numbers and the Idempotency-Keys of registrations (sequence `case_number_seq`, table
 * `intake_requests`): every case number is drawn once, and a key names the one case it created.
 */

/** The next case number, `<prefix><seven digits or more>`, as SQL over `$1` = the prefix. */
const NEXT_CASE_ID = `(SELECT $1::text || lpad(v::text, greatest(7, length(v::text)), '0') FROM nextval('case_number_seq') AS v)`;

/** Draw the next case number, e.g. `EC-2026-0000001` for the prefix `EC-2026-`. */
export async function nextCaseId(pool: Pool, prefix: string): Promise<string> {
  const { rows } = await pool.query<{ case_id: string }>(`SELECT ${NEXT_CASE_ID} AS case_id`, [prefix]);
  return rows[0].case_id;
}

export interface CaseIdClaim {
  caseId: string;
  /** The hash of the request that first claimed the key: another hash means another request. */
  requestHash: string;
  /** True for the key's first request, which drew the number. */
  created: boolean;
}

/**
 * Claim an Idempotency-Key for a new case number, in one statement: the key's first request gets a
 * new number; any other (a retry, or the same key at the same moment on another API process) gets
 * the first one's.
 */
export async function claimCaseId(pool: Pool, prefix: string, key: string, requestHash: string): Promise<CaseIdClaim> {
  const { rows } = await pool.query<{ case_id: string; request_hash: string; created: boolean }>(
    `WITH candidate AS (SELECT ${NEXT_CASE_ID} AS case_id)
     INSERT INTO intake_requests (idempotency_key, request_hash, case_id) SELECT $2, $3, case_id FROM candidate
     ON CONFLICT (idempotency_key) DO UPDATE SET idempotency_key = EXCLUDED.idempotency_key
     RETURNING case_id, request_hash, case_id = (SELECT case_id FROM candidate) AS created`,
    [prefix, key, requestHash],
  );
  return { caseId: rows[0].case_id, requestHash: rows[0].request_hash, created: rows[0].created };
}
