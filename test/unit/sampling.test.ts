import fc from 'fast-check';
import { defaultPolicy } from '../../domain/policy';
import { parsePolicy } from '../../domain/schemas/policy';
import { assignInspectors, drawStratified, hashSeed, mulberry32, pickOne, rngFor, sampleSize, verifyDraw } from '../../domain/sampling';
import {
  localDate,
  localDayPeriod,
  previousLocalDate,
  previousQuarter,
  quarterOf,
  quarterPeriod,
  quartersBetween,
} from '../../domain/supervision-periods';

const CST = 480;
const frame = (counts: Record<string, number>) =>
  Object.entries(counts).flatMap(([division, n]) =>
    Array.from({ length: n }, (_, i) => ({ id: `EC-2026-${division.slice(3)}${String(i).padStart(4, '0')}`, divisionCode: division })),
  );
const byDivision = (ids: string[], items: { id: string; divisionCode: string }[]) => {
  const division = new Map(items.map((x) => [x.id, x.divisionCode]));
  const out: Record<string, number> = {};
  for (const id of ids) out[division.get(id)!] = (out[division.get(id)!] ?? 0) + 1;
  return out;
};
const draw = (items: { id: string; divisionCode: string }[], share: number, min: number, seed: string) =>
  drawStratified(items, (x) => x.divisionCode, share, min, seed);

describe('the seeded PRNG', () => {
  test('when seeded with the same string, then it gives the same sequence, in [0, 1), and another seed gives another', () => {
    const a = rngFor('desk-check:2026-11-26');
    const b = rngFor('desk-check:2026-11-26');
    const c = rngFor('desk-check:2026-11-27');
    const xs = Array.from({ length: 1000 }, () => a());
    expect(Array.from({ length: 1000 }, () => b())).toEqual(xs);
    expect(Array.from({ length: 1000 }, () => c())).not.toEqual(xs);
    expect(xs.every((x) => x >= 0 && x < 1)).toBe(true);
    // Known values pin the algorithm: a changed PRNG would silently change every past draw.
    expect(hashSeed('')).toBe(0x811c9dc5);
    expect(mulberry32(1)()).toBeCloseTo(0.6270739405881613, 15);
  });

  test('when one of ten is picked under 2,000 seeds, then every one is picked about equally often', () => {
    const ids = Array.from({ length: 10 }, (_, i) => `id-${i}`);
    const counts = new Map<string, number>();
    for (let s = 0; s < 2000; s++) {
      const id = pickOne(ids, `seed-${s}`)!;
      counts.set(id, (counts.get(id) ?? 0) + 1);
    }
    for (const id of ids) expect(counts.get(id)).toBeGreaterThan(150);
    for (const id of ids) expect(counts.get(id)).toBeLessThan(250);
  });
});

describe('sample size', () => {
  test('when the share falls between whole cases, then it rounds up, never below the minimum and never above the population', () => {
    expect(sampleSize(30, 0.1, 1)).toBe(3); // 0.1 * 30 is 3, not 4 (floating point)
    expect(sampleSize(31, 0.1, 1)).toBe(4);
    expect(sampleSize(3, 0.1, 1)).toBe(1);
    expect(sampleSize(3, 0.1, 0)).toBe(1); // 0.3 rounds up
    expect(sampleSize(5, 0.2, 0)).toBe(1);
    expect(sampleSize(6, 0.2, 0)).toBe(2);
    expect(sampleSize(2, 0.1, 5)).toBe(2);
    expect(sampleSize(0, 0.1, 1)).toBe(0);
    expect(sampleSize(10, 1, 0)).toBe(10);
    expect(() => sampleSize(10, 0, 0)).toThrow(RangeError);
    expect(() => sampleSize(10, 0.1, -1)).toThrow(RangeError);
  });

  test('when any population, share and minimum, then the size is at least the share and the minimum, and at most the population', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 5000 }),
        fc.double({ min: 0.001, max: 1, noNaN: true }),
        fc.integer({ min: 0, max: 20 }),
        (n, share, min) => {
          const k = sampleSize(n, share, min);
          expect(k).toBeLessThanOrEqual(n);
          expect(k).toBeGreaterThanOrEqual(Math.min(n, min));
          expect(k).toBeGreaterThanOrEqual(Math.min(n, share * n - 1e-6));
        },
      ),
    );
  });
});

describe('stratified draw', () => {
  const items = frame({ '370102': 47, '370203': 9, '370305': 1, '370406': 0 });

  test('when drawn, then every division gives its share (rounded up) with at least one, and the ids are sorted members of the frame', () => {
    const ids = draw(items, 0.1, 1, 're-inspection:2026-Q3');
    expect(byDivision(ids, items)).toEqual({ '370102': 5, '370203': 1, '370305': 1 });
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
    const members = new Set(items.map((x) => x.id));
    expect(ids.every((id) => members.has(id))).toBe(true);
  });

  test('when the share is raised, then the sample grows', () => {
    expect(draw(items, 0.2, 1, 's')).toHaveLength(10 + 2 + 1);
    expect(draw(items, 0.5, 1, 's')).toHaveLength(24 + 5 + 1);
  });

  test('when drawn again with the same seed from the frame in any order, then the sample is the same', () => {
    const expected = draw(items, 0.2, 1, 'desk-check:2026-11-26');
    fc.assert(
      fc.property(fc.shuffledSubarray(items, { minLength: items.length, maxLength: items.length }), (shuffled) => {
        expect(draw(shuffled, 0.2, 1, 'desk-check:2026-11-26')).toEqual(expected);
      }),
      { numRuns: 50 },
    );
  });

  test('when the seed changes, then the sample changes', () => {
    expect(draw(items, 0.2, 1, 'desk-check:2026-11-26')).not.toEqual(draw(items, 0.2, 1, 'desk-check:2026-11-27'));
  });

  test("when another division's cases change, then a division's own sample does not", () => {
    const alone = draw(frame({ '370102': 47 }), 0.1, 1, 'seed');
    const withOthers = draw(items, 0.1, 1, 'seed').filter((id) => id.startsWith('EC-2026-102'));
    expect(withOthers.filter((id) => alone.includes(id))).toEqual(alone);
  });

  test('when an id appears twice in the frame, then the draw refuses it', () => {
    expect(() => draw([...items, items[0]], 0.1, 1, 'seed')).toThrow(/duplicate id/);
  });

  test('when a stored draw is re-run from its seed, then it matches, and a tampered sample does not', () => {
    const drawn = draw(items, 0.1, 1, 're-inspection:2026-Q3');
    const stored = { seed: 're-inspection:2026-Q3', share: 0.1, minPerDivision: 1, population: items, drawn };
    expect(verifyDraw(stored)).toMatchObject({ matches: true, orderIndependent: true, recomputed: drawn });
    const other = items.find((x) => !drawn.includes(x.id) && x.divisionCode === '370102')!.id;
    expect(verifyDraw({ ...stored, drawn: [...drawn.slice(1), other].sort() }).matches).toBe(false);
    expect(verifyDraw({ ...stored, seed: 're-inspection:2026-Q4' }).matches).toBe(false);
  });
});

describe('inspector assignment', () => {
  const inspectors = [
    { id: 'insp-a', divisionCode: '370102' },
    { id: 'insp-b', divisionCode: '3701' },
    { id: 'insp-c', divisionCode: '370203' },
    { id: 'insp-p', divisionCode: '37' },
  ];

  test('when assigned, then an inspector covers the division and never handled the case, and none is given when no one is eligible', () => {
    const cases = [
      { caseId: 'C1', divisionCode: '370102', handlers: ['clerk-1', 'insp-a'] },
      { caseId: 'C2', divisionCode: '370203', handlers: ['insp-c', 'insp-p'] },
      { caseId: 'C3', divisionCode: '440101', handlers: [] },
    ];
    for (let s = 0; s < 50; s++) {
      const out = assignInspectors(cases, inspectors, `seed-${s}`);
      expect(['insp-b', 'insp-p']).toContain(out.C1);
      expect(out.C2).toBeNull();
      expect(out.C3).toBeNull();
    }
  });

  test('when the pool arrives in another order, then the assignment is the same', () => {
    const cases = [{ caseId: 'C1', divisionCode: '370102', handlers: [] }];
    const seen = new Set<string | null>();
    for (let s = 0; s < 20; s++) {
      const a = assignInspectors(cases, inspectors, `seed-${s}`);
      expect(assignInspectors(cases, [...inspectors].reverse(), `seed-${s}`)).toEqual(a);
      seen.add(a.C1);
    }
    expect(seen.size).toBeGreaterThan(1); // and it is random across seeds
  });
});

describe('sampled periods (UTC+08:00)', () => {
  test('when a run starts at 01:00 local time, then it checks the previous local day, midnight to midnight', () => {
    const run = Date.parse('2026-11-26T17:00:00Z'); // 2026-11-27 01:00 CST
    expect(localDate(run, CST)).toBe('2026-11-27');
    expect(previousLocalDate(run, CST)).toBe('2026-11-26');
    expect(localDayPeriod('2026-11-26', CST)).toEqual({ from: Date.parse('2026-11-25T16:00:00Z'), to: Date.parse('2026-11-26T16:00:00Z') });
    expect(previousLocalDate(Date.parse('2026-01-01T01:00:00+08:00'), CST)).toBe('2025-12-31');
  });

  test('when a run starts on the first day of a quarter, then it re-inspects the previous quarter, in local time', () => {
    const run = Date.parse('2026-03-31T18:00:00Z'); // 2026-04-01 02:00 CST
    expect(quarterOf(run, CST)).toBe('2026-Q2');
    expect(previousQuarter(run, CST)).toBe('2026-Q1');
    expect(previousQuarter(Date.parse('2026-01-01T02:00:00+08:00'), CST)).toBe('2025-Q4');
    expect(quarterPeriod('2026-Q1', CST)).toEqual({ from: Date.parse('2025-12-31T16:00:00Z'), to: Date.parse('2026-03-31T16:00:00Z') });
    expect(quarterPeriod('2026-Q4', CST).to).toBe(Date.parse('2027-01-01T00:00:00+08:00'));
    expect(quartersBetween('2025-Q3', '2026-Q2')).toEqual(['2025-Q3', '2025-Q4', '2026-Q1', '2026-Q2']);
  });
});

describe('the supervision policy', () => {
  test('when nothing is overridden, then the desk check draws 20% and the re-inspection 10% with at least one, on Asia/Shanghai schedules', () => {
    const s = defaultPolicy.supervision;
    expect(s.timeZone).toBe('Asia/Shanghai');
    expect(s.deskCheck).toMatchObject({ share: 0.2, minPerDivision: 1, schedule: { cron: '0 1 * * *' } });
    expect(s.reInspection).toMatchObject({ share: 0.1, minPerDivision: 1, schedule: { cron: '0 2 1 1,4,7,10 *' } });
  });

  test('when a policy document changes the share, then the sample drawn under it changes size', () => {
    const items = frame({ '370102': 40 });
    const policy = parsePolicy({ supervision: { reInspection: { share: 0.25 } } });
    expect(policy.supervision.reInspection.share).toBe(0.25);
    expect(policy.supervision.deskCheck.share).toBe(0.2); // the rest keeps its defaults
    const under = (share: number, min: number) => draw(items, share, min, 'seed').length;
    expect(under(defaultPolicy.supervision.reInspection.share, defaultPolicy.supervision.reInspection.minPerDivision)).toBe(4);
    expect(under(policy.supervision.reInspection.share, policy.supervision.reInspection.minPerDivision)).toBe(10);
  });

  test('when a policy document has a bad cron, share or catch-up window, then it is refused', () => {
    expect(() => parsePolicy({ supervision: { deskCheck: { schedule: { cron: 'every day' } } } })).toThrow(/cron/);
    expect(() => parsePolicy({ supervision: { reInspection: { share: 0 } } })).toThrow();
    expect(() =>
      parsePolicy({ supervision: { reInspection: { schedule: { catchupWindow: { amount: 2, unit: 'working_days' } } } } }),
    ).toThrow(/catch-up window/);
  });
});
