import type { WarningRule } from './analysis-policy';
import { durationMs } from './calendar';

/**
 * The sliding window of one early-warning watcher (workflows/warning-watcher.ts): pure functions of
 * plain JSON state, so the workflow stays deterministic and the state survives continue-as-new.
 *
 * The window holds the complaints received within `rule.window` before now (by their receipt time).
 * A warning is raised when the window first holds `rule.threshold` of them; it stays the episode's
 * one warning, however many complaints follow, until the window is empty again (re-armed).
 */

/** many_people: distinct complainants in one grid cell; repeated: complaints about one site or enterprise. */
export const warningKinds = ['many_people', 'repeated'] as const;
export type WarningKind = (typeof warningKinds)[number];

export interface WatchedComplaint {
  caseId: string;
  /** When the complaint was received (epoch ms). */
  at: number;
  divisionCode: string;
  /** A pseudonym of the complainant (a hash of the phone or e-mail); absent when anonymous, who then count once per case. */
  complainantKey?: string;
}

export interface WindowState {
  /** The complaints in the window, oldest first. */
  entries: WatchedComplaint[];
  /** The warning of the current episode, and the complaint that raised it; cleared when the window empties. */
  active?: { warningId: string; raisedAt: number; triggerCaseId: string };
}

export type Admission = 'counted' | 'duplicate' | 'stale';

export function windowMs(rule: WarningRule): number {
  return durationMs(rule.window);
}

/** Drop complaints that left the window; an empty window re-arms the watcher. */
export function prune(state: WindowState, now: number, rule: WarningRule): WindowState {
  const since = now - windowMs(rule);
  const entries = state.entries.filter((e) => e.at > since);
  if (entries.length === state.entries.length && (entries.length > 0 || !state.active)) return state;
  return entries.length ? { ...state, entries } : { entries };
}

/** Take a complaint into the window: once per case, and only while it is inside the window. */
export function admit(
  state: WindowState,
  c: WatchedComplaint,
  now: number,
  rule: WarningRule,
): { state: WindowState; admission: Admission } {
  const pruned = prune(state, now, rule);
  if (c.at <= now - windowMs(rule)) return { state: pruned, admission: 'stale' };
  if (pruned.entries.some((e) => e.caseId === c.caseId)) return { state: pruned, admission: 'duplicate' };
  const entries = [...pruned.entries, c].sort((a, b) => a.at - b.at || (a.caseId < b.caseId ? -1 : 1));
  return { state: { ...pruned, entries }, admission: 'counted' };
}

/** What the threshold is compared with: distinct complainants (many_people) or complaints (repeated). */
export function measure(state: WindowState, kind: WarningKind): number {
  if (kind === 'repeated') return state.entries.length;
  return new Set(state.entries.map((e) => e.complainantKey ?? `case:${e.caseId}`)).size;
}

/** Whether a new warning must be raised now: the threshold is reached and this episode has none yet. */
export function shouldRaise(state: WindowState, kind: WarningKind, rule: WarningRule): boolean {
  return !state.active && measure(state, kind) >= rule.threshold;
}

/** When the oldest complaint leaves the window (the next moment the state changes by itself). */
export function nextExpiry(state: WindowState, rule: WarningRule): number | undefined {
  return state.entries.length ? state.entries[0].at + windowMs(rule) : undefined;
}

/** The warning's id: one per episode, named by its kind and the complaint that crossed the threshold. */
export function warningIdFor(kind: WarningKind, triggerCaseId: string): string {
  return `W-${kind === 'many_people' ? 'M' : 'R'}-${triggerCaseId}`;
}

/**
 * Who is told of a warning (addresses as in domain/notifications.ts): the handling units of every
 * division concerned (`units:<division>`) and any unit already handling one of its complaints
 * (`unit:<id>`), the enforcement teams (`enforcement:<division>`) and the supervisors
 * (`supervisor:<division>`).
 */
export function warningRecipients(divisionCodes: readonly string[], unitIds: readonly string[]): string[] {
  const divisions = [...new Set(divisionCodes)].sort();
  return [
    ...divisions.map((d) => `units:${d}`),
    ...[...new Set(unitIds)].sort().map((u) => `unit:${u}`),
    ...divisions.map((d) => `enforcement:${d}`),
    ...divisions.map((d) => `supervisor:${d}`),
  ];
}
