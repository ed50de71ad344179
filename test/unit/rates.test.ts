import { rateFactsOf } from '../../domain/rates';

/** The rate facts of a case's events (domain/rates.ts), for what the hand-built month of test/report.test.ts does not hold. */

const H = 3_600_000;

describe('a declined assignment in the rates', () => {
  test('when a unit declines an acceptance, then that acceptance is no fact; the acceptance by the next unit is, judged against the deadline from receipt', () => {
    const facts = rateFactsOf([
      { seq: 1, type: 'registered', at: 0 },
      { seq: 2, type: 'registered_for_acceptance', at: 0, deadlineAt: 15 * 24 * H },
      { seq: 3, type: 'accepted', at: H, deadlineAt: 60 * 24 * H, data: { unitId: 'unit-a' } },
      { seq: 4, type: 'assignment_declined', at: 2 * H, data: { unitId: 'unit-a', counting: 'from_receipt' } },
      { seq: 5, type: 'registered_for_acceptance', at: 2 * H, deadlineAt: 15 * 24 * H },
      { seq: 6, type: 'accepted', at: 3 * H, data: { unitId: 'unit-b' } },
    ]);
    expect(facts).toEqual([{ kind: 'acceptance', seq: 6, at: 3 * H, dueAt: 15 * 24 * H, passed: true, unitId: 'unit-b' }]);
  });
});
