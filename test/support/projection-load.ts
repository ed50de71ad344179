import type { Pool } from 'pg';
import type { CaseRow, EventRow } from './generator';

/**
 * Bulk writes of generated cases (test/support/generator.ts) straight into the projection tables, with
 * multi-row INSERTs from arrays: for the report benchmark and for tests that need a realistic month.
 */

const iso = (ms: number | undefined) => (ms === undefined ? null : new Date(ms).toISOString());

/** Write generated cases as the projection holds them: cases rows, then their events (the trigger derives the rate facts), then desk-check results. */
export async function insertProjection(
  pool: Pool,
  rows: CaseRow[],
  events: Array<EventRow & { caseId: string }>,
  now: number,
  utcOffsetMinutes: number,
): Promise<void> {
  const localDate = (ms: number) => new Date(ms + utcOffsetMinutes * 60_000).toISOString().slice(0, 10);
  const col = <T>(f: (r: CaseRow) => T) => rows.map(f);
  await pool.query(
    `INSERT INTO cases (case_id, status, closure, category, urgency, channel, division_code, title, description, lat, lon, site_id,
       owner_id, unit_id, policy_version, received_at, accepted_at, replied_at, closed_at, deadline_kind, deadline_at, overdue, returns,
       merged_into, anonymous, reporter_consent, view, last_seq)
     SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[],
       $10::float8[], $11::float8[], $12::text[], $13::text[], $14::text[], $15::text[], $16::timestamptz[], $17::timestamptz[],
       $18::timestamptz[], $19::timestamptz[], $20::text[], $21::timestamptz[], $22::bool[], $23::int[], $24::text[], $25::bool[],
       $26::bool[], $27::jsonb[], $28::int[])`,
    [
      col((r) => r.caseId),
      col((r) => r.status),
      col((r) => r.closure ?? null),
      col((r) => r.category),
      col((r) => r.urgency),
      col((r) => r.channel),
      col((r) => r.divisionCode),
      col((r) => r.title),
      col((r) => r.description),
      col((r) => r.lat ?? null),
      col((r) => r.lon ?? null),
      col((r) => r.siteId ?? null),
      col((r) => r.ownerId),
      col((r) => r.unitId ?? null),
      col((r) => r.policyVersion),
      col((r) => iso(r.receivedAt)),
      col((r) => iso(r.acceptedAt)),
      col((r) => iso(r.repliedAt)),
      col((r) => iso(r.closedAt)),
      col((r) => r.deadline?.kind ?? null),
      col((r) => iso(r.deadline?.dueAt)),
      col((r) => (r.deadline ? now > r.deadline.dueAt : false)),
      col((r) => r.returns),
      col((r) => r.mergedInto ?? null),
      col((r) => r.anonymous),
      col((r) => r.reporterConsent),
      col((r) => JSON.stringify(r.view)),
      col((r) => r.lastSeq),
    ],
  );
  // One statement for the chunk's events: the rate facts are derived from them by the trigger, set-wise.
  await pool.query(
    `INSERT INTO case_events (case_id, seq, type, at, actor_id, actor_role, deadline_at, data)
     SELECT * FROM unnest($1::text[], $2::int[], $3::text[], $4::timestamptz[], $5::text[], $6::text[], $7::timestamptz[], $8::jsonb[])`,
    [
      events.map((e) => e.caseId),
      events.map((e) => e.seq),
      events.map((e) => e.type),
      events.map((e) => iso(e.at)),
      events.map((e) => e.actorId),
      events.map((e) => e.actorRole),
      events.map((e) => iso(e.deadlineAt)),
      events.map((e) => (e.data ? JSON.stringify(e.data) : null)),
    ],
  );
  const checked = rows.filter((r) => r.deskCheck);
  if (checked.length) {
    await pool.query(
      `INSERT INTO desk_check_items (desk_check_id, case_id, division_code, unit_id, result, reviewed_at, reviewed_by)
       SELECT d, c, v, u, r, a, 'inspector-bench' FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::timestamptz[]) AS x(d, c, v, u, r, a)`,
      [
        checked.map((r) => localDate(r.deskCheck!.reviewedAt)),
        checked.map((r) => r.caseId),
        checked.map((r) => r.divisionCode),
        checked.map((r) => r.unitId ?? null),
        checked.map((r) => (r.deskCheck!.compliant ? 'compliant' : 'non_compliant')),
        checked.map((r) => iso(r.deskCheck!.reviewedAt)),
      ],
    );
  }
}

/** One desk check per local day from `from` to `to` (desk-check items reference their day). */
export async function insertDeskCheckDays(pool: Pool, from: number, to: number, utcOffsetMinutes: number): Promise<void> {
  const days: string[] = [];
  for (let t = from; t < to; t += 86_400_000) days.push(new Date(t + utcOffsetMinutes * 60_000).toISOString().slice(0, 10));
  await pool.query(
    `INSERT INTO desk_checks (id, period_from, period_to, seed, share, min_per_division, closures, policy_version, population, drawn, workflow_id, review_due_at)
     SELECT d, now(), now(), 'generated', 0.23, 1, '{}', 'generated', '[]', '{}', 'generated', now() FROM unnest($1::text[]) d ON CONFLICT DO NOTHING`,
    [[...new Set(days)]],
  );
}

/** Sealed reporters with their blind index (db/reporters.ts saveReporter's columns), one statement per chunk. */
export async function insertReporters(
  pool: Pool,
  rows: Array<{
    caseId: string;
    keyId: string;
    data: Buffer;
    index: { keyId: string; phone: Buffer | null; email: Buffer | null; name: Buffer | null };
  }>,
): Promise<void> {
  await pool.query(
    `INSERT INTO case_reporters (case_id, key_id, reporter_enc, index_key_id, phone_hmac, email_hmac, name_hmac)
     SELECT * FROM unnest($1::text[], $2::text[], $3::bytea[], $4::text[], $5::bytea[], $6::bytea[], $7::bytea[])`,
    [
      rows.map((r) => r.caseId),
      rows.map((r) => r.keyId),
      rows.map((r) => r.data),
      rows.map((r) => r.index.keyId),
      rows.map((r) => r.index.phone),
      rows.map((r) => r.index.email),
      rows.map((r) => r.index.name),
    ],
  );
}
