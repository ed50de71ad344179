import type { Pool, PoolClient } from 'pg';
import type { Reporter } from '../domain/case';
import { reporterSchema } from '../domain/schemas/case';

/**
 * The reporter's identity at rest (table `case_reporters`, migration 002): AES-256-GCM under the
 * reporter key ring (`REPORTER_KEYS`, runtime/reporter-seal.ts; never the payload codec's), bound to
 * the case id so that a sealed row cannot be moved to another case.
 */

/**
 * What sealing the reporter needs: authenticated encryption under a ring of keys, each sealed value
 * naming its key. The key ring (runtime/encryption.ts `KeyRing`) is one; db/ names what it needs
 * rather than importing the implementation, so that it depends on nothing above it. The reporter
 * ring also holds the payload keys, so rows sealed with them before it existed still open.
 */
export interface ReporterCipher {
  readonly currentKeyId: string;
  /** Seal under the current key, bound to `context`; `data` is one byte string (`iv || ciphertext || tag`). */
  seal(plaintext: Uint8Array, context: Uint8Array): SealedReporter;
  /** Open with the key the value names; throws when it does not open (unknown key, other context, tampered). */
  open(sealed: { keyId: string; data: Uint8Array }, context: Uint8Array): Uint8Array;
}

function context(caseId: string): Buffer {
  return Buffer.from(`case_reporters:${caseId}`, 'utf8');
}

export interface SealedReporter {
  keyId: string;
  /** iv || ciphertext || tag */
  data: Buffer;
}

export function sealReporter(ring: ReporterCipher, caseId: string, reporter: Reporter): SealedReporter {
  return ring.seal(Buffer.from(JSON.stringify(reporter), 'utf8'), context(caseId));
}

export function openReporter(ring: ReporterCipher, caseId: string, row: { key_id: string; reporter_enc: Buffer }): Reporter {
  const plaintext = ring.open({ keyId: row.key_id, data: row.reporter_enc }, context(caseId));
  return reporterSchema.parse(JSON.parse(Buffer.from(plaintext).toString('utf8')));
}

/**
 * The reporter's blind index (migration 011; docs/privacy.md "Finding a case by its caller"): an
 * HMAC of each normalised identifying field under a key of its own. The implementation is
 * runtime/reporter-index.ts; db/ names what it needs.
 */
export interface ReporterIndexer {
  readonly currentKeyId: string;
  digestsOf(reporter: Reporter): ReporterDigests;
}

/** The digests of one reporter under one key; a field the reporter did not give has none. */
export interface ReporterDigests {
  keyId: string;
  phone: Buffer | null;
  email: Buffer | null;
  name: Buffer | null;
}

/**
 * Store the case's reporter, sealed by the caller, with its blind index (none: the row is found by
 * no search until `reindexReporters` indexes it); a retried projection stores the same identity again.
 */
export async function saveReporter(
  client: Pick<PoolClient, 'query'>,
  caseId: string,
  sealed: SealedReporter,
  index?: ReporterDigests,
): Promise<void> {
  await client.query(
    `INSERT INTO case_reporters (case_id, key_id, reporter_enc, index_key_id, phone_hmac, email_hmac, name_hmac)
     VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (case_id) DO UPDATE
       SET key_id = EXCLUDED.key_id, reporter_enc = EXCLUDED.reporter_enc, legacy_reporter = NULL,
           index_key_id = EXCLUDED.index_key_id, phone_hmac = EXCLUDED.phone_hmac,
           email_hmac = EXCLUDED.email_hmac, name_hmac = EXCLUDED.name_hmac`,
    [caseId, sealed.keyId, sealed.data, index?.keyId ?? null, index?.phone ?? null, index?.email ?? null, index?.name ?? null],
  );
}

/** A row of case_reporters in either form (sealed, or clear from before migration 002). */
export interface ReporterRow {
  key_id: string | null;
  reporter_enc: Buffer | null;
  legacy_reporter: Reporter | null;
}

export function reporterOf(ring: ReporterCipher, caseId: string, row: ReporterRow): Reporter {
  if (row.reporter_enc && row.key_id) return openReporter(ring, caseId, { key_id: row.key_id, reporter_enc: row.reporter_enc });
  return reporterSchema.parse(row.legacy_reporter);
}

/**
 * Seal every row still in clear (written before migration 002) and move every row sealed under a
 * key other than the current one (a retired reporter key, or a payload key from before the reporter
 * ring) to the current key, in batches; each row is updated only if it
 * did not change meanwhile, so several workers may run this at once. Rows that do not open (their
 * key left the ring) are counted and left as they are. After it ran, a retired key may leave
 * REPORTER_KEYS once the Temporal histories sealed with it are past their retention.
 */
export async function resealReporters(
  pool: Pool,
  ring: ReporterCipher,
  batchSize = 500,
): Promise<{ resealed: number; unreadable: number }> {
  const { changed, unreadable } = await rewriteReporters<ReporterRow & { case_id: string }>(
    pool,
    ring,
    { columns: 'case_id, key_id, reporter_enc, legacy_reporter', keyColumn: 'key_id', currentKeyId: ring.currentKeyId, batchSize },
    async (row, reporter) => {
      const sealed = sealReporter(ring, row.case_id, reporter);
      const updated = await pool.query(
        `UPDATE case_reporters SET key_id = $2, reporter_enc = $3, legacy_reporter = NULL
          WHERE case_id = $1 AND key_id IS NOT DISTINCT FROM $4`,
        [row.case_id, sealed.keyId, sealed.data, row.key_id],
      );
      return updated.rowCount ?? 0;
    },
  );
  return { resealed: changed, unreadable };
}

/**
 * Index every reporter not indexed under the index ring's current key (indexed under a retired key,
 * or not at all), in batches: each row is opened with the reporter ring, its digests computed again
 * and written only if the row did not change meanwhile, so several workers may run this at once.
 * Rows that do not open are counted and left as they are. `npm run reporters:reindex` and every
 * worker start run it; after it ran, a retired index key may leave REPORTER_INDEX_KEYS.
 */
export async function reindexReporters(
  pool: Pool,
  ring: ReporterCipher,
  indexer: ReporterIndexer,
  batchSize = 500,
): Promise<{ reindexed: number; unreadable: number }> {
  const { changed, unreadable } = await rewriteReporters<ReporterRow & { case_id: string; index_key_id: string | null }>(
    pool,
    ring,
    {
      columns: 'case_id, key_id, reporter_enc, legacy_reporter, index_key_id',
      keyColumn: 'index_key_id',
      currentKeyId: indexer.currentKeyId,
      batchSize,
    },
    async (row, reporter) => {
      const d = indexer.digestsOf(reporter);
      const updated = await pool.query(
        `UPDATE case_reporters SET index_key_id = $2, phone_hmac = $3, email_hmac = $4, name_hmac = $5
          WHERE case_id = $1 AND index_key_id IS NOT DISTINCT FROM $6
            AND reporter_enc IS NOT DISTINCT FROM $7 AND legacy_reporter IS NOT DISTINCT FROM $8`,
        [row.case_id, d.keyId, d.phone, d.email, d.name, row.index_key_id, row.reporter_enc, row.legacy_reporter],
      );
      return updated.rowCount ?? 0;
    },
  );
  return { reindexed: changed, unreadable };
}

/**
 * Walk the rows whose `keyColumn` is not `currentKeyId`, in batches by case id, opening each with the
 * reporter ring; `rewrite` updates one row (only if it did not change meanwhile) and answers how many
 * rows it changed. Rows that do not open (their key left the ring) are counted and left as they are.
 * The column names are this module's constants, never input.
 */
async function rewriteReporters<R extends ReporterRow & { case_id: string }>(
  pool: Pool,
  ring: ReporterCipher,
  select: { columns: string; keyColumn: 'key_id' | 'index_key_id'; currentKeyId: string; batchSize: number },
  rewrite: (row: R, reporter: Reporter) => Promise<number>,
): Promise<{ changed: number; unreadable: number }> {
  let changed = 0;
  let unreadable = 0;
  let after = '';
  for (;;) {
    const { rows } = await pool.query<R>(
      `SELECT ${select.columns} FROM case_reporters
        WHERE ${select.keyColumn} IS DISTINCT FROM $1 AND case_id > $2 ORDER BY case_id LIMIT $3`,
      [select.currentKeyId, after, select.batchSize],
    );
    for (const row of rows) {
      let reporter: Reporter;
      try {
        reporter = reporterOf(ring, row.case_id, row);
      } catch {
        unreadable++;
        continue;
      }
      changed += await rewrite(row, reporter);
    }
    if (rows.length < select.batchSize) return { changed, unreadable };
    after = rows[rows.length - 1].case_id;
  }
}
