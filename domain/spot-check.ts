import type { Reopen } from './case';
import { deskCheckSeed, reInspectionSeed } from './sampling';
import type { InspectionFinding } from './supervision';
import {
  localDayPeriod,
  nextDate,
  nextQuarter,
  previousLocalDate,
  previousQuarter,
  quarterPeriod,
  type Period,
} from './supervision-periods';

/**
 * Spot checks: the daily desk check and the quarterly on-site re-inspection. Both draw a seeded,
 * stratified share of each division's cases closed in a period (the sampling frame), store the draw
 * with its frame so that anyone can re-run it, give each drawn case to someone who did not handle
 * it, and record what was found. They differ only where the domain says they do: the frame (a
 * day, a quarter), the rate (the policy's share), who checks (a reviewer at the desk, an inspector
 * on site) and what a finding does (a return to the unit; a reopening with escalation,
 * accountability and publication). Pure; safe in workflows.
 */

export const spotCheckKinds = ['desk_check', 're_inspection'] as const;
export type SpotCheckKind = (typeof spotCheckKinds)[number];

/** What sets one kind of spot check apart from the other. */
export interface SpotCheckKindSpec {
  kind: SpotCheckKind;
  /** How messages name one: "desk check", "re-inspection". */
  name: string;
  /** The hyphenated name, in Schedule ids and paths. */
  slug: string;
  /** The period, half-open, in epoch ms. */
  periodOf(id: string, utcOffsetMinutes: number): Period;
  nextPeriod(id: string): string;
  /** The period a run at `epochMs` checks: the one before the period it falls in. */
  periodCheckedAt(epochMs: number, utcOffsetMinutes: number): string;
  /** The draw's public seed, derived from the period alone. */
  seed(id: string): string;
}

export const deskCheckKind: SpotCheckKindSpec = {
  kind: 'desk_check',
  name: 'desk check',
  slug: 'desk-check',
  periodOf: localDayPeriod,
  nextPeriod: nextDate,
  periodCheckedAt: previousLocalDate,
  seed: deskCheckSeed,
};

export const reInspectionKind: SpotCheckKindSpec = {
  kind: 're_inspection',
  name: 're-inspection',
  slug: 're-inspection',
  periodOf: quarterPeriod,
  nextPeriod: nextQuarter,
  periodCheckedAt: previousQuarter,
  seed: reInspectionSeed,
};

export const spotCheckKindOf: Record<SpotCheckKind, SpotCheckKindSpec> = { desk_check: deskCheckKind, re_inspection: reInspectionKind };

// ---- Schedules ----

/** The ids of the Schedules that start the runs (worker/schedules.ts); tests use their own prefix. */
export function scheduleIds(prefix = 'ecoloop'): Record<SpotCheckKind, string> {
  return { desk_check: `${prefix}-${deskCheckKind.slug}`, re_inspection: `${prefix}-${reInspectionKind.slug}` };
}

/**
 * The Schedule backfill window that re-runs the checks of the periods `from`..`to`, inclusive: the
 * period after each is when its scheduled run falls, and that run checks the one before. Assumes
 * the policy's cron fires once per period.
 */
export function backfillWindow(kind: SpotCheckKind, from: string, to: string, utcOffsetMinutes: number): { start: Date; end: Date } {
  const spec = spotCheckKindOf[kind];
  const start = spec.periodOf(spec.nextPeriod(from), utcOffsetMinutes).from;
  const end = spec.periodOf(spec.nextPeriod(to), utcOffsetMinutes).to;
  if (end <= start) throw new RangeError(`${from} is after ${to}`);
  return { start: new Date(start), end: new Date(end) };
}

// ---- The draw ----

/** The rules of one draw, taken from the policy by the workflow. */
export interface DrawRules {
  /** The draw's id: the period it samples. */
  id: string;
  seed: string;
  /** The sampled period, epoch ms, half-open. */
  from: number;
  to: number;
  share: number;
  minPerDivision: number;
  closures: string[];
  policyVersion: string;
  workflowId: string;
}

/** One case of the sampling frame. */
export interface FrameCase {
  id: string;
  divisionCode: string;
}

/** A case of the frame with its handling unit, as the draw stores it with each drawn case. */
export interface ClosedCase extends FrameCase {
  unitId: string | null;
}

/** What every draw answers with, besides its items. */
export interface DrawHead {
  id: string;
  seed: string;
  /** Cases in the sampling frame. */
  population: number;
}

// ---- Desk checks ----

export interface DeskCheckItem {
  caseId: string;
  divisionCode: string;
  unitId: string | null;
  reviewerId: string | null;
  result: 'compliant' | 'non_compliant' | 'missed' | null;
  finding: string | null;
  reviewedBy: string | null;
  reviewedAt: number | null;
  returnOutcome: ReopenOutcome['outcome'] | null;
}

export interface DeskCheckDraw extends DrawHead {
  reviewDueAt: number;
  items: DeskCheckItem[];
}

export interface DeskReviewRecord {
  deskCheckId: string;
  caseId: string;
  result: 'compliant' | 'non_compliant';
  finding?: string;
  reviewedBy: string;
  reviewedAt: number;
}

export interface DeskReturnRecord {
  deskCheckId: string;
  caseId: string;
  outcome: ReopenOutcome;
}

// ---- Re-inspections ----

export interface InspectionItem {
  inspectionId: string;
  caseId: string;
  divisionCode: string;
  unitId: string | null;
  inspectorId: string | null;
  status: 'unassigned' | 'assigned' | 'in_progress' | 'overdue' | 'done';
  finding: InspectionFinding | null;
}

export interface ReInspectionDraw extends DrawHead {
  inspections: InspectionItem[];
}

export interface InspectionStart {
  inspectionId: string;
  workflowId: string;
  startedAt: number;
  dueAt: number;
}

/** Who an inspection's notices go to. */
export interface InspectionRef {
  inspectionId: string;
  caseId: string;
  divisionCode: string;
  inspectorId: string;
}

export interface FindingRecord {
  inspectionId: string;
  caseId: string;
  unitId: string | null;
  finding: InspectionFinding;
  note?: string;
  responsiblePerson?: string;
  foundBy: string;
  foundAt: number;
}

export interface PublicationRecord {
  inspectionId: string;
  publishedAt: number;
  reopen?: ReopenOutcome;
}

// ---- What a finding does: the case goes back to its unit ----

export interface ReopenInput {
  caseId: string;
  /** Derived from the check or inspection: a retried activity sends the same update, which Temporal applies once. */
  updateId: string;
  reopen: Reopen;
}

export interface ReopenOutcome {
  outcome: 'reopened' | 'not_reopenable';
  detail?: string;
  status?: string;
  escalationLevel?: number;
  reopenCount?: number;
  rectificationDueAt?: string;
}
