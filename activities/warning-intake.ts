import { createHash } from 'node:crypto';
import type { Client } from '@temporalio/client';
import type { AnalysisPolicy } from '../domain/analysis-policy';
import type { Intake } from '../domain/case';
import { cellLabel, gridCell } from '../domain/hotspots';
import type { WatchedComplaint } from '../domain/warning-window';
import {
  WARNING_WATCHER_WORKFLOW,
  complaintReceivedSignal,
  watcherIdFor,
  type WarningWatcherInput,
  type WarningWatcherWorkflow,
} from '../workflows/contracts/warning-watcher';
import { warningWatcherSummary } from '../domain/workflow-summaries';

/**
 * Feeds a registered complaint to its early-warning watchers (workflows/warning-watcher.ts) by
 * signal-with-start: the watcher of its grid cell and category (many people), and, when the
 * complaint names a site or enterprise, the watcher of that site and category (repeated
 * complaints). The projection does it (activities/index.ts) once the case's registration is in the
 * read model, so registering costs the API no more than the case's own workflow start. Safe to
 * repeat under retries: a watcher counts a case once.
 */

export interface WarningIntakeDeps {
  client: Client;
  analysis: AnalysisPolicy;
  /** The watchers' task queue: the worker's own. */
  taskQueue: string;
}

export interface RegisteredComplaint {
  caseId: string;
  receivedAt: number;
  category: Intake['category'];
  divisionCode: string;
  location: Intake['location'];
  /** Absent when the projection did not carry it (the case then counts as one person). */
  reporter?: Intake['reporter'];
}

/**
 * A pseudonym of the complainant, so that one person complaining twice counts once among "many
 * people", without their phone or e-mail in the watcher's history. Anonymous: none.
 */
export function complainantKey(reporter: Intake['reporter']): string | undefined {
  if (reporter.anonymous) return undefined;
  const contact = reporter.phone?.replace(/\D/g, '') || reporter.email?.trim().toLowerCase();
  if (!contact) return undefined;
  return createHash('sha256').update(`ecoloop-complainant:${contact}`).digest('hex').slice(0, 24);
}

/** The watchers a complaint feeds, with their start input. */
export function watchersFor(c: RegisteredComplaint, analysis: AnalysisPolicy): Array<{ workflowId: string; input: WarningWatcherInput }> {
  const { lat, lon, siteId, address } = c.location;
  const category = c.category;
  const out: Array<{ workflowId: string; input: WarningWatcherInput }> = [];
  if (lat !== undefined && lon !== undefined) {
    const cell = gridCell(lat, lon, analysis.hotspots.cellSizeDegrees);
    const area = { kind: 'cell' as const, key: cell.key, label: cellLabel(cell), lat: cell.lat, lon: cell.lon };
    out.push({
      workflowId: watcherIdFor('many_people', category, area),
      input: { kind: 'many_people', category, area, rule: analysis.warning.manyPeople },
    });
  }
  if (siteId) {
    const area = { kind: 'site' as const, key: siteId, label: address ? `${siteId} (${address})` : siteId, lat, lon };
    out.push({
      workflowId: watcherIdFor('repeated', category, area),
      input: { kind: 'repeated', category, area, rule: analysis.warning.repeated },
    });
  }
  return out;
}

export async function feedWarningWatchers(deps: WarningIntakeDeps, c: RegisteredComplaint): Promise<void> {
  const key = c.reporter && complainantKey(c.reporter);
  const complaint: WatchedComplaint = {
    caseId: c.caseId,
    at: c.receivedAt,
    divisionCode: c.divisionCode,
    ...(key && { complainantKey: key }),
  };
  for (const w of watchersFor(c, deps.analysis)) {
    await deps.client.workflow.signalWithStart<WarningWatcherWorkflow, [WatchedComplaint]>(WARNING_WATCHER_WORKFLOW, {
      taskQueue: deps.taskQueue,
      workflowId: w.workflowId,
      args: [w.input],
      staticSummary: warningWatcherSummary(w.input),
      signal: complaintReceivedSignal,
      signalArgs: [complaint],
    });
  }
}
