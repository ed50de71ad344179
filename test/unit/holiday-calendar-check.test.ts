import { defaultPolicy } from '../../domain/policy';
import { parsePolicy } from '../../domain/schemas/policy';
import { checkHolidayCalendar } from '../../worker/holiday-calendar-check';

/** The worker's check of the holiday calendar (worker/holiday-calendar-check.ts), with the log it writes to. */
function recordingLog() {
  const lines: Array<{ fields: object; message: string }> = [];
  return { lines, warn: (fields: object, message: string) => lines.push({ fields, message }) };
}

const cst = (local: string): number => Date.parse(`${local}+08:00`);

describe("the worker warns when next year's holiday calendar is unknown", () => {
  test('when the worker checks on 1 December 2026 with the default policy, then it logs that 2027 is unknown', () => {
    // chinese-days 1.5.7 (pinned) has no 2027: the 2027 schedule was published after it.
    const log = recordingLog();
    checkHolidayCalendar(defaultPolicy.calendar, log, cst('2026-12-01T00:00:01'));
    expect(log.lines).toEqual([
      { fields: { knownYears: expect.arrayContaining([2026]) }, message: expect.stringMatching(/no 2027.*calendar\.years/) },
    ]);
  });

  test('when the worker checks in November, then it logs nothing', () => {
    const log = recordingLog();
    checkHolidayCalendar(defaultPolicy.calendar, log, cst('2026-11-30T23:59:59'));
    expect(log.lines).toEqual([]);
  });

  test("when the policy gives 2027 (calendar.years), then the worker's December check logs nothing", () => {
    const log = recordingLog();
    const policy = parsePolicy({ calendar: { years: { '2027': { holidays: ['2027-01-01'] } } } });
    checkHolidayCalendar(policy.calendar, log, cst('2026-12-15T12:00:00'));
    expect(log.lines).toEqual([]);
  });
});
