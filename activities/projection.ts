import { ApplicationFailure } from '@temporalio/common';
import type { Pool, PoolClient } from 'pg';
import type { CarriedReporter, CaseEvent, CaseView, Location, Reporter } from '../domain/case';
import { iso, isoOrNull } from '../domain/instant';
import { markProjectionDeadLettersReplayed, saveCase, saveCaseEvent, saveProjectionDeadLetter } from '../db/cases';
import { enqueueOutbox } from '../db/outbox';
import { saveReporter, sealReporter, type ReporterIndexer } from '../db/reporters';
import { inTransaction } from '../db/transaction';
import type { KeyRing } from '../runtime/encryption';
import { openReporter } from '../runtime/reporter-seal';
import { PROJECTION_REJECTED } from '../workflows/contracts/errors';

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
  /** The read model was missing events (a failed projection): a success marks the case's dead letters replayed. */
  repairs?: boolean;
}

/**
 * SQLSTATE classes of errors that retrying the same projection cannot fix: data exceptions (22: an
 * invalid byte sequence such as a NUL, a value out of range), integrity violations (23) and program
 * limits (54: an index row too large). Anything else (a lost connection, a timeout, a server shutting
 * down, a deadlock, a missing table before its migration) is retried without limit.
 */
const PERMANENT_SQLSTATE_CLASSES = ['22', '23', '54'];

/** The failure the workflow recognises (type PROJECTION_REJECTED), or undefined when retrying may help. */
export function projectionRejection(err: unknown, what: string): ApplicationFailure | undefined {
  const sqlState = (err as { code?: unknown }).code;
  if (typeof sqlState !== 'string' || !/^[0-9A-Z]{5}$/.test(sqlState) || !PERMANENT_SQLSTATE_CLASSES.includes(sqlState.slice(0, 2))) {
    return undefined;
  }
  const error = `${sqlState} ${printable((err as Error).message)}`;
  return ApplicationFailure.create({
    type: PROJECTION_REJECTED,
    message: `PostgreSQL refused ${what}: ${error}`,
    nonRetryable: true,
    details: [{ sqlState, error }],
  });
}

/** A message as text PostgreSQL can store: NUL characters escaped. */
function printable(text: string): string {
  return text.replaceAll('\u0000', '\\u0000');
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
  try {
    await inTransaction(pool, async (client) => {
      await saveCase(client, { view, description: input.description, location: input.location, repliedAt: input.repliedAt, lastSeq });
      if (reporter) await saveReporter(client, view.caseId, reporter, digests);
      for (const e of events) {
        await saveCaseEvent(client, view.caseId, e);
        await enqueueNotifications(client, view, e);
      }
      if (input.repairs) await markProjectionDeadLettersReplayed(client, view.caseId, lastSeq);
    });
  } catch (err) {
    throw projectionRejection(err, `the events ${events[0]?.seq ?? 0}–${lastSeq} of case ${view.caseId}`) ?? err;
  }
  return opened;
}

/** The outbox rows of the notifications an event causes, keyed by case, seq and recipient. */
async function enqueueNotifications(client: Pick<PoolClient, 'query'>, view: CaseView, e: CaseEvent): Promise<void> {
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

export interface DeadLetterInput {
  /** The view the refused projection carried (timeline omitted). */
  view: CaseView;
  /** The events the read model refused. */
  events: CaseEvent[];
  sqlState?: string;
  error: string;
  /** The case's `projection_failed` event, when this is its first refusal: operations are notified of it. */
  failure?: CaseEvent;
}

/**
 * Keep events the read model refused in `projection_dead_letters`, with the error, and notify
 * operations (the outbox, as any notification) of the case's first refusal. Events and view are
 * stored as JSON text, so whatever value was refused is kept as it was; idempotent under retries.
 */
export async function deadLetterProjection(pool: Pool, input: DeadLetterInput): Promise<void> {
  const { view, events } = input;
  await inTransaction(pool, async (client) => {
    await saveProjectionDeadLetter(client, {
      caseId: view.caseId,
      fromSeq: events[0]?.seq ?? 0,
      toSeq: events[events.length - 1]?.seq ?? 0,
      eventsJson: JSON.stringify(events),
      viewJson: JSON.stringify(view),
      sqlState: input.sqlState,
      error: printable(input.error),
    });
    if (input.failure) await enqueueNotifications(client, view, input.failure);
  });
}
