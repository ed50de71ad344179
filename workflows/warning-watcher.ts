import {
  allHandlersFinished,
  condition,
  continueAsNew,
  log,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { createActivities } from '../activities';
import {
  complaintReceivedSignal,
  watcherStateQuery,
  type WarningWatcherInput,
  type WarningWatcherWorkflow,
} from './contracts/warning-watcher';
import {
  admit,
  measure,
  nextExpiry,
  prune,
  shouldRaise,
  warningIdFor,
  type WatchedComplaint,
  type WindowState,
} from '../domain/warning-window';
import { detailLines, warningWatcherSummary } from '../domain/workflow-summaries';

const { recordWarning } = proxyActivities<ReturnType<typeof createActivities>>({
  // A warning must not be lost to a database outage: retried until it is stored and notified.
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
  summary: 'record the warning and notify',
});

/**
 * One durable early-warning watcher per area (a grid cell or a site) and category: a sliding window
 * over the complaints registered there (domain/warning-window.ts). The moment the window reaches
 * the threshold, one warning is stored and notified; complaints that follow join that warning,
 * and the watcher re-arms only once the window is empty. A complaint counts once, however often it
 * is signalled. The watcher ends when its window is empty and starts again with the next complaint;
 * a long-lived one continues as new, carrying its window.
 */
export async function warningWatcherWorkflow(input: WarningWatcherInput): ReturnType<WarningWatcherWorkflow> {
  const { kind, rule } = input;
  const watcherId = workflowInfo().workflowId;
  let state: WindowState = input.window ?? { entries: [] };
  let raised = 0;
  const inbox: WatchedComplaint[] = [];

  setHandler(complaintReceivedSignal, (c) => void inbox.push(c));
  setHandler(watcherStateQuery, () => ({
    entries: state.entries.length,
    measure: measure(state, kind),
    threshold: rule.threshold,
    active: state.active,
    warningsRaised: raised,
  }));

  async function take(c: WatchedComplaint): Promise<void> {
    const now = Date.now();
    const { state: next, admission } = admit(state, c, now, rule);
    state = next;
    if (admission !== 'counted') {
      log.info('complaint not counted', { caseId: c.caseId, admission });
      return;
    }
    const raising = shouldRaise(state, kind, rule);
    if (raising) state = { ...state, active: { warningId: warningIdFor(kind, c.caseId), raisedAt: now, triggerCaseId: c.caseId } };
    if (!state.active) return;
    // A new warning, or a complaint joining the episode's warning (which adds it, and notifies nobody twice).
    await recordWarning({
      warningId: state.active.warningId,
      kind,
      category: input.category,
      area: input.area,
      divisionCodes: state.entries.map((e) => e.divisionCode),
      threshold: rule.threshold,
      rule,
      measure: measure(state, kind),
      triggerCaseId: state.active.triggerCaseId,
      caseIds: state.entries.map((e) => e.caseId),
      firstCaseAt: state.entries[0].at,
      lastCaseAt: state.entries[state.entries.length - 1].at,
      raisedAt: state.active.raisedAt,
      watcherId,
    });
    if (raising) {
      raised++;
      log.info('early warning raised', { warningId: state.active.warningId, measure: measure(state, kind) });
    }
  }

  function shouldContinueAsNew(): boolean {
    const info = workflowInfo();
    return (
      info.continueAsNewSuggested || (input.continueAsNewAfterEvents !== undefined && info.historyLength >= input.continueAsNewAfterEvents)
    );
  }

  for (;;) {
    while (inbox.length) await take(inbox.shift()!);
    state = prune(state, Date.now(), rule);
    if (!state.entries.length && !state.active) break;
    if (shouldContinueAsNew()) {
      await condition(allHandlersFinished);
      if (!inbox.length) {
        await continueAsNew<typeof warningWatcherWorkflow>({ ...input, window: state });
      }
      continue;
    }
    const wakeAt = nextExpiry(state, rule)!;
    setCurrentDetails(
      detailLines(
        [
          ['In the window', `${state.entries.length} complaints (measure ${measure(state, kind)} of threshold ${rule.threshold})`],
          ['Warning', state.active ? `${state.active.warningId} raised ${new Date(state.active.raisedAt).toISOString()}` : 'none active'],
          ['Warnings raised', raised],
        ],
        warningWatcherSummary(input),
      ),
    );
    await condition(() => inbox.length > 0, Math.max(1, wakeAt - Date.now()), { summary: 'the oldest complaint leaves the window' });
  }
  // Idle: the window is empty and no warning is pending. The next complaint starts a new run.
  return { warningsRaised: raised };
}
