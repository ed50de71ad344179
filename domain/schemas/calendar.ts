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

export const holidayCalendarSchema = z
  .object({
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
  })
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
export type HolidayCalendar = z.infer<typeof holidayCalendarSchema>;
