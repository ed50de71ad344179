import type { RateSet } from './rates';

/**
 * Report periods and the report document: the JSON that db/reports.ts builds, the `reports` table
 * stores, and api/report-html.ts and api/report-csv.ts render. Periods are local calendar months
 * and quarters at a fixed UTC offset (the policy calendar's, China Standard Time by default).
 * Pure: used in workflows too.
 */

export const periodKinds = ['monthly', 'quarterly'] as const;
export type PeriodKind = (typeof periodKinds)[number];

export interface Period {
  kind: PeriodKind;
  /** "2026-03" (monthly) or "2026-Q1" (quarterly). */
  label: string;
  year: number;
  /** Month 1-12 (monthly) or quarter 1-4 (quarterly). */
  index: number;
  /** First instant (epoch ms), inclusive. */
  from: number;
  /** First instant after the period (epoch ms), exclusive. */
  to: number;
  utcOffsetMinutes: number;
}

const MINUTE = 60_000;

/** Epoch ms of local midnight starting the given month (months may overflow: 13 is next January). */
function localMonthStart(year: number, month: number, utcOffsetMinutes: number): number {
  return Date.UTC(year, month - 1, 1) - utcOffsetMinutes * MINUTE;
}

export function monthPeriod(year: number, month: number, utcOffsetMinutes: number): Period {
  const y = year + Math.floor((month - 1) / 12);
  const m = ((((month - 1) % 12) + 12) % 12) + 1;
  return {
    kind: 'monthly',
    label: `${y}-${String(m).padStart(2, '0')}`,
    year: y,
    index: m,
    from: localMonthStart(y, m, utcOffsetMinutes),
    to: localMonthStart(y, m + 1, utcOffsetMinutes),
    utcOffsetMinutes,
  };
}

export function quarterPeriod(year: number, quarter: number, utcOffsetMinutes: number): Period {
  const y = year + Math.floor((quarter - 1) / 4);
  const q = ((((quarter - 1) % 4) + 4) % 4) + 1;
  const firstMonth = (q - 1) * 3 + 1;
  return {
    kind: 'quarterly',
    label: `${y}-Q${q}`,
    year: y,
    index: q,
    from: localMonthStart(y, firstMonth, utcOffsetMinutes),
    to: localMonthStart(y, firstMonth + 3, utcOffsetMinutes),
    utcOffsetMinutes,
  };
}

const MONTH_LABEL = /^(\d{4})-(0[1-9]|1[0-2])$/;
const QUARTER_LABEL = /^(\d{4})-Q([1-4])$/;

/** The period a label names, or undefined when the label does not fit the kind. */
export function parsePeriod(kind: PeriodKind, label: string, utcOffsetMinutes: number): Period | undefined {
  const m = (kind === 'monthly' ? MONTH_LABEL : QUARTER_LABEL).exec(label);
  if (!m) return undefined;
  const [year, index] = [Number(m[1]), Number(m[2])];
  return kind === 'monthly' ? monthPeriod(year, index, utcOffsetMinutes) : quarterPeriod(year, index, utcOffsetMinutes);
}

/** The period that contains the instant. */
export function periodContaining(kind: PeriodKind, atMs: number, utcOffsetMinutes: number): Period {
  const local = new Date(atMs + utcOffsetMinutes * MINUTE);
  const year = local.getUTCFullYear();
  const month = local.getUTCMonth() + 1;
  return kind === 'monthly' ? monthPeriod(year, month, utcOffsetMinutes) : quarterPeriod(year, Math.ceil(month / 3), utcOffsetMinutes);
}

/** The last complete period before the instant: what a scheduled run on the 1st reports on. */
export function lastCompletePeriod(kind: PeriodKind, atMs: number, utcOffsetMinutes: number): Period {
  return previousPeriod(periodContaining(kind, atMs, utcOffsetMinutes));
}

export function previousPeriod(p: Period): Period {
  return p.kind === 'monthly'
    ? monthPeriod(p.year, p.index - 1, p.utcOffsetMinutes)
    : quarterPeriod(p.year, p.index - 1, p.utcOffsetMinutes);
}

export function samePeriodLastYear(p: Period): Period {
  return p.kind === 'monthly'
    ? monthPeriod(p.year - 1, p.index, p.utcOffsetMinutes)
    : quarterPeriod(p.year - 1, p.index, p.utcOffsetMinutes);
}

const DAY = 86_400_000;

/** An interval of instants (epoch ms): from inclusive, to exclusive. */
export interface Span {
  from: number;
  to: number;
}

/**
 * How far the period has run at the instant: the whole period once it is over; while it runs, from
 * its start to the instant (a partial period); before it starts, nothing.
 */
export function elapsedOf(p: Period, atMs: number): Span & { partial: boolean } {
  const to = Math.max(p.from, Math.min(p.to, atMs));
  return { from: p.from, to, partial: to < p.to };
}

/**
 * The same stretch of another period, like with like: its first `lengthMs` (days 1–N of last month
 * for days 1–N of this one), never past its end (a 31st has no match in February).
 */
export function sameStretchOf(p: Period, lengthMs: number): Span {
  return { from: p.from, to: Math.min(p.to, p.from + lengthMs) };
}

/** The local days a span from a period's start covers: N of "days 1–N". */
export function daysCovered(span: Span): number {
  return Math.ceil((span.to - span.from) / DAY);
}

/** The local days of a whole period. */
export function daysOf(p: Period): number {
  return Math.round((p.to - p.from) / DAY);
}

/**
 * The months of the complaints trend, one per step so that the spacing is true to time: from the
 * first month of the same period a year before to the period's last month (13 for a month, 15 for a
 * quarter).
 */
export function historyMonths(p: Period): Period[] {
  const last = monthsOf(p).at(-1)!;
  const first = monthsOf(samePeriodLastYear(p))[0];
  const count = (last.year - first.year) * 12 + (last.index - first.index) + 1;
  return Array.from({ length: count }, (_, i) => monthPeriod(first.year, first.index + i, p.utcOffsetMinutes));
}

/** The three months of a quarter (a month is its own only month). */
export function monthsOf(p: Period): Period[] {
  if (p.kind === 'monthly') return [p];
  const first = (p.index - 1) * 3 + 1;
  return [0, 1, 2].map((i) => monthPeriod(p.year, first + i, p.utcOffsetMinutes));
}

export function reportIdFor(p: Pick<Period, 'kind' | 'label'>): string {
  return `${p.kind}-${p.label}`;
}

/** (current - previous) / previous; null when there is nothing to compare with. */
export function change(current: number, previous: number): number | null {
  return previous > 0 ? (current - previous) / previous : null;
}

/**
 * The keywords of a complaint title, each once: Latin words of at least `minLength` letters that
 * are not stopwords, and for Chinese (or any CJK) text every pair of adjacent characters.
 */
export function titleKeywords(title: string, minLength: number, stopwords: readonly string[]): string[] {
  const stop = new Set(stopwords.map((w) => w.toLowerCase()));
  const out = new Set<string>();
  for (const word of title.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? []) {
    if (/\p{Script=Han}/u.test(word)) {
      const chars = [...word].filter((ch) => /\p{Script=Han}/u.test(ch));
      for (let i = 0; i + 1 < chars.length; i++) {
        const pair = chars[i] + chars[i + 1];
        if (!stop.has(pair)) out.add(pair);
      }
    } else if (word.length >= minLength && !stop.has(word) && !/^\d+$/.test(word)) {
      out.add(word);
    }
  }
  return [...out];
}

// ---- The report document ----

export interface CountShare {
  key: string;
  /** A readable name (a division's name; categories and channels are their own names). */
  name: string;
  count: number;
  /** count / all complaints received in the period. */
  share: number;
}

export interface Hotspot {
  cell: string;
  label: string;
  /** Centre of the grid cell. */
  lat: number;
  lon: number;
  count: number;
  share: number;
  /** The most frequent category in the cell (ties: alphabetical). */
  topCategory: string;
  topCategoryCount: number;
  /** The division with most of the cell's complaints. */
  divisionCode: string;
  divisionName: string;
}

export interface Conflict {
  category: string;
  divisionCode: string;
  divisionName: string;
  count: number;
  share: number;
}

export interface ChangeRow {
  key: string;
  name: string;
  count: number;
  previous: number;
  lastYear: number;
  /** Month on month (or quarter on quarter); null when the previous period had none. */
  change: number | null;
  /** Year on year; null when the same period last year had none. */
  yearOnYear: number | null;
}

export interface KeyProblem extends ChangeRow {
  /** Grew by at least the policy's `risingAt` over the previous period. */
  rising: boolean;
}

export interface RateRow extends RateSet {
  key: string;
  name: string;
}

/** A month of the complaints trend; `partial` while it runs (its counts are so far). */
export interface HistoryPoint {
  label: string;
  received: number;
  byCategory: Record<string, number>;
  partial: boolean;
}

/** A period compared with, over the same stretch as the report's period (the whole of it once that is over). */
export interface ComparedPeriod {
  label: string;
  received: number;
  /** The stretch compared (ISO instants): the period's first days when the report's period is partial. */
  from: string;
  to: string;
}

export interface TrendPoint {
  label: string;
  received: number;
  byCategory: Record<string, number>;
  rates: RateSet;
}

export interface ReportDocument {
  id: string;
  kind: PeriodKind;
  period: {
    label: string;
    from: string;
    to: string;
    utcOffsetMinutes: number;
    /** The period was still running when the report was built: its figures are so far, up to `through`. */
    partial: boolean;
    /** The end of what the figures cover: `to`, or the build time of a partial period. */
    through: string;
  };
  generatedAt: string;
  policyVersion: string;
  totals: {
    received: number;
    /** Complaints with a location (those on the hotspot map). */
    located: number;
    /** Complaints linked to an open case as duplicates, or merged into a reopened one. */
    merged: number;
    accepted: number;
    completed: number;
    callbacksAnswered: number;
    spotChecked: number;
    /** Early warnings raised in the period. */
    warnings: number;
  };
  byCategory: CountShare[];
  /** Cities, every one with complaints. */
  byCity: CountShare[];
  /** Districts and counties, every one with complaints. */
  byDivision: CountShare[];
  byChannel: CountShare[];
  /** The main points of conflict. */
  conflicts: { pairs: Conflict[]; keywords: Array<{ word: string; count: number }> };
  hotspots: { cellSizeDegrees: number; cells: Hotspot[]; divisions: CountShare[] };
  /** Key areas (hotspot cells), key problems (categories, rising ones flagged), key regions (cities). */
  key: { areas: Hotspot[]; problems: KeyProblem[]; regions: CountShare[] };
  /**
   * Every change compares like with like: for a partial period, the same first days of the previous
   * period and of the same period a year before (`from`..`to` of each).
   */
  change: {
    previous: ComparedPeriod;
    lastYear: ComparedPeriod;
    /** Month on month (quarter on quarter for a quarterly report). */
    received: number | null;
    yearOnYear: number | null;
    byCategory: ChangeRow[];
    byCity: ChangeRow[];
  };
  rates: {
    overall: RateSet;
    /** The previous period, over the same stretch as `change.previous`. */
    previous: RateSet;
    byCity: RateRow[];
    byUnit: RateRow[];
    byCategory: RateRow[];
  };
  /** Quarterly: the quarter's months in order. Monthly: the month alone. */
  trend: TrendPoint[];
  /** Complaints per month from the same period a year before to this one (historyMonths). */
  history: HistoryPoint[];
}
