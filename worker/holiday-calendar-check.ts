import type { HolidayCalendar } from '../domain/calendar';
import { calendarWarnings, knownYears } from '../domain/holidays';

/**
 * The worker's watch on the holiday calendar (domain/holidays.ts): at start-up and at every local
 * midnight after, a warning for each year that working-day deadlines may reach and that neither the
 * holiday package nor the policy's `calendar.years` knows: the current year, and from 1 December
 * the next (the State Council publishes each schedule in the autumn).
 */

export interface CalendarLog {
  warn(fields: object, message: string): void;
}

const DAY_MS = 86_400_000;

/** Warn now about what the calendar lacks; the warnings, for the caller. */
export function checkHolidayCalendar(calendar: HolidayCalendar, log: CalendarLog, now = Date.now()): string[] {
  const warnings = calendarWarnings(calendar, now);
  for (const warning of warnings) log.warn({ knownYears: knownYears(calendar) }, warning);
  return warnings;
}

/** Check at once and then at each local midnight (in the calendar's offset); returns the stop. */
export function watchHolidayCalendar(calendar: HolidayCalendar, log: CalendarLog): () => void {
  let timer: NodeJS.Timeout | undefined;
  const offsetMs = calendar.utcOffsetMinutes * 60_000;
  const schedule = () => {
    const now = Date.now();
    const nextMidnight = (Math.floor((now + offsetMs) / DAY_MS) + 1) * DAY_MS - offsetMs;
    timer = setTimeout(() => {
      checkHolidayCalendar(calendar, log);
      schedule();
    }, nextMidnight - now);
    timer.unref();
  };
  checkHolidayCalendar(calendar, log);
  schedule();
  return () => clearTimeout(timer);
}
