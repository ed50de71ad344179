import type { Pool } from 'pg';
import { inTransaction } from './transaction';

/**
 * Case numbers and the Idempotency-Keys of registrations (sequence `case_number_seq`, tables
 * `case_numbers` and `intake_requests`). The numbering is the register of every case: each number
 * is drawn once, in the statement that records it in `case_numbers`; it becomes a case or a gap
 * with its reason (migration 010). A key names the one number it drew; a replayed key draws none.
 */

/** Draw the next case number, `<prefix><seven digits or more>`, and record it as drawn; SQL over `$1` = the prefix. */
const DRAW = `INSERT INTO case_numbers (case_id)
  SELECT $1::text || lpad(v::text, greatest(7, length(v::text)), '0') FROM nextval('case_number_seq') AS v
  RETURNING case_id`;

/** Draw the next case number, e.g. `EC-2026-0000001` for the prefix `EC-2026-`. */
export async function nextCaseId(pool: Pool, prefix: string): Promise<string> {
  const { rows } = await pool.query<{ case_id: string }>(DRAW, [prefix]);
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
 * Claim an Idempotency-Key for a new case number: the key's first request draws a number; any other
 * (a retry, a different request under the same key, or the same key at the same moment on another
 * API process) gets the first one's and draws none. A transaction-scoped advisory lock on the key
 * makes concurrent first requests wait for each other instead of each drawing a number.
 */
export async function claimCaseId(pool: Pool, prefix: string, key: string, requestHash: string): Promise<CaseIdClaim> {
  return inTransaction(pool, async (client) => {
    await client.query(`SELECT pg_advisory_xact_lock(hashtextextended($1, 2260))`, [key]);
    const found = await client.query<{ case_id: string; request_hash: string }>(
      `SELECT case_id, request_hash FROM intake_requests WHERE idempotency_key = $1`,
      [key],
    );
    if (found.rows[0]) return { caseId: found.rows[0].case_id, requestHash: found.rows[0].request_hash, created: false };
    const { rows } = await client.query<{ case_id: string }>(
      `WITH drawn AS (${DRAW})
       INSERT INTO intake_requests (idempotency_key, request_hash, case_id) SELECT $2, $3, case_id FROM drawn RETURNING case_id`,
      [prefix, key, requestHash],
    );
    return { caseId: rows[0].case_id, requestHash, created: true };
  });
}

/** The number's case workflow started (or was found started): it is a case, whatever an earlier try recorded. */
export async function recordCaseNumber(pool: Pool, caseId: string): Promise<void> {
  await pool.query(
    `INSERT INTO case_numbers (case_id, outcome, decided_at) VALUES ($1, 'case', now())
     ON CONFLICT (case_id) DO UPDATE SET outcome = 'case', reason = NULL, decided_at = now() WHERE case_numbers.outcome IS DISTINCT FROM 'case'`,
    [caseId],
  );
}

/** The number's registration failed: a gap, with its reason (unless a retry made it a case already). */
export async function recordCaseNumberGap(pool: Pool, caseId: string, reason: string): Promise<void> {
  await pool.query(
    `UPDATE case_numbers SET outcome = 'gap', reason = $2, decided_at = now() WHERE case_id = $1 AND outcome IS DISTINCT FROM 'case'`,
    [caseId, reason],
  );
}

/** A number that is not (yet) a case. */
export interface CaseNumberGap {
  caseId: string;
  drawnAt: string;
  /** `gap`: its registration failed; `pending`: its registration has not finished (under way, or interrupted). */
  status: 'gap' | 'pending';
  reason: string | null;
  decidedAt: string | null;
}

/**
 * The numbers drawn that are not cases, oldest first: failed registrations and unfinished ones. A
 * number whose case reached the read model after all (a start that timed out but went through) is
 * left out.
 */
export async function listCaseNumberGaps(
  pool: Pool,
  page: { limit: number; offset: number },
): Promise<{ items: CaseNumberGap[]; total: number }> {
  const where = `n.outcome IS DISTINCT FROM 'case' AND NOT EXISTS (SELECT 1 FROM cases c WHERE c.case_id = n.case_id)`;
  const [rows, count] = await Promise.all([
    pool.query<{ case_id: string; drawn_at: Date; outcome: string | null; reason: string | null; decided_at: Date | null }>(
      `SELECT case_id, drawn_at, outcome, reason, decided_at FROM case_numbers n WHERE ${where}
       ORDER BY drawn_at, case_id LIMIT $1 OFFSET $2`,
      [page.limit, page.offset],
    ),
    pool.query<{ total: number }>(`SELECT count(*)::int AS total FROM case_numbers n WHERE ${where}`),
  ]);
  return {
    total: count.rows[0].total,
    items: rows.rows.map((r) => ({
      caseId: r.case_id,
      drawnAt: r.drawn_at.toISOString(),
      status: r.outcome === 'gap' ? 'gap' : 'pending',
      reason: r.reason,
      decidedAt: r.decided_at && r.decided_at.toISOString(),
    })),
  };
}
