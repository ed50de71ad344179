import { addDuration, addDurations, durationMs, isWorkingDay, pointBetween, type HolidayCalendar } from '../../domain/calendar';
import { durationSchema, holidayCalendarSchema } from '../../domain/schemas/calendar';
import { parsePolicy } from '../../domain/schemas/policy';
import { calendarWarnings, knownYears, packageHolidayCalendar } from '../../domain/holidays';

/** The calendar of the default policy: the holiday package's (chinese-days) latest years. */
const defaultHolidayCalendar = packageHolidayCalendar;

/** An instant written as China Standard Time wall-clock time. The explicit offset keeps it independent of the host time zone. */
const cst = (local: string): number => Date.parse(`${local}+08:00`);

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** Same offset, no holidays and no make-up days: only Saturdays and Sundays are rest days. */
const weekendsOnly: HolidayCalendar = { utcOffsetMinutes: 480, holidays: [], makeUpWorkdays: [] };

describe('calendar days', () => {
  test('when 1 day is added on 31 January, then the deadline is the same time on 1 February', () => {
    // January has 31 days, so 31 Jan + 24h = 1 Feb, same wall-clock time (CST has no DST).
    expect(addDuration(cst('2026-01-31T10:00:00'), { amount: 1, unit: 'days' }, defaultHolidayCalendar)).toBe(cst('2026-02-01T10:00:00'));
  });

  test('when 30 days are added on 15 February 2026, then the deadline is 17 March (February has 28 days)', () => {
    // 15 Feb → 28 Feb is 13 days, 17 more days reach 17 Mar: 13 + 17 = 30. Holidays do not matter for calendar days.
    expect(addDuration(cst('2026-02-15T09:30:00'), { amount: 30, unit: 'days' }, defaultHolidayCalendar)).toBe(cst('2026-03-17T09:30:00'));
  });

  test('when 1 day is added on 28 February 2028, then the deadline is 29 February (leap year)', () => {
    expect(addDuration(cst('2028-02-28T12:00:00'), { amount: 1, unit: 'days' }, weekendsOnly)).toBe(cst('2028-02-29T12:00:00'));
  });

  test('when 60 days are added at 23:30 on 31 December 2025, then the deadline is 23:30 on 1 March 2026', () => {
    // Counting forward from 31 Dec: Jan has 31 days (→ 31 Jan), Feb has 28 (→ 28 Feb), 1 more → 1 Mar: 31 + 28 + 1 = 60.
    expect(addDuration(cst('2025-12-31T23:30:00'), { amount: 60, unit: 'days' }, defaultHolidayCalendar)).toBe(cst('2026-03-01T23:30:00'));
  });

  test('when minutes and hours are added, then plain elapsed time is added', () => {
    const start = cst('2026-03-02T08:00:00');
    expect(addDuration(start, { amount: 90, unit: 'minutes' }, defaultHolidayCalendar)).toBe(cst('2026-03-02T09:30:00'));
    // 20h from 08:00 crosses local midnight: 08:00 + 16h = 24:00, + 4h = 04:00 next day.
    expect(addDuration(start, { amount: 20, unit: 'hours' }, defaultHolidayCalendar)).toBe(cst('2026-03-03T04:00:00'));
  });
});

describe('working days', () => {
  test('when 3 working days start on a Friday, then the weekend is skipped and the deadline is the end of Wednesday', () => {
    // Fri 6 Mar 2026 does not count. Sat 7, Sun 8 skipped; Mon 9 (1), Tue 10 (2), Wed 11 (3) → end of Wed = Thu 12 00:00.
    expect(addDuration(cst('2026-03-06T10:00:00'), { amount: 3, unit: 'working_days' }, defaultHolidayCalendar)).toBe(
      cst('2026-03-12T00:00:00'),
    );
  });

  test('when 10 working days start on a Monday, then two weekends are skipped', () => {
    // Mon 2 Mar does not count. Tue 3–Fri 6 (4), Mon 9–Fri 13 (9), Mon 16 (10) → Tue 17 00:00.
    expect(addDuration(cst('2026-03-02T14:00:00'), { amount: 10, unit: 'working_days' }, defaultHolidayCalendar)).toBe(
      cst('2026-03-17T00:00:00'),
    );
  });

  test('when working days run across a month end, then counting continues into the next month', () => {
    // Thu 30 Apr 2026 does not count. Fri 1 May–Tue 5 May are Labour Day holidays, Mon 4/Tue 5 included.
    // Wed 6 (1), Thu 7 (2), Fri 8 (3), Sat 9 make-up (4) → Sun 10 00:00.
    expect(addDuration(cst('2026-04-30T16:00:00'), { amount: 4, unit: 'working_days' }, defaultHolidayCalendar)).toBe(
      cst('2026-05-10T00:00:00'),
    );
  });

  test('when 5 working days start on 30 September 2026, then the National Day week is skipped and the make-up Saturday counts', () => {
    // Wed 30 Sep does not count. Thu 1–Wed 7 Oct are holidays. Thu 8 (1), Fri 9 (2),
    // Sat 10 make-up workday (3), Sun 11 skipped, Mon 12 (4), Tue 13 (5) → end of Tue 13 = Wed 14 00:00.
    expect(addDuration(cst('2026-09-30T11:00:00'), { amount: 5, unit: 'working_days' }, defaultHolidayCalendar)).toBe(
      cst('2026-10-14T00:00:00'),
    );
  });

  test('when the same 5 working days use a weekends-only calendar, then the deadline is six days earlier', () => {
    // Control for the test above: Thu 1 (1), Fri 2 (2), Sat 3/Sun 4 skipped, Mon 5 (3), Tue 6 (4), Wed 7 (5) → Thu 8 00:00.
    expect(addDuration(cst('2026-09-30T11:00:00'), { amount: 5, unit: 'working_days' }, weekendsOnly)).toBe(cst('2026-10-08T00:00:00'));
  });

  test('when 1 working day starts on Friday 18 September 2026, then the make-up Sunday 20 September is that working day', () => {
    // Fri 18 does not count, Sat 19 is a weekend day, Sun 20 is a National Day make-up workday (1) → Mon 21 00:00.
    expect(addDuration(cst('2026-09-18T09:00:00'), { amount: 1, unit: 'working_days' }, defaultHolidayCalendar)).toBe(
      cst('2026-09-21T00:00:00'),
    );
  });

  test('when a period starts at 23:30 local, then it counts from the next day, like a start at 00:00 the same day', () => {
    // Mon 2 Mar 23:30 CST is 15:30 UTC on the same date. Mon does not count; Tue 3 (1), Wed 4 (2) → Thu 5 00:00.
    const late = addDuration(cst('2026-03-02T23:30:00'), { amount: 2, unit: 'working_days' }, defaultHolidayCalendar);
    expect(late).toBe(cst('2026-03-05T00:00:00'));
    expect(addDuration(cst('2026-03-02T00:00:00'), { amount: 2, unit: 'working_days' }, defaultHolidayCalendar)).toBe(late);
  });

  test('when a period starts at 23:30 local on a Friday, then 1 working day ends on Monday, not on Saturday', () => {
    // Fri 6 Mar 23:30 does not count; Sat 7, Sun 8 skipped; Mon 9 (1) → Tue 10 00:00. (1 calendar day would end Sat 23:30.)
    expect(addDuration(cst('2026-03-06T23:30:00'), { amount: 1, unit: 'working_days' }, defaultHolidayCalendar)).toBe(
      cst('2026-03-10T00:00:00'),
    );
  });

  test('when a period starts at 00:30 local, which is still the previous day in UTC, then the local date is the start day', () => {
    // Tue 3 Mar 00:30 CST = Mon 2 Mar 16:30 UTC. Local Tue does not count; Wed 4 (1) → Thu 5 00:00 CST (= Wed 4 16:00 UTC).
    const start = cst('2026-03-03T00:30:00');
    expect(start).toBe(Date.parse('2026-03-02T16:30:00Z'));
    expect(addDuration(start, { amount: 1, unit: 'working_days' }, defaultHolidayCalendar)).toBe(Date.parse('2026-03-04T16:00:00Z'));
  });

  test('when isWorkingDay is asked about 2026 dates, then weekends, holidays and make-up days are classified by local date', () => {
    const cal = defaultHolidayCalendar;
    expect(isWorkingDay(cst('2026-03-02T12:00:00'), cal)).toBe(true); // ordinary Monday
    expect(isWorkingDay(cst('2026-03-07T12:00:00'), cal)).toBe(false); // ordinary Saturday
    expect(isWorkingDay(cst('2026-03-08T12:00:00'), cal)).toBe(false); // ordinary Sunday
    expect(isWorkingDay(cst('2026-10-01T12:00:00'), cal)).toBe(false); // National Day, Thursday
    expect(isWorkingDay(cst('2026-10-07T23:59:59'), cal)).toBe(false); // last holiday, Wednesday
    expect(isWorkingDay(cst('2026-10-08T00:00:00'), cal)).toBe(true); // first day back, Thursday
    expect(isWorkingDay(cst('2026-10-10T12:00:00'), cal)).toBe(true); // make-up Saturday
    expect(isWorkingDay(cst('2026-02-14T12:00:00'), cal)).toBe(true); // Spring Festival make-up Saturday
    expect(isWorkingDay(cst('2026-02-17T12:00:00'), cal)).toBe(false); // Spring Festival, Tuesday
    // The local date decides, not the UTC date: 16:00 UTC on Friday 9 Oct is already 00:00 Saturday
    // 10 Oct in CST (a make-up day), while 15:59:59 UTC is still Friday 9 Oct 23:59:59 CST.
    expect(isWorkingDay(Date.parse('2026-10-09T16:00:00Z'), cal)).toBe(true);
    expect(isWorkingDay(Date.parse('2026-10-02T16:00:00Z'), cal)).toBe(false); // Sat 3 Oct 00:00 CST, holiday
    expect(isWorkingDay(Date.parse('2026-10-02T15:59:59Z'), weekendsOnly)).toBe(true); // Fri 2 Oct 23:59:59 CST
    expect(isWorkingDay(Date.parse('2026-10-02T16:00:00Z'), weekendsOnly)).toBe(false); // Sat 3 Oct 00:00 CST
  });
});

describe('calendar validation', () => {
  test('when the default calendar is parsed, then it is valid and keeps the CST offset', () => {
    const parsed = holidayCalendarSchema.parse(defaultHolidayCalendar);
    expect(parsed.utcOffsetMinutes).toBe(480);
    expect(parsed.holidays).toEqual(expect.arrayContaining(['2026-10-01', '2026-10-07']));
    expect(parsed.makeUpWorkdays).toEqual(expect.arrayContaining(['2026-09-20', '2026-10-10']));
  });

  test('when utcOffsetMinutes is omitted, then it defaults to 480', () => {
    expect(holidayCalendarSchema.parse({ holidays: [], makeUpWorkdays: [] }).utcOffsetMinutes).toBe(480);
  });

  test.each([
    ['a month 13', '2026-13-01'],
    ['30 February', '2026-02-30'],
    ['29 February in a non-leap year', '2026-02-29'],
    ['a date without zero padding', '2026-2-3'],
    ['a slash-separated date', '2026/10/01'],
    ['a date-time', '2026-10-01T00:00:00'],
  ])('when a holiday is %s, then the calendar is rejected', (_name, bad) => {
    const r = holidayCalendarSchema.safeParse({ holidays: ['2026-10-01', bad], makeUpWorkdays: [] });
    expect(r.success).toBe(false);
    expect(r.error?.issues[0]?.path).toEqual(['holidays', 1]);
  });

  test('when a make-up workday is a bad date, then the calendar is rejected', () => {
    const r = holidayCalendarSchema.safeParse({ holidays: [], makeUpWorkdays: ['2026-10-32'] });
    expect(r.success).toBe(false);
    expect(r.error?.issues[0]?.path).toEqual(['makeUpWorkdays', 0]);
  });

  test('when 29 February is in a leap year, then it is accepted', () => {
    expect(holidayCalendarSchema.safeParse({ holidays: ['2028-02-29'], makeUpWorkdays: [] }).success).toBe(true);
  });

  test('when a date is in both lists, then the calendar is rejected', () => {
    const r = holidayCalendarSchema.safeParse({
      holidays: ['2026-10-01', '2026-10-10'],
      makeUpWorkdays: ['2026-09-20', '2026-10-10'],
    });
    expect(r.success).toBe(false);
    expect(r.error?.issues).toHaveLength(1);
    expect(r.error?.issues[0]?.path).toEqual(['makeUpWorkdays', 1]);
    expect(r.error?.issues[0]?.message).toContain('2026-10-10');
  });

  test('when an unvalidated calendar with a bad date is used directly, then the arithmetic throws instead of ignoring it', () => {
    const bad = { utcOffsetMinutes: 480, holidays: ['2026-10-1'], makeUpWorkdays: [] };
    expect(() => addDuration(cst('2026-09-30T00:00:00'), { amount: 1, unit: 'working_days' }, bad)).toThrow(RangeError);
    expect(() => isWorkingDay(cst('2026-10-01T00:00:00'), bad)).toThrow(RangeError);
  });
});

describe('durations', () => {
  test('when durations are validated, then positive amounts pass and zero, negative and fractional working days fail', () => {
    expect(durationSchema.safeParse({ amount: 1.5, unit: 'hours' }).success).toBe(true);
    expect(durationSchema.safeParse({ amount: 60, unit: 'working_days' }).success).toBe(true);
    expect(durationSchema.safeParse({ amount: 0, unit: 'days' }).success).toBe(false);
    expect(durationSchema.safeParse({ amount: -1, unit: 'minutes' }).success).toBe(false);
    expect(durationSchema.safeParse({ amount: 1.5, unit: 'working_days' }).success).toBe(false);
    expect(durationSchema.safeParse({ amount: 1, unit: 'weeks' }).success).toBe(false);
  });

  test('when durationMs is asked for plain units, then it returns exact milliseconds', () => {
    expect(durationMs({ amount: 15, unit: 'minutes' })).toBe(15 * 60_000); // 900 000
    expect(durationMs({ amount: 1.5, unit: 'hours' })).toBe(5_400_000); // 90 min
    expect(durationMs({ amount: 60, unit: 'days' })).toBe(60 * DAY); // 5 184 000 000
  });

  test('when durationMs is asked for working days, then it throws', () => {
    expect(() => durationMs({ amount: 5, unit: 'working_days' })).toThrow(/working_days/);
  });

  test('when two durations of the same unit are added, then the amounts are summed', () => {
    // A 60-day period extended by 30 days is 90 days; 15 working days extended by 15 is 30.
    expect(addDurations({ amount: 60, unit: 'days' }, { amount: 30, unit: 'days' })).toEqual({ amount: 90, unit: 'days' });
    expect(addDurations({ amount: 15, unit: 'working_days' }, { amount: 15, unit: 'working_days' })).toEqual({
      amount: 30,
      unit: 'working_days',
    });
  });

  test('when two durations of different units are added, then it throws', () => {
    expect(() => addDurations({ amount: 60, unit: 'days' }, { amount: 30, unit: 'working_days' })).toThrow(/unit|working_days/);
    expect(() => addDurations({ amount: 2, unit: 'hours' }, { amount: 30, unit: 'minutes' })).toThrow(RangeError);
  });
});

describe('pointBetween', () => {
  // A 10-day period from Mon 2 Mar 2026 00:00 CST to Thu 12 Mar 00:00 CST.
  const start = cst('2026-03-02T00:00:00');
  const end = cst('2026-03-12T00:00:00');

  test('when the fraction is 0, then the point is the start', () => {
    expect(pointBetween(start, end, 0)).toBe(start);
  });

  test('when the fraction is 0.8, then the point is 8 of the 10 days in', () => {
    // 80% of 10 days = 8 days → Tue 10 Mar 00:00 CST.
    expect(pointBetween(start, end, 0.8)).toBe(cst('2026-03-10T00:00:00'));
  });

  test('when the fraction is 1, then the point is the deadline', () => {
    expect(pointBetween(start, end, 1)).toBe(end);
  });

  test('when the 80% point of a working-day deadline is taken, then it is measured in elapsed time', () => {
    // Start Fri 6 Mar 10:00; 3 working days end Thu 12 Mar 00:00 (see above) = 5 days 14 h = 134 h.
    // 80% of 134 h = 107.2 h = 4 days 11 h 12 min; Fri 6 Mar 10:00 + 4 days = Tue 10 Mar 10:00, + 11:12 → Tue 10 Mar 21:12.
    const s = cst('2026-03-06T10:00:00');
    const deadline = addDuration(s, { amount: 3, unit: 'working_days' }, defaultHolidayCalendar);
    expect(deadline - s).toBe(134 * HOUR);
    expect(pointBetween(s, deadline, 0.8)).toBe(cst('2026-03-10T21:12:00'));
  });

  test('when the fraction is outside 0..1 or the end is before the start, then it throws', () => {
    expect(() => pointBetween(start, end, 1.01)).toThrow(RangeError);
    expect(() => pointBetween(start, end, -0.1)).toThrow(RangeError);
    expect(() => pointBetween(start, end, Number.NaN)).toThrow(RangeError);
    expect(() => pointBetween(end, start, 0.5)).toThrow(RangeError);
  });
});

describe("the holiday calendar from the package, and the policy's own years", () => {
  // chinese-days 1.5.7 (pinned) has 2026 but not 2027: the State Council published 2027's schedule after it.
  const december = cst('2026-12-01T09:00:00');

  test("when the default calendar is read, then it is the package's 2026 schedule as the State Council published it", () => {
    expect(knownYears(defaultHolidayCalendar)).toContain(2026);
    // 国务院办公厅关于2026年部分节假日安排的通知: Spring Festival 15–23 Feb, make-up Saturdays 14 and 28 Feb.
    expect(defaultHolidayCalendar.holidays).toEqual(expect.arrayContaining(['2026-02-15', '2026-02-23', '2026-10-07']));
    expect(defaultHolidayCalendar.makeUpWorkdays).toEqual(expect.arrayContaining(['2026-02-14', '2026-02-28', '2026-10-10']));
  });

  test('when it is December and the calendar has no next year, then a warning names that year', () => {
    const calendar = parsePolicy({}).calendar;
    expect(knownYears(calendar)).not.toContain(2027);
    expect(calendarWarnings(calendar, december)).toEqual([expect.stringContaining('no 2027')]);
    // In November nobody is warned yet; a calendar with no current year is warned at once.
    expect(calendarWarnings(calendar, cst('2026-11-30T23:59:00'))).toEqual([]);
    expect(calendarWarnings(calendar, cst('2027-03-01T09:00:00'))).toEqual([expect.stringContaining('no 2027')]);
  });

  test('when the policy gives 2027, then a working-day deadline from December 2026 skips its New Year holiday and nobody is warned', () => {
    // 1 January is a public holiday every year (the National Holidays Regulation); the rest of 2027
    // is the policy's to give once published: only that date is assumed here.
    const policy = parsePolicy({ calendar: { years: { '2027': { holidays: ['2027-01-01'] } } } });
    expect(knownYears(policy.calendar)).toEqual(expect.arrayContaining([2026, 2027]));
    expect(calendarWarnings(policy.calendar, december)).toEqual([]);
    // Thu 24 Dec 2026: Fri 25 (1), Mon 28 (2), Tue 29 (3), Wed 30 (4), Thu 31 (5), [Fri 1 Jan holiday], Mon 4 Jan (6) → Tue 5 Jan 00:00.
    const start = cst('2026-12-24T10:00:00');
    expect(addDuration(start, { amount: 6, unit: 'working_days' }, policy.calendar)).toBe(cst('2027-01-05T00:00:00'));
    // Without 2027 the same deadline falls a working day early: that is why the worker warns.
    expect(addDuration(start, { amount: 6, unit: 'working_days' }, defaultHolidayCalendar)).toBe(cst('2027-01-02T00:00:00'));
  });

  test("when the policy gives a year the package has, then its dates replace the package's for that year only", () => {
    const policy = parsePolicy({ calendar: { years: { '2026': { holidays: ['2026-01-01'], makeUpWorkdays: [] } } } });
    expect(policy.calendar.holidays.filter((d) => d.startsWith('2026'))).toEqual(['2026-01-01']);
    expect(policy.calendar.makeUpWorkdays.filter((d) => d.startsWith('2026'))).toEqual([]);
  });

  test('when a policy year lists a date of another year, then the policy is refused', () => {
    expect(() => parsePolicy({ calendar: { years: { '2027': { holidays: ['2026-12-31'] } } } })).toThrow(/2026-12-31 is not in 2027/);
  });
});
