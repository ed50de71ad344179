/**
 * The contract of the quarterly re-inspection workflow and of its child, one on-site inspection:
 * their messages, type names, id function, input and output types and error type names. No
 * workflow code: the API, the worker's Schedules and tests import this module, never
 * workflows/re-inspection.ts.
 */
import { defineQuery, defineUpdate } from '@temporalio/workflow';
import type { HolidayCalendar } from '../../domain/calendar';
import type { ReopenOutcome } from '../../domain/spot-check';
import type { InspectionFinding, InspectionFindingInput } from '../../domain/supervision';
import type { ReInspectionPolicy } from '../../domain/supervision-policy';

export type { InspectionItem, ReopenOutcome } from '../../domain/spot-check';
export { INVALID_TRANSITION } from './errors';

/** The workflow types, as registered by the worker (the quarter's started by its Schedule). */
export const RE_INSPECTION_WORKFLOW = 'reInspectionWorkflow';
export const INSPECTION_WORKFLOW = 'inspectionWorkflow';

/** A finding from someone other than the assigned inspector (HTTP 422). */
export const NOT_ASSIGNED = 'NotAssigned';

/** One inspection's workflow: unique per quarter and case, so a re-run quarter never inspects a case twice. */
export function inspectionWorkflowIdFor(quarter: string, caseId: string): string {
  return `inspection-${quarter}-${caseId}`;
}

export interface ReInspectionInput {
  /** The quarter (YYYY-Qn) whose closed cases are re-inspected. Default: the quarter before the scheduled time. */
  quarter?: string;
  /** The re-inspection section of the policy in force (the Schedule carries it; see worker/schedules.ts). */
  policy: ReInspectionPolicy;
  calendar: HolidayCalendar;
  policyVersion: string;
}

export interface ReInspectionOutcome {
  quarter: string;
  seed: string;
  population: number;
  drawn: number;
  /** Inspections this run started and saw finish (a re-run starts only those never started). */
  started: number;
  findings: Record<InspectionFinding, number>;
  /** Inspections that ended without a finding (terminated or failed). */
  failed: number;
  /** Drawn cases no inspector in the pool could take (none covers the division, or all handled it). */
  unassigned: string[];
}

export interface InspectionInput {
  inspectionId: string;
  quarter: string;
  caseId: string;
  divisionCode: string;
  unitId: string | null;
  inspectorId: string;
  policy: Pick<ReInspectionPolicy, 'inspectionDeadline' | 'remindAt' | 'rectificationDays' | 'escalate'>;
  calendar: HolidayCalendar;
}

export interface InspectionView {
  inspectionId: string;
  caseId: string;
  inspectorId: string;
  startedAt: string;
  dueAt: string;
  /** Reminders sent, each at the moment it was due. */
  reminders: Array<{ n: number; at: string }>;
  overdue: boolean;
  finding?: InspectionFindingInput & { foundAt: string };
  reopen?: ReopenOutcome;
  published: boolean;
}

export const inspectionQuery = defineQuery<InspectionView>('inspection');
/** The assigned inspector's finding. Not rectified or false report: the case is reopened and someone answers for it. */
export const recordFindingUpdate = defineUpdate<InspectionView, [InspectionFindingInput]>('recordFinding');

/** The workflows' signatures, for starting them by type name without importing their implementation. */
export type ReInspectionWorkflow = (input: ReInspectionInput) => Promise<ReInspectionOutcome>;
export type InspectionWorkflow = (input: InspectionInput) => Promise<InspectionView>;
