/**
 * Error type names that workflows put on an `ApplicationFailure` and clients read back. Shared by
 * every workflow contract; no workflow code.
 */

/** Thrown by validators: the decision is impossible in the current state (HTTP 409). */
export const INVALID_TRANSITION = 'InvalidTransition';

/**
 * Thrown by the projection (activities/projection.ts), non-retryable: PostgreSQL refused the case's
 * events with an error retrying cannot fix (a data exception, an integrity violation, a limit). The
 * complaint workflow dead-letters the events and goes on (docs/operations.md).
 */
export const PROJECTION_REJECTED = 'ProjectionRejected';
