/**
 * The periods that supervision samples: a local day (desk checks) and a quarter (re-inspections),
 * in a fixed UTC offset (the holiday calendar's, UTC+08:00 by default). Pure; safe in workflows.
 * Intervals are half-open: [from, to) in epoch milliseconds.
 */

const DAY_MS = 86_400_000;
const MINUTE_MS = 60_000;

export interface Period {
  from: number;
  to: number;
}

export function parseDate(s: string): number | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(s);
  if (!m) return undefined;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const ms = Date.UTC(y, mo - 1, d);
  const back = new Date(ms);
  if (back.getUTCFullYear() !== y || back.getUTCMonth() !== mo - 1 || back.getUTCDate() !== d) return undefined;
  return ms;
}

function formatDate(utcMidnightMs: number): string {
  return new Date(utcMidnightMs).toISOString().slice(0, 10);
}

/** The local date (YYYY-MM-DD) of an instant. */
export function localDate(epochMs: number, utcOffsetMinutes: number): string {
  return formatDate(Math.floor((epochMs + utcOffsetMinutes * MINUTE_MS) / DAY_MS) * DAY_MS);
}

/** The local date before the one an instant falls on: the day a run at that instant checks. */
export function previousLocalDate(epochMs: number, utcOffsetMinutes: number): string {
  return localDate(epochMs - DAY_MS, utcOffsetMinutes);
}

/** A local day, 00:00 to 24:00. */
export function localDayPeriod(date: string, utcOffsetMinutes: number): Period {
  const midnight = parseDate(date);
  if (midnight === undefined) throw new RangeError(`not a date: ${JSON.stringify(date)}`);
  const from = midnight - utcOffsetMinutes * MINUTE_MS;
  return { from, to: from + DAY_MS };
}

/** The date after `date`. */
export function nextDate(date: string): string {
  const midnight = parseDate(date);
  if (midnight === undefined) throw new RangeError(`not a date: ${JSON.stringify(date)}`);
  return formatDate(midnight + DAY_MS);
}

function parseQuarter(q: string): { year: number; n: number } {
  const m = /^(\d{4})-Q([1-4])$/.exec(q);
  if (!m) throw new RangeError(`not a quarter: ${JSON.stringify(q)}`);
  return { year: Number(m[1]), n: Number(m[2]) };
}

/** The quarter (YYYY-Qn) an instant falls in, in local time. */
export function quarterOf(epochMs: number, utcOffsetMinutes: number): string {
  const d = new Date(epochMs + utcOffsetMinutes * MINUTE_MS);
  return `${d.getUTCFullYear()}-Q${Math.floor(d.getUTCMonth() / 3) + 1}`;
}

export function nextQuarter(q: string): string {
  const { year, n } = parseQuarter(q);
  return n === 4 ? `${year + 1}-Q1` : `${year}-Q${n + 1}`;
}

export function previousQuarterOf(q: string): string {
  const { year, n } = parseQuarter(q);
  return n === 1 ? `${year - 1}-Q4` : `${year}-Q${n - 1}`;
}

/** The quarter before the one an instant falls in: the quarter a run at that instant re-inspects. */
export function previousQuarter(epochMs: number, utcOffsetMinutes: number): string {
  return previousQuarterOf(quarterOf(epochMs, utcOffsetMinutes));
}

/** A quarter, from local midnight of its first day to local midnight of the next quarter's. */
export function quarterPeriod(q: string, utcOffsetMinutes: number): Period {
  const { year, n } = parseQuarter(q);
  const offset = utcOffsetMinutes * MINUTE_MS;
  return { from: Date.UTC(year, (n - 1) * 3, 1) - offset, to: Date.UTC(year, n * 3, 1) - offset };
}

/** Every quarter from `first` to `last`, inclusive. */
export function quartersBetween(first: string, last: string): string[] {
  const out: string[] = [];
  for (let q = first; out.length <= 400; q = nextQuarter(q)) {
    out.push(q);
    if (q === last) return out;
  }
  throw new RangeError(`${first} is after ${last}, or they are more than a century apart`);
}
