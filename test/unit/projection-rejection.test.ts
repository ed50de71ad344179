import { ApplicationFailure } from '@temporalio/common';
import { projectionRejection } from '../../activities/projection';
import { PROJECTION_REJECTED } from '../../workflows/contracts/errors';

/** What the projection gives up on (non-retryable) and what it retries without limit, by PostgreSQL's SQLSTATE. */
describe('the projection classifies PostgreSQL errors (activities/projection.ts)', () => {
  const pgError = (code: string, message = 'boom') => Object.assign(new Error(message), { code });

  test.each([
    ['22021', 'invalid byte sequence for encoding "UTF8": 0x00'],
    ['22P05', 'unsupported Unicode escape sequence'],
    ['22001', 'value too long for type character varying(10)'],
    ['23505', 'duplicate key value violates unique constraint'],
    ['23514', 'new row violates check constraint'],
    ['54000', 'index row size 8016 exceeds btree version 4 maximum 2704'],
  ])('when PostgreSQL answers %s, then the failure is non-retryable and says why', (code, message) => {
    const failure = projectionRejection(pgError(code, message), 'the events 1–2 of case EC-1');
    expect(failure).toBeInstanceOf(ApplicationFailure);
    expect(failure).toMatchObject({
      type: PROJECTION_REJECTED,
      nonRetryable: true,
      details: [{ sqlState: code, error: `${code} ${message}` }],
    });
  });

  test.each([
    ['08006', 'connection failure'],
    ['57P01', 'terminating connection due to administrator command'],
    ['57014', 'canceling statement due to statement timeout'],
    ['40001', 'could not serialize access'],
    ['40P01', 'deadlock detected'],
    ['53300', 'too many connections'],
    ['42P01', 'relation "projection_dead_letters" does not exist'],
    ['ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:5432'],
  ])('when the error is %s, then it is retried (no rejection)', (code, message) => {
    expect(projectionRejection(pgError(code, message), 'x')).toBeUndefined();
  });

  test('when the error has no code at all (a timeout, a dropped socket), then it is retried', () => {
    expect(projectionRejection(new Error('Connection terminated due to connection timeout'), 'x')).toBeUndefined();
  });

  test('when the message holds a NUL character, then the failure carries it escaped', () => {
    expect(projectionRejection(pgError('22021', 'bad \u0000 here'), 'x')?.message).toContain('bad \\u0000 here');
  });
});
