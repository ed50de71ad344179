/**
 * The report workflow's contract (workflows/monthly-report.ts): its type name, id function, input
 * and output. No workflow code: the API and the worker's Schedules import this module.
 */
import type { PeriodKind } from '../../domain/report';

/** The workflow type, as registered by the worker. */
export const REPORT_WORKFLOW = 'reportWorkflow';

export interface ReportWorkflowInput {
  kind: PeriodKind;
  /** "2026-03" or "2026-Q1"; unset (a scheduled run): the last complete period. */
  period?: string;
}

/** What a run generated: the stored report's id, its period and its count of complaints received. */
export interface GeneratedReport {
  reportId: string;
  period: string;
  received: number;
}

export type ReportWorkflow = (input: ReportWorkflowInput) => Promise<GeneratedReport>;

/** The on-demand run of one report (`monthly-2026-03`): one at a time per period, a second request joins it. */
export function reportWorkflowIdFor(reportId: string): string {
  return `report-${reportId}`;
}
