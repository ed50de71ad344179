/**
 * Error type names that workflows put on an `ApplicationFailure` and clients read back. Shared by
 * every workflow contract; no workflow code.
 */

/** Thrown by validators: the decision is impossible in the current state (HTTP 409). */
export const INVALID_TRANSITION = 'InvalidTransition';
