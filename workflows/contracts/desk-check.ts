/**
 * The desk-check workflow's contract: its messages, type name, input and output types. No
 * workflow code: the API, the worker's Schedules and tests import this module, never
 * workflows/desk-check.ts.
 */
import { defineQuery, defineUpdate } from '@temporalio/workflow';
import type { HolidayCalendar } from '../../domain/calendar';
import type { DeskCheckItem } from '../../domain/spot-check';
import type { DeskReview } from '../../domain/supervision';
import type { DeskCheckPolicy } from '../../domain/supervision-policy';

export type { DeskCheckItem } from '../../domain/spot-check';
export { INVALID_TRANSITION } from './errors';

/** The workflow type, as registered by the worker and started by the Schedule. */
export const DESK_CHECK_WORKFLOW = 'deskCheckWorkflow';

export interface DeskCheckInput {
  /** The local day (YYYY-MM-DD) whose closed cases are checked. Default: the day before the scheduled time. */
  date?: string;
  /** The desk-check section of the policy in force (the Schedule carries it; see worker/schedules.ts). */
  policy: DeskCheckPolicy;
  calendar: HolidayCalendar;
  policyVersion: string;
}

export interface DeskCheckView {
  id: string;
  seed: string;
  /** Cases in the sampling frame (closed that day); undefined until the draw is stored. */
  population?: number;
  reviewDueAt?: string;
  completed: boolean;
  items: DeskCheckItem[];
}

export interface DeskCheckOutcome {
  id: string;
  seed: string;
  population: number;
  drawn: number;
  compliant: number;
  nonCompliant: number;
  returned: number;
  missed: number;
}

export const deskCheckQuery = defineQuery<DeskCheckView>('deskCheck');
/** A reviewer's result for one drawn case; a non-compliant one goes back to its unit. */
export const deskReviewUpdate = defineUpdate<DeskCheckItem, [DeskReview]>('deskReview');

/** The workflow's signature, for starting it by type name without importing its implementation. */
export type DeskCheckWorkflow = (input: DeskCheckInput) => Promise<DeskCheckOutcome>;
