import { z } from 'zod';
import { durationUnits, MAX_WORKING_DAYS, parseLocalDate, type Duration } from '../calendar';

/** The schemas of the calendar's inputs (domain/calendar.ts): a period length and a holiday calendar. */

/**
 * A period length. minutes/hours/days accept any positive finite amount (1.5 hours is fine);
 * working_days must be a positive integer (at most MAX_WORKING_DAYS), since each one ends at local midnight.
 */
export const durationSchema: z.ZodType<Duration> = z
  .object({
    amount: z.number().positive(),
    unit: z.enum(durationUnits),
  })
  .superRefine((d, ctx) => {
    if (d.unit === 'working_days' && (!Number.isInteger(d.amount) || d.amount > MAX_WORKING_DAYS)) {
      ctx.addIssue({
        code: 'custom',
        path: ['amount'],
        message: `working_days must be a whole number from 1 to ${MAX_WORKING_DAYS}`,
      });
    }
  });

const localDateSchema = z
  .string()
  .refine((s) => parseLocalDate(s) !== undefined, { message: 'expected a real calendar date as YYYY-MM-DD' });

/** One year's dates, as a policy gives them for a year the holiday package does not have (yet). */
const yearDatesSchema = z.strictObject({
  /** Every local date of the year that is not a working day (each day of each official break). */
  holidays: z.array(localDateSchema).min(1),
  /** Saturdays/Sundays of the year declared working days (调休). */
  makeUpWorkdays: z.array(localDateSchema).default([]),
});

const calendarObjectSchema = z.object({
  /** Offset of local time from UTC in minutes; 480 is China Standard Time (UTC+08:00). */
  utcOffsetMinutes: z
    .number()
    .int()
    .min(-14 * 60)
    .max(14 * 60)
    .default(480),
  /** Local dates that are not working days (typically every day of each official break). */
  holidays: z.array(localDateSchema),
  /** Local Saturdays/Sundays declared working days (调休). */
  makeUpWorkdays: z.array(localDateSchema),
  /**
   * The policy's own years, for years the holiday package lacks (a new State Council schedule, out
   * before the package has it) or gets wrong: `{"2027": {"holidays": [...], "makeUpWorkdays": [...]}}`.
   * A year given here replaces every date of that year in the lists above.
   */
  years: z.record(z.string().regex(/^\d{4}$/, 'a year as YYYY'), yearDatesSchema).optional(),
});

/** The calendar with the policy's years in place of the package's dates of those years. */
function withPolicyYears({ years, ...cal }: z.output<typeof calendarObjectSchema>) {
  if (!years) return cal;
  const given = new Set(Object.keys(years));
  const keep = (d: string) => !given.has(d.slice(0, 4));
  const dates = Object.values(years);
  return {
    ...cal,
    holidays: [...cal.holidays.filter(keep), ...dates.flatMap((y) => y.holidays)].sort(),
    makeUpWorkdays: [...cal.makeUpWorkdays.filter(keep), ...dates.flatMap((y) => y.makeUpWorkdays)].sort(),
  };
}

/**
 * The holiday calendar of a policy: the dates (from the holiday package, domain/holidays.ts) and
 * the policy's own years folded in. What cases carry is the folded form (no `years`).
 */
export const holidayCalendarSchema = calendarObjectSchema
  .superRefine((cal, ctx) => {
    for (const [year, dates] of Object.entries(cal.years ?? {})) {
      for (const list of ['holidays', 'makeUpWorkdays'] as const) {
        dates[list].forEach((date, i) => {
          if (!date.startsWith(`${year}-`))
            ctx.addIssue({ code: 'custom', path: ['years', year, list, i], message: `${date} is not in ${year}` });
        });
      }
    }
  })
  .transform(withPolicyYears)
  .superRefine((cal, ctx) => {
    const holidays = new Set(cal.holidays);
    cal.makeUpWorkdays.forEach((date, i) => {
      if (holidays.has(date)) {
        ctx.addIssue({
          code: 'custom',
          path: ['makeUpWorkdays', i],
          message: `${date} is listed both as a holiday and as a make-up workday`,
        });
      }
    });
  });
export type HolidayCalendar = z.output<typeof holidayCalendarSchema>;
export type HolidayCalendarInput = z.input<typeof holidayCalendarSchema>;
