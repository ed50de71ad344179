/**
 * The early-warning watcher's contract (workflows/warning-watcher.ts): its messages, type name, id
 * function, input and output. No workflow code: activities/warning-intake.ts imports this module.
 */
import { defineQuery, defineSignal } from '@temporalio/workflow';
import type { WarningRule } from '../../domain/analysis-policy';
import type { Category } from '../../domain/policy';
import type { WarningKind, WatchedComplaint, WindowState } from '../../domain/warning-window';

/** The workflow type, as registered by the worker. */
export const WARNING_WATCHER_WORKFLOW = 'warningWatcherWorkflow';

/** From the projection of a new case (activities/warning-intake.ts, by signal-with-start): a complaint was registered here. */
export const complaintReceivedSignal = defineSignal<[WatchedComplaint]>('complaintReceived');
export const watcherStateQuery = defineQuery<WatcherView>('watcherState');

export interface WatchedArea {
  kind: 'cell' | 'site';
  /** The grid cell's key (domain/hotspots.ts) or the site's id. */
  key: string;
  label: string;
  lat?: number;
  lon?: number;
}

export interface WarningWatcherInput {
  kind: WarningKind;
  category: Category;
  area: WatchedArea;
  /** The threshold and window in force when the watcher started (policy: analysis.warning). */
  rule: WarningRule;
  /** The window carried over by continue-as-new. */
  window?: WindowState;
  /** Tests only: continue-as-new after this many history events even if the server does not suggest it. */
  continueAsNewAfterEvents?: number;
}

export interface WatcherView {
  entries: number;
  measure: number;
  threshold: number;
  active?: WindowState['active'];
  warningsRaised: number;
}

export type WarningWatcherWorkflow = (input: WarningWatcherInput) => Promise<{ warningsRaised: number }>;

export function watcherIdFor(kind: WarningKind, category: string, area: Pick<WatchedArea, 'kind' | 'key'>): string {
  return `warning-watcher:${kind}:${category}:${area.kind}:${area.key}`;
}
