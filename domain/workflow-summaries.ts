import { escalationLevels, type CaseEvent, type CaseState, type ClockKind, type ComplaintInput } from './case';
import type { Trigger } from './deadlines';
import { iso } from './instant';

/**
 * What the Temporal UI shows of a workflow, so that an operator reads a case, not ids: the static
 * summary and details given when a workflow starts (the workflow list shows the summary), the
 * current details a running workflow keeps up to date, and the summaries of its timers and
 * activities (the timeline). Pure text from state; the workflows and the start sites call it.
 *
 * None of it ever names the reporter: only the case number, category, division, title, status,
 * unit, deadlines and escalation. Like every payload it goes through the codec.
 */

/** What a workflow start carries for the UI (`WorkflowStartOptions.staticSummary` / `staticDetails`). */
export interface StartMetadata {
  staticSummary: string;
  staticDetails?: string;
}

const CLOCK_NAMES: Record<ClockKind, string> = {
  supplement: 'supplement',
  accept: 'acceptance',
  handle: 'handling',
  rework: 'rework',
  callback: 'callback',
  review: 'review',
};

/** The name of a running clock's deadline, e.g. "acceptance deadline". */
export function deadlineName(kind: ClockKind): string {
  return `${CLOCK_NAMES[kind]} deadline`;
}

const LADDER_NAMES = ['', 'escalation to supervision', 'escalation to the city', 'escalation to the province'] as const;

// ---- Complaints ----

/** One line for the workflow list: case number, category and division. */
export function complaintSummary(c: { caseId: string; category: string; divisionCode: string }): string {
  return `Case ${c.caseId} · ${c.category.replace(/_/g, ' ')} · division ${c.divisionCode}`;
}

/** The start metadata of a complaint workflow: the summary, and the title, channel and urgency as details. */
export function complaintStartMetadata(input: Pick<ComplaintInput, 'caseId' | 'intake'>): StartMetadata {
  const { intake } = input;
  return {
    staticSummary: complaintSummary({ caseId: input.caseId, category: intake.category, divisionCode: intake.divisionCode }),
    staticDetails: [`**${oneLine(intake.title)}**`, `channel ${intake.channel} · urgency ${intake.urgency}`].join('\n\n'),
  };
}

/**
 * The current details of a complaint (Temporal markdown): status, unit, the running deadline with
 * its kind and due time, and the escalation level. Kept up to date by the workflow after every change.
 * They open with the summary line: a run continued as new has no static summary (the
 * continue-as-new command carries no user metadata), and still reads as the case.
 */
export function complaintDetails(s: CaseState): string {
  const lines = [
    complaintSummary({ caseId: s.caseId, category: s.intake.category, divisionCode: s.intake.divisionCode }),
    `**Status:** ${s.status.replace(/_/g, ' ')}${s.closure ? ` (${s.closure.replace(/_/g, ' ')})` : ''}`,
  ];
  lines.push(`**Unit:** ${s.unitId ?? 'none yet'}`);
  if (s.clock) {
    const overdue = s.clock.overdueSteps > 0 ? ', overdue' : s.clock.warned ? ', warned' : '';
    lines.push(`**Deadline:** ${deadlineName(s.clock.kind)} due ${iso(s.clock.dueAt)}${overdue}`);
  } else {
    lines.push('**Deadline:** none running');
  }
  lines.push(`**Escalation:** ${escalationLevels[s.escalationLevel] ?? s.escalationLevel} (level ${s.escalationLevel})`);
  if (s.mergedInto) lines.push(`**Merged into:** case ${s.mergedInto}`);
  if (s.status === 'closed' && s.monitoringUntil !== undefined) lines.push(`**Monitored until:** ${iso(s.monitoringUntil)}`);
  return lines.join('\n\n');
}

/** The summary of the timer a complaint waits on: what happens when it fires. */
export function complaintTimerSummary(s: Pick<CaseState, 'clock'>, t: Trigger): string {
  const clock = s.clock ? deadlineName(s.clock.kind) : 'deadline';
  switch (t.kind) {
    case 'warning':
      return `warning before the ${clock}`;
    case 'due':
      return clock;
    case 'ladder':
      // The first step falls at the deadline itself (or the supervision delay after it).
      return t.step === 1 ? `${clock}: ${LADDER_NAMES[1]}` : `${LADDER_NAMES[t.step ?? 0] ?? 'escalation'} (${clock} passed)`;
    case 'archive':
      return 'end of monitoring: archive';
  }
}

/** The summary of one projection of a complaint's events, e.g. "project events 5–7". */
export function projectionSummary(events: Pick<CaseEvent, 'seq'>[]): string {
  if (!events.length) return 'project the case';
  const first = events[0].seq;
  const last = events[events.length - 1].seq;
  return first === last ? `project event ${first}` : `project events ${first}–${last}`;
}

// ---- The other workflows ----

/** A daily desk check (a spot check of closed cases). */
export function deskCheckSummary(date: string): string {
  return `Desk check of ${date}`;
}

/** A quarterly on-site re-inspection draw. */
export function reInspectionSummary(quarter: string): string {
  return `On-site re-inspection of ${quarter}`;
}

/** The desk check and re-inspection runs of the supervision Schedules (their day or quarter is decided by the run). */
export const SCHEDULED_SUPERVISION_SUMMARIES = {
  desk_check: 'Daily desk check of the cases closed the day before',
  re_inspection: 'Quarterly on-site re-inspection of the cases closed the quarter before',
} as const;

/** One on-site inspection of a case (a child of the re-inspection). */
export function inspectionSummary(i: { quarter: string; caseId: string; divisionCode: string; inspectorId: string }): string {
  return `Inspection of case ${i.caseId} · ${i.quarter} · division ${i.divisionCode} · inspector ${i.inspectorId}`;
}

/** The reward for one report. The payee is never named: the workflow knows only an opaque reference. */
export function rewardSummary(caseId: string): string {
  return `Reward for case ${caseId}`;
}

/** A campaign against a recurring problem. */
export function campaignSummary(c: { campaignId: string; name: string; categories?: readonly string[] }): string {
  const categories = c.categories?.length ? ` · ${c.categories.join(', ').replace(/_/g, ' ')}` : '';
  return `Campaign ${c.campaignId}: ${oneLine(c.name)}${categories}`;
}

/** A monthly or quarterly analysis report; the period is decided by the run when the Schedule starts it. */
export function reportSummary(kind: string, period?: string): string {
  return period
    ? `${kind === 'monthly' ? 'Monthly' : 'Quarterly'} report ${period}`
    : `${kind === 'monthly' ? 'Monthly' : 'Quarterly'} report of the period just ended`;
}

/** A backlog sweep (the daily scan or the yearly sort). */
export function backlogSweepSummary(kind: 'scan' | 'yearly', day?: string): string {
  const what = kind === 'scan' ? 'Backlog scan' : 'Backlog yearly sort';
  return day ? `${what} of ${day}` : what;
}

/** One backlog listing of a case. */
export function backlogCaseSummary(caseId: string, year: number): string {
  return `Backlog listing of case ${caseId} (${year})`;
}

/** An early-warning watcher over an area and a category. */
export function warningWatcherSummary(w: { kind: string; category: string; area: { kind: string; key: string } }): string {
  return `Warning watcher (${w.kind.replace(/_/g, ' ')}) · ${w.category.replace(/_/g, ' ')} · ${w.area.kind} ${w.area.key}`;
}

/**
 * Current details as Temporal markdown, one "**label:** value" paragraph per field given a value
 * (undefined and empty values are left out): what every workflow but the complaint shows. A
 * workflow that continues as new opens them with its summary line (`headline`), which the new run
 * has no other way to show.
 */
export function detailLines(
  fields: ReadonlyArray<readonly [label: string, value: string | number | undefined]>,
  headline?: string,
): string {
  const lines = fields.filter(([, value]) => value !== undefined && value !== '').map(([label, value]) => `**${label}:** ${value}`);
  return (headline ? [headline, ...lines] : lines).join('\n\n');
}

/** A single line: markdown-neutral, at most 120 characters. */
function oneLine(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > 120 ? `${flat.slice(0, 119)}…` : flat;
}
