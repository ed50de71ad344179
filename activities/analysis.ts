import type { Pool } from 'pg';
import { buildReport, storeReport, upsertWarning, type WarningRecord } from '../db/analysis';
import { defaultPolicy, type Policy } from '../domain/policy';
import { lastCompletePeriod, parsePeriod, type PeriodKind } from '../domain/report';
import { warningRecipients } from '../domain/warning-window';

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

export interface GeneratedReport {
  reportId: string;
  period: string;
  received: number;
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
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        const created = await upsertWarning(client, warning);
        const units = await client.query<{ unit_id: string }>(
          `SELECT DISTINCT unit_id FROM cases WHERE case_id = ANY($1) AND unit_id IS NOT NULL`,
          [warning.caseIds],
        );
        const recipients = warningRecipients(warning.divisionCodes, units.rows.map((r) => r.unit_id));
        const payload = JSON.stringify({
          warningId: warning.warningId,
          kind: warning.kind,
          category: warning.category,
          area: warning.area,
          threshold: warning.threshold,
          rule: warning.rule,
          measure: warning.measure,
          caseIds: warning.caseIds,
          raisedAt: new Date(warning.raisedAt).toISOString(),
        });
        const notified: string[] = [];
        for (const recipient of recipients) {
          const res = await client.query(
            `INSERT INTO outbox (idempotency_key, case_id, event_seq, event_type, recipient, payload)
             VALUES ($1, $2, 0, 'early_warning', $3, $4) ON CONFLICT (idempotency_key) DO NOTHING`,
            [`${warning.warningId}:${recipient}`, warning.triggerCaseId, recipient, payload],
          );
          if (res.rowCount) notified.push(recipient);
        }
        await client.query('COMMIT');
        return { created, notified };
      } catch (err) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw err;
      } finally {
        client.release();
      }
    },
  };
}
