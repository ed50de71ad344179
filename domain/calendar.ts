import type { HolidayCalendar } from './schemas/calendar';

// Inferred from its schema (domain/schemas/calendar.ts); type-only, so no zod in the workflow bundle.
export type { HolidayCalendar, HolidayCalendarInput } from './schemas/calendar';

/**
 * Deadline arithmetic for complaint handling periods.
 *
 * This module runs inside the Temporal workflow sandbox, so it is pure and deterministic: it imports
 * nothing, never reads the clock and never uses `Date`, `Intl` or the host time zone. Local
 * dates are computed with integer arithmetic in a fixed UTC offset taken from the calendar
 * (China Standard Time, UTC+08:00, has no daylight saving time).
 *
 * Periods are counted in calendar days by default, or in working days against a holiday calendar
 * that also lists make-up working days (调休: a Saturday or Sunday declared a working day). The
 * dates come from a maintained package (domain/holidays.ts) through the policy, which cases carry:
 * the workflow only ever sees the calendar its input gave it.
 */

const MINUTE_MS = 60_000;
const HOUR_MS = 60 * MINUTE_MS;
const DAY_MS = 24 * HOUR_MS;

/** Upper bound on a working-day count, so a bad policy value fails fast instead of looping in a workflow task. */
export const MAX_WORKING_DAYS = 10_000;

export const durationUnits = ['minutes', 'hours', 'days', 'working_days'] as const;
export type DurationUnit = (typeof durationUnits)[number];
export type Duration = { amount: number; unit: DurationUnit };

const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})$/;

function isLeapYear(y: number): boolean {
  return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
}

function daysInMonth(y: number, m: number): number {
  return m === 2 ? (isLeapYear(y) ? 29 : 28) : [4, 6, 9, 11].includes(m) ? 30 : 31;
}

/** Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil). */
function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (month > 2 ? month - 3 : month + 9) + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146_097 + doe - 719_468;
}

/** Day number (days since 1970-01-01) of a real 'YYYY-MM-DD' date, or undefined if the string is not one. */
export function parseLocalDate(s: string): number | undefined {
  const m = DATE_RE.exec(s);
  if (!m) return undefined;
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return undefined;
  return daysFromCivil(year, month, day);
}

type CompiledCalendar = { offsetMs: number; holidays: Set<number>; makeUpWorkdays: Set<number> };

/** Turns a calendar into day-number sets; throws on data the schema would reject, rather than silently ignoring it. */
function compileCalendar(cal: HolidayCalendar): CompiledCalendar {
  const offset = cal.utcOffsetMinutes;
  if (!Number.isInteger(offset) || Math.abs(offset) > 14 * 60) {
    throw new RangeError(`invalid utcOffsetMinutes: ${offset}`);
  }
  const toDays = (list: readonly string[], what: string): Set<number> =>
    new Set(
      list.map((s) => {
        const day = parseLocalDate(s);
        if (day === undefined) throw new RangeError(`invalid ${what} date: ${JSON.stringify(s)}`);
        return day;
      }),
    );
  const holidays = toDays(cal.holidays, 'holiday');
  const makeUpWorkdays = toDays(cal.makeUpWorkdays, 'make-up workday');
  for (const day of makeUpWorkdays) {
    if (holidays.has(day)) throw new RangeError('a date is listed both as a holiday and as a make-up workday');
  }
  return { offsetMs: offset * MINUTE_MS, holidays, makeUpWorkdays };
}

/** Local day number (days since 1970-01-01 in local time) of an instant. */
function localDay(epochMs: number, offsetMs: number): number {
  return Math.floor((epochMs + offsetMs) / DAY_MS);
}

function isWorkingLocalDay(day: number, c: CompiledCalendar): boolean {
  if (c.makeUpWorkdays.has(day)) return true;
  const weekday = (((day + 4) % 7) + 7) % 7; // 1970-01-01 was a Thursday; 0 = Sunday
  return weekday >= 1 && weekday <= 5 && !c.holidays.has(day);
}

function assertInstant(ms: number, name: string): void {
  if (!Number.isSafeInteger(ms)) throw new RangeError(`${name} must be an integer epoch millisecond value, got ${ms}`);
}

/**
 * What is wrong with a period length, or undefined: minutes/hours/days take any positive finite
 * amount (1.5 hours is fine); working_days a whole number from 1 to MAX_WORKING_DAYS, since each
 * one ends at local midnight. The policy's schema (domain/schemas/calendar.ts) applies the same rule.
 */
export function durationProblem(d: Duration): string | undefined {
  if (typeof d !== 'object' || d === null) return 'expected { amount, unit }';
  if (!durationUnits.includes(d.unit)) return `unit: one of ${durationUnits.join(', ')}`;
  if (typeof d.amount !== 'number' || !Number.isFinite(d.amount) || d.amount <= 0) return 'amount: a positive number';
  if (d.unit === 'working_days' && (!Number.isInteger(d.amount) || d.amount > MAX_WORKING_DAYS)) {
    return `working_days must be a whole number from 1 to ${MAX_WORKING_DAYS}`;
  }
  return undefined;
}

function parseDuration(d: Duration): Duration {
  const problem = durationProblem(d);
  if (problem) throw new RangeError(`invalid duration ${JSON.stringify(d)}: ${problem}`);
  return d;
}

/** Whether the local date (in the calendar's offset) of `epochMs` is Mon–Fri and not a holiday, or is a make-up workday. */
export function isWorkingDay(epochMs: number, cal: HolidayCalendar): boolean {
  assertInstant(epochMs, 'epochMs');
  const c = compileCalendar(cal);
  return isWorkingLocalDay(localDay(epochMs, c.offsetMs), c);
}

/**
 * The instant a period that starts at `startMs` ends: the first millisecond after the period, so an
 * action at any instant `< addDuration(...)` is in time.
 *
 * minutes/hours/days: plain elapsed time (days = 24h multiples; the calendar is not consulted).
 * working_days: the end (24:00 local, i.e. the start of the next local day) of the Nth working day
 * after the local day of `startMs`. The start day itself never counts, whatever the time of day,
 * following the rule that a period begins on the day after the event.
 */
export function addDuration(startMs: number, d: Duration, cal: HolidayCalendar): number {
  assertInstant(startMs, 'startMs');
  const dur = parseDuration(d);
  let end: number;
  if (dur.unit === 'working_days') {
    const c = compileCalendar(cal);
    let day = localDay(startMs, c.offsetMs);
    for (let counted = 0; counted < dur.amount;) {
      day += 1;
      if (isWorkingLocalDay(day, c)) counted += 1;
    }
    end = (day + 1) * DAY_MS - c.offsetMs;
  } else {
    end = startMs + durationMs(dur);
  }
  assertInstant(end, 'deadline');
  return end;
}

/**
 * Milliseconds of a duration measured in plain time, rounded to the nearest millisecond.
 * Throws for working_days, whose length depends on the start instant and the calendar.
 */
export function durationMs(d: Duration): number {
  const dur = parseDuration(d);
  switch (dur.unit) {
    case 'minutes':
      return Math.round(dur.amount * MINUTE_MS);
    case 'hours':
      return Math.round(dur.amount * HOUR_MS);
    case 'days':
      return Math.round(dur.amount * DAY_MS);
    case 'working_days':
      throw new RangeError('durationMs: working_days have no fixed length; use addDuration with a start and a calendar');
  }
}

/**
 * The instant at `fraction` (0..1) of the way from `startMs` to `endMs`, rounded to the nearest
 * millisecond, e.g. a warning at 80% of the period.
 * Fraction 0 gives `startMs` and 1 gives `endMs` exactly.
 */
export function pointBetween(startMs: number, endMs: number, fraction: number): number {
  assertInstant(startMs, 'startMs');
  assertInstant(endMs, 'endMs');
  if (endMs < startMs) throw new RangeError(`pointBetween: end ${endMs} is before start ${startMs}`);
  if (!Number.isFinite(fraction) || fraction < 0 || fraction > 1) {
    throw new RangeError(`pointBetween: fraction must be within 0..1, got ${fraction}`);
  }
  return startMs + Math.round((endMs - startMs) * fraction);
}

/** Sum of two durations of the same unit (used for extensions); throws on a unit mismatch. */
export function addDurations(a: Duration, b: Duration): Duration {
  const x = parseDuration(a);
  const y = parseDuration(b);
  if (x.unit !== y.unit) throw new RangeError(`addDurations: cannot add ${y.unit} to ${x.unit}`);
  return parseDuration({ amount: x.amount + y.amount, unit: x.unit });
}
