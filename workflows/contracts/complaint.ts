/**
 * The complaint workflow's contract: its messages, id function, input and output types and error
 * type names. No workflow code: the API, activities and other workflows import this module, never
 * workflows/complaint.ts.
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type {
  Accept,
  Callback,
  CaseState,
  CaseView,
  Closure,
  ComplaintInput,
  Decline,
  DuplicateUnlinked,
  Escalate,
  ExtensionDecision,
  ExtensionRequest,
  Forward,
  LEAN_START,
  LinkDuplicate,
  Reopen,
  Result,
  Review,
  ReviewDecision,
  ReviewRequest,
  SupplementDecision,
  Transfer,
  Unlink,
} from '../../domain/case';
import type { DeadlineTightening } from '../../domain/governance';
import type { CaseSearchAttributes } from '../../domain/search-attributes';

export { LEAN_START, workflowIdFor } from '../../domain/case';
export { INVALID_TRANSITION, PROJECTION_REJECTED } from './errors';

/** The workflow type, as registered by the worker. */
export const COMPLAINT_WORKFLOW = 'complaintWorkflow';

export const statusQuery = defineQuery<CaseView>('status');
export const supplementUpdate = defineUpdate<CaseView, [SupplementDecision]>('supplement');
export const acceptUpdate = defineUpdate<CaseView, [Accept]>('accept');
export const forwardUpdate = defineUpdate<CaseView, [Forward]>('forward');
export const transferUpdate = defineUpdate<CaseView, [Transfer]>('transfer');
export const requestExtensionUpdate = defineUpdate<CaseView, [ExtensionRequest]>('requestExtension');
export const decideExtensionUpdate = defineUpdate<CaseView, [ExtensionDecision]>('decideExtension');
export const submitResultUpdate = defineUpdate<CaseView, [Result]>('submitResult');
export const reviewUpdate = defineUpdate<CaseView, [Review]>('review');
export const recordCallbackUpdate = defineUpdate<CaseView, [Callback]>('recordCallback');
export const requestReviewUpdate = defineUpdate<CaseView, [ReviewRequest]>('requestReview');
export const decideReviewUpdate = defineUpdate<CaseView, [ReviewDecision]>('decideReview');
export const escalateUpdate = defineUpdate<CaseView, [Escalate]>('escalate');
export const reopenUpdate = defineUpdate<CaseView, [Reopen]>('reopen');
/** The assigned unit declines a case that is not theirs: back to the clerk for reassignment. */
export const declineAssignmentUpdate = defineUpdate<CaseView, [Decline]>('declineAssignment');
/**
 * The whole state (plain JSON) of a case, answered by finished runs too (replayed by a worker): what
 * starting a wrongly linked duplicate again carries over (`unlink` in the input).
 */
export const caseStateQuery = defineQuery<CaseState>('caseState');
/** From another complaint workflow: a duplicate of this case was registered. */
export const linkDuplicateSignal = defineSignal<[LinkDuplicate]>('linkDuplicate');
/** From a complaint workflow started again by `unlink`: it is no longer a duplicate of this case. */
export const duplicateUnlinkedSignal = defineSignal<[DuplicateUnlinked]>('duplicateUnlinked');
/** From another complaint workflow: the site of this recently closed case is polluting again. */
export const recurrenceSignal = defineSignal<[LinkDuplicate & { reason: string }]>('recurrence');
/** From a campaign (workflows/campaign.ts): move the current handle/rework deadline earlier; applied once per key. */
export const tightenDeadlineSignal = defineSignal<[DeadlineTightening]>('tightenDeadline');
/**
 * From `npm run ops:check -- --fix` (worker/ops-check.ts): upsert every search attribute again from the
 * case's state; answers the attributes as upserted. Only a running workflow can take it.
 */
export const syncSearchAttributesUpdate = defineUpdate<CaseSearchAttributes, []>('syncSearchAttributes');

/**
 * From `npm run projection:replay -- <caseId>` (worker/projection-replay.ts): project again every event
 * the read model is missing, once the cause of a failed projection is fixed. Answers whether the read
 * model now has every event, and the error if it still refuses them.
 */
export const replayProjectionUpdate = defineUpdate<ProjectionReplay, []>('replayProjection');

export interface ProjectionReplay {
  /** The read model has every event of the case. */
  projected: boolean;
  /** The events that were missing and have been projected now (0: nothing was missing). */
  replayed: number;
  /** Why the read model still refuses them. */
  error?: string;
}

/**
 * A new case; or a case carried over (continue-as-new); or, with `unlink`, a case closed as a wrong
 * automatic duplicate started again (a new run of the same workflow id) as a case of its own.
 */
export type ComplaintWorkflowInput =
  ComplaintInput | { resume: CaseState; continueAsNewAfterEvents?: number; unlink?: Unlink; writePath?: typeof LEAN_START };

/** The outcome a finished (archived) case returns. */
export interface ComplaintOutcome {
  caseId: string;
  closure?: Closure;
  mergedInto?: string;
  events: number;
}

/** The workflow's signature, for starting it by type name without importing its implementation. */
export type ComplaintWorkflow = (input: ComplaintWorkflowInput) => Promise<ComplaintOutcome>;
