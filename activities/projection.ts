import type { Pool } from 'pg';
import type { CaseEvent, CaseView, Location, Reporter } from '../domain/case';
import { sealReporter } from '../db/reporters';
import type { KeyRing } from '../runtime/encryption';

export interface ProjectionInput {
  /** The case view after the events (timeline omitted). */
  view: CaseView;
  /** The events not yet projected, in order. */
  events: CaseEvent[];
  /** Sent with the first projection only. */
  reporter?: Reporter;
  location: Location;
  description: string;
  repliedAt?: number;
}

const ts = (iso: string | undefined) => (iso === undefined ? null : iso);

/**
 * Project a case's new events into PostgreSQL in one transaction: the case row (only ever moved
 * forward by seq), the events (keyed by case and seq), the reporter (encrypted), and the outbox rows of the
 * notifications the events cause (keyed by case, seq and recipient). Idempotent under retries.
 */
export async function projectCase(pool: Pool, input: ProjectionInput, keyRing?: KeyRing): Promise<void> {
  const { view, events } = input;
  // Sealed before the transaction: without a key ring nothing is written (the activity retries
  // until the worker is configured), and the reporter is never stored in clear.
  if (input.reporter && !keyRing) throw new Error('projectCase needs the key ring (ActivityDeps.keyRing) to store the reporter');
  const reporter = input.reporter && sealReporter(keyRing!, view.caseId, input.reporter);
  const lastSeq = events.length ? events[events.length - 1].seq : 0;
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query(
      `INSERT INTO cases (case_id, status, closure, category, urgency, channel, division_code, title, description,
         lat, lon, site_id, owner_id, unit_id, escalation_level, policy_version, received_at, accepted_at, replied_at,
         closed_at, deadline_kind, deadline_at, overdue, returns, reopen_count, merged_into, anonymous, reporter_consent,
         view, last_seq, updated_at)
       VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18,$19,$20,$21,$22,$23,$24,$25,$26,$27,$28,$29,$30, now())
       ON CONFLICT (case_id) DO UPDATE SET
         status = EXCLUDED.status, closure = EXCLUDED.closure, description = EXCLUDED.description,
         lat = EXCLUDED.lat, lon = EXCLUDED.lon, site_id = EXCLUDED.site_id, unit_id = EXCLUDED.unit_id,
         escalation_level = EXCLUDED.escalation_level, accepted_at = EXCLUDED.accepted_at,
         replied_at = EXCLUDED.replied_at, closed_at = EXCLUDED.closed_at, deadline_kind = EXCLUDED.deadline_kind,
         deadline_at = EXCLUDED.deadline_at, overdue = EXCLUDED.overdue, returns = EXCLUDED.returns,
         reopen_count = EXCLUDED.reopen_count, merged_into = EXCLUDED.merged_into, anonymous = EXCLUDED.anonymous,
         reporter_consent = EXCLUDED.reporter_consent, view = EXCLUDED.view, last_seq = EXCLUDED.last_seq,
         updated_at = now()
       WHERE cases.last_seq < EXCLUDED.last_seq`,
      [
        view.caseId, view.status, view.closure ?? null, view.category, view.urgency, view.channel, view.divisionCode,
        view.title, input.description, input.location.lat ?? null, input.location.lon ?? null,
        input.location.siteId ?? null, view.owner.id, view.unitId ?? null, view.escalationLevel, view.policyVersion,
        view.receivedAt, ts(view.acceptedAt), input.repliedAt === undefined ? null : new Date(input.repliedAt).toISOString(),
        ts(view.closedAt), view.deadline?.kind ?? null, ts(view.deadline?.dueAt), view.deadline?.overdue ?? false,
        view.returns, view.reopenCount, view.mergedInto ?? null, view.anonymous, view.reporterConsent,
        JSON.stringify(view), lastSeq,
      ],
    );
    if (reporter) {
      await client.query(
        `INSERT INTO case_reporters (case_id, key_id, reporter_enc) VALUES ($1, $2, $3) ON CONFLICT (case_id) DO UPDATE
           SET key_id = EXCLUDED.key_id, reporter_enc = EXCLUDED.reporter_enc, legacy_reporter = NULL`,
        [view.caseId, reporter.keyId, reporter.data],
      );
    }
    for (const e of events) {
      await client.query(
        `INSERT INTO case_events (case_id, seq, type, at, actor_id, actor_role, reason, deadline_at, data)
         VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9) ON CONFLICT (case_id, seq) DO NOTHING`,
        [
          view.caseId, e.seq, e.type, new Date(e.at).toISOString(), e.actor.id, e.actor.role, e.reason ?? null,
          e.deadlineAt === undefined ? null : new Date(e.deadlineAt).toISOString(), e.data ? JSON.stringify(e.data) : null,
        ],
      );
      for (const recipient of e.notify ?? []) {
        await client.query(
          `INSERT INTO outbox (idempotency_key, case_id, event_seq, event_type, recipient, payload)
           VALUES ($1,$2,$3,$4,$5,$6) ON CONFLICT (idempotency_key) DO NOTHING`,
          [
            `${view.caseId}:${e.seq}:${recipient}`, view.caseId, e.seq, e.type, recipient,
            JSON.stringify({
              caseId: view.caseId, seq: e.seq, type: e.type, at: new Date(e.at).toISOString(), reason: e.reason ?? null,
              deadlineAt: e.deadlineAt === undefined ? null : new Date(e.deadlineAt).toISOString(),
              status: view.status,
            }),
          ],
        );
      }
    }
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}
