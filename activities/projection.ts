import type { Pool } from 'pg';
import type { CaseEvent, CaseView, Location, Reporter } from '../domain/case';
import { iso, isoOrNull } from '../domain/instant';
import { saveCase, saveCaseEvent } from '../db/cases';
import { enqueueOutbox } from '../db/outbox';
import { saveReporter, sealReporter, type ReporterCipher } from '../db/reporters';
import { inTransaction } from '../db/transaction';

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

/**
 * Project a case's new events into PostgreSQL in one transaction: the case row (only ever moved
 * forward by seq), the events (keyed by case and seq), the reporter (encrypted), and the outbox rows of the
 * notifications the events cause (keyed by case, seq and recipient). Idempotent under retries.
 */
export async function projectCase(pool: Pool, input: ProjectionInput, keyRing?: ReporterCipher): Promise<void> {
  const { view, events } = input;
  // Sealed before the transaction: without a key ring nothing is written (the activity retries
  // until the worker is configured), and the reporter is never stored in clear.
  if (input.reporter && !keyRing) throw new Error('projectCase needs the key ring (ActivityDeps.keyRing) to store the reporter');
  const reporter = input.reporter && sealReporter(keyRing!, view.caseId, input.reporter);
  const lastSeq = events.length ? events[events.length - 1].seq : 0;
  await inTransaction(pool, async (client) => {
    await saveCase(client, { view, description: input.description, location: input.location, repliedAt: input.repliedAt, lastSeq });
    if (reporter) await saveReporter(client, view.caseId, reporter);
    for (const e of events) {
      await saveCaseEvent(client, view.caseId, e);
      for (const recipient of e.notify ?? []) {
        await enqueueOutbox(client, {
          idempotencyKey: `${view.caseId}:${e.seq}:${recipient}`,
          caseId: view.caseId,
          eventSeq: e.seq,
          eventType: e.type,
          recipient,
          payload: {
            caseId: view.caseId,
            seq: e.seq,
            type: e.type,
            at: iso(e.at),
            reason: e.reason ?? null,
            deadlineAt: isoOrNull(e.deadlineAt),
            status: view.status,
          },
        });
      }
    }
  });
}
