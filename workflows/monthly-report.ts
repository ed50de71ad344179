import { log, proxyActivities } from '@temporalio/workflow';
import type { createActivities } from '../activities';
import type { ReportWorkflow, ReportWorkflowInput } from './contracts/monthly-report';

const { generateReport } = proxyActivities<ReturnType<typeof createActivities>>({
  // A report reads a month (or a quarter) of the projection: seconds, even at a million cases.
  startToCloseTimeout: '5 minutes',
  retry: { initialInterval: '10 seconds', backoffCoefficient: 2, maximumInterval: '10 minutes', maximumAttempts: 10 },
  summary: 'generate and store the report',
});

/**
 * The monthly or quarterly analysis report. Started by its Schedule (worker/report-schedules.ts) on
 * the first of the month, when it reports on the month (or quarter) just ended; or on demand for a
 * given period (POST /v1/reports). Storing replaces an earlier report of the same period, so a
 * retried or repeated run leaves one report.
 */
export async function reportWorkflow(input: ReportWorkflowInput): ReturnType<ReportWorkflow> {
  const report = await generateReport({ kind: input.kind, period: input.period, asOf: Date.now() });
  log.info('report generated', { ...report });
  return report;
}
