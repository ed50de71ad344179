import type { Pool } from 'pg';
import { buildReport, storeReport } from '../db/reports';
import { recordWarning, type WarningRecord } from '../db/warnings';
import { defaultPolicy, type Policy } from '../domain/policy';
import { lastCompletePeriod, parsePeriod, type PeriodKind } from '../domain/report';
import type { GeneratedReport } from '../workflows/contracts/monthly-report';

/**
 * Activities of the analysis: build and store a report (workflows/monthly-report.ts), record an
 * early warning and notify it through the outbox (workflows/warning-watcher.ts).
 */

export interface AnalysisDeps {
  /** The policy in force (POLICY_FILE); the defaults when not given. */
  policy?: () => Policy;
}

export interface GenerateReportInput {
  kind: PeriodKind;
  /** "2026-03" or "2026-Q1"; unset: the last complete period before `asOf`. */
  period?: string;
  /** The workflow's time when it started (epoch ms). */
  asOf: number;
}

export function analysisActivities(pool: Pool, deps: AnalysisDeps = {}) {
  const policy = () => deps.policy?.() ?? defaultPolicy;
  return {
    /** Build the report from the projection and store it (replacing an earlier one of the same period). */
    async generateReport(input: GenerateReportInput): Promise<GeneratedReport> {
      const p = policy();
      const offset = p.calendar.utcOffsetMinutes;
      const period = input.period ? parsePeriod(input.kind, input.period, offset) : lastCompletePeriod(input.kind, input.asOf, offset);
      if (!period) throw new Error(`'${input.period}' is not a ${input.kind} period`);
      const report = await buildReport(pool, period, p);
      await storeReport(pool, report);
      return { reportId: report.id, period: period.label, received: report.totals.received };
    },

    /**
     * Store a warning (or add the complaints that joined its episode) and enqueue its notifications,
     * in one transaction. Keyed by the warning id and the recipient: retries notify no one twice.
     */
    async recordWarning(warning: WarningRecord): Promise<{ created: boolean; notified: string[] }> {
      return recordWarning(pool, warning);
    },
  };
}
