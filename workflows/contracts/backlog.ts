/**
 * The backlog workflows' contract (workflows/backlog.ts): the sweep and the one-listing workflow,
 * their messages, id functions, input and output types. No workflow code: the API, activities, the
 * worker's Schedules and tests import this module, never the workflows.
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { AssignLeaders, BacklogSettings, BacklogStatus, BacklogSweepKind, Leader } from '../../domain/governance';

export { backlogWorkflowId } from '../../domain/governance';
export { INVALID_TRANSITION } from './errors';

/** The workflow types, as registered by the worker. */
export const BACKLOG_SWEEP_WORKFLOW = 'backlogSweepWorkflow';
export const BACKLOG_CASE_WORKFLOW = 'backlogCaseWorkflow';

/**
 * The id of a sweep run on request (not by its Schedule): one per kind and day (`date`, YYYY-MM-DD),
 * so a repeated request finds the sweep it started instead of starting another.
 */
export function manualSweepWorkflowId(kind: BacklogSweepKind, date: string): string {
  return `backlog-${kind}-manual-${date}`;
}

export interface BacklogSweepInput {
  kind: BacklogSweepKind;
  settings: BacklogSettings;
  /** Listings started per activity batch. */
  batchSize?: number;
}

/** What a sweep did: the year it listed for, how many listings it made, re-listed and set aside, and workflows started. */
export interface BacklogSweepResult {
  year: number;
  listed: number;
  relisted: number;
  agedOut: number;
  started: number;
}

export interface BacklogCaseInput {
  caseId: string;
  year: number;
  settings: BacklogSettings;
}

/** The state a listing's workflow carries across continue-as-new. */
export interface BacklogCaseState {
  caseId: string;
  year: number;
  settings: BacklogSettings;
  status: BacklogStatus;
  listedAt: number;
  systemLeader?: Leader;
  territorialLeader?: Leader;
  assignedAt?: number;
  assignedBy?: string;
  /** Incremented by each (re)assignment; keys its notifications. */
  assignment: number;
  clearingDueAt?: number;
  assignmentReminded: boolean;
  reminded: boolean;
  nextCheckAt: number;
  clearedAt?: number;
}

export interface BacklogCaseView {
  caseId: string;
  year: number;
  status: BacklogStatus;
  systemLeader?: Leader;
  territorialLeader?: Leader;
  assignedAt?: string;
  clearingDueAt?: string;
  reminded: boolean;
  clearedAt?: string;
}

export const backlogStatusQuery = defineQuery<BacklogCaseView>('backlogStatus');
export const assignLeadersUpdate = defineUpdate<BacklogCaseView, [AssignLeaders]>('assignLeaders');
/** Check now whether the case was cleared (instead of at the next periodic check). */
export const checkBacklogSignal = defineSignal('checkBacklog');

/** The workflows' signatures, for starting them by type name without importing their implementation. */
export type BacklogSweepWorkflow = (input: BacklogSweepInput) => Promise<BacklogSweepResult>;
export type BacklogCaseWorkflow = (input: BacklogCaseInput | { resume: BacklogCaseState }) => Promise<BacklogCaseView>;
