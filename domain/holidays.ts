import chineseDays from 'chinese-days/dist/chinese-days.json';
import type { HolidayCalendar } from './calendar';

/**
 * The holiday calendar of mainland China from the maintained `chinese-days` package (pinned in
 * package.json): official holidays and make-up working days (调休) as the State Council publishes
 * them each year. A year the package does not have yet is given in the policy (`calendar.years`,
 * domain/calendar.ts); the worker warns when the current year, or from 1 December the next, is
 * known to neither (worker/holiday-calendar-check.ts).
 *
 * The default policy carries the package's two latest years only: a case is received at most the
 * backdating limit ago, and every case carries its calendar in its policy snapshot, so older years
 * would only make each workflow input bigger.
 */

const MINUTE_MS = 60_000;
const YEARS_CARRIED = 2;

function latestYears(dates: readonly string[]): Set<string> {
  const years = [...new Set(dates.map((d) => d.slice(0, 4)))].sort();
  return new Set(years.slice(-YEARS_CARRIED));
}

const packageYears = latestYears(Object.keys(chineseDays.holidays));
const ofCarriedYears = (dates: Record<string, string>) =>
  Object.keys(dates)
    .filter((d) => packageYears.has(d.slice(0, 4)))
    .sort();

/** The package's latest years as a calendar in China Standard Time. */
export const packageHolidayCalendar: HolidayCalendar = {
  utcOffsetMinutes: 480,
  holidays: ofCarriedYears(chineseDays.holidays),
  makeUpWorkdays: ofCarriedYears(chineseDays.workdays),
};

/**
 * The years a calendar knows: those with at least one holiday (every year has New Year's Day). In a
 * year it does not know, only Saturdays and Sundays are rest days, so a working-day deadline that
 * runs into it may come out early.
 */
export function knownYears(cal: Pick<HolidayCalendar, 'holidays'>): number[] {
  return [...new Set(cal.holidays.map((d) => Number(d.slice(0, 4))))].sort((a, b) => a - b);
}

/**
 * What an operator must hear about the calendar at `now`: the current local year unknown, or, from
 * 1 December, the next one (the State Council publishes each schedule in the autumn; add it to the
 * policy's `calendar.years` until the package has it).
 */
export function calendarWarnings(cal: HolidayCalendar, now: number): string[] {
  const local = new Date(now + cal.utcOffsetMinutes * MINUTE_MS);
  const year = local.getUTCFullYear();
  const known = new Set(knownYears(cal));
  const advice = "add it to the policy's calendar.years (POLICY_FILE) or update the holiday package";
  const warnings: string[] = [];
  if (!known.has(year)) warnings.push(`The holiday calendar has no ${year}: working-day deadlines count weekends only; ${advice}.`);
  if (local.getUTCMonth() === 11 && !known.has(year + 1)) {
    warnings.push(
      `The holiday calendar has no ${year + 1}: working-day deadlines that run into ${year + 1} count weekends only; ${advice}.`,
    );
  }
  return warnings;
}
