import type { Pool } from 'pg';
import type { CarriedReporter, CaseEvent, CaseView, Location, Reporter } from '../domain/case';
import { iso, isoOrNull } from '../domain/instant';
import { saveCase, saveCaseEvent } from '../db/cases';
import { enqueueOutbox } from '../db/outbox';
import { saveReporter, sealReporter, type ReporterIndexer } from '../db/reporters';
import { inTransaction } from '../db/transaction';
import type { KeyRing } from '../runtime/encryption';
import { openReporter } from '../runtime/reporter-seal';

export interface ProjectionInput {
  /** The case view after the events (timeline omitted). */
  view: CaseView;
  /** The events not yet projected, in order. */
  events: CaseEvent[];
  /**
   * Sent with the first projection, and again after a supplement changed it: the flags in clear, the
   * identity sealed under the reporter ring (in clear only from cases registered before it was sealed).
   */
  reporter?: CarriedReporter;
  location: Location;
  description: string;
  repliedAt?: number;
}

/**
 * Project a case's new events into PostgreSQL in one transaction: the case row (only ever moved
 * forward by seq), the events (keyed by case and seq), the reporter (encrypted), and the outbox rows of the
 * notifications the events cause (keyed by case, seq and recipient). Idempotent under retries.
 *
 * The reporter comes as the workflow carries it (sealed parts, or clear fields from an older case);
 * it is opened with the reporter ring and sealed whole again for its row, under the same ring, with
 * its blind index beside it (`reporterIndex`; without it the row waits for db/reporters.ts reindexReporters).
 * Returns it opened, for the early-warning watchers' pseudonym (activities/warning-intake.ts).
 */
export async function projectCase(
  pool: Pool,
  input: ProjectionInput,
  reporterKeys?: KeyRing,
  reporterIndex?: ReporterIndexer,
): Promise<Reporter | undefined> {
  const { view, events } = input;
  // Sealed before the transaction: without the ring nothing is written (the activity retries until
  // the worker is configured), and the reporter is never stored in clear.
  if (input.reporter && !reporterKeys) {
    throw new Error('projectCase needs the reporter ring (ActivityDeps.reporterKeys) to store the reporter');
  }
  const opened = input.reporter && openReporter(reporterKeys!, view.caseId, input.reporter);
  const reporter = opened && sealReporter(reporterKeys!, view.caseId, opened);
  const digests = opened && reporterIndex?.digestsOf(opened);
  const lastSeq = events.length ? events[events.length - 1].seq : 0;
  await inTransaction(pool, async (client) => {
    await saveCase(client, { view, description: input.description, location: input.location, repliedAt: input.repliedAt, lastSeq });
    if (reporter) await saveReporter(client, view.caseId, reporter, digests);
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
  return opened;
}
