import { projectCase, type ProjectionInput } from '../activities/projection';
import { toView, type CaseEvent, type CaseState } from '../domain/case';
import { initialState } from '../domain/complaint-lifecycle';
import { casePolicy, defaultPolicy } from '../domain/policy';
import { drainOutbox, type Notification } from '../worker/notification-sender';
import { createTestDatabase, type TestDatabase } from './support/database';
import { testKeyRing } from './support/temporal';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db?.drop();
});

const T0 = Date.UTC(2026, 10, 2, 2);

function projection(caseId: string, events: CaseEvent[]): ProjectionInput {
  const registered = initialState({
    caseId,
    intake: {
      channel: 'web',
      category: 'odour',
      urgency: 'normal',
      divisionCode: '370211',
      title: 'Smell',
      description: 'd',
      location: {},
      reporter: { anonymous: false, name: 'N', consentToShareWithUnit: false },
      missing: [],
    },
    policy: casePolicy(defaultPolicy, 'odour', 'normal'),
    owner: { id: 'clerk-1', role: 'clerk' },
    receivedAt: T0,
  });
  const s: CaseState = { ...registered, status: 'pending_acceptance' };
  return { view: toView(s, T0), events, reporter: s.intake.reporter, location: {}, description: 'd' };
}

const event = (seq: number, notify: string[]): CaseEvent => ({
  seq,
  type: seq === 1 ? 'registered' : 'deadline_warning',
  at: T0 + seq,
  actor: { id: 'ecoloop', role: 'system' },
  notify,
});

describe('projection and the outbox', () => {
  test('when the projection activity is retried with the same events, then every event and notification is written once', async () => {
    const input = projection('EC-2026-0000101', [event(1, []), event(2, ['owner:clerk-1', 'unit:u1'])]);
    await projectCase(db.pool, input, testKeyRing);
    await projectCase(db.pool, input, testKeyRing);
    const events = await db.pool.query(`SELECT seq FROM case_events WHERE case_id = $1 ORDER BY seq`, ['EC-2026-0000101']);
    expect(events.rows).toEqual([{ seq: 1 }, { seq: 2 }]);
    const outbox = await db.pool.query(`SELECT recipient FROM outbox WHERE case_id = $1 ORDER BY recipient`, ['EC-2026-0000101']);
    expect(outbox.rows).toEqual([{ recipient: 'owner:clerk-1' }, { recipient: 'unit:u1' }]);
  });

  test('when an older projection arrives after a newer one, then the case row is not moved back', async () => {
    const older = projection('EC-2026-0000102', [event(1, [])]);
    const newer = projection('EC-2026-0000102', [event(2, [])]);
    newer.view = { ...newer.view, status: 'handling' };
    await projectCase(db.pool, newer, testKeyRing);
    await projectCase(db.pool, older, testKeyRing);
    const row = await db.pool.query(`SELECT status, last_seq FROM cases WHERE case_id = $1`, ['EC-2026-0000102']);
    expect(row.rows[0]).toEqual({ status: 'handling', last_seq: 2 });
  });
});

describe('the notification sender', () => {
  beforeEach(async () => {
    await db.pool.query(`UPDATE outbox SET delivered_at = now() WHERE delivered_at IS NULL`);
  });

  test('when delivery fails, then the notification is retried later with backoff, and delivered once it succeeds', async () => {
    await projectCase(db.pool, projection('EC-2026-0000103', [event(1, ['supervisor:370211'])]), testKeyRing);
    const failing = jest.fn(async () => {
      throw new Error('receiver down');
    });
    expect(await drainOutbox(db.pool, failing)).toBe(0);
    const after1 = await db.pool.query(
      `SELECT attempts, last_error, delivered_at, next_attempt_at > now() AS later FROM outbox WHERE case_id = $1`,
      ['EC-2026-0000103'],
    );
    expect(after1.rows[0]).toMatchObject({ attempts: 1, last_error: 'receiver down', delivered_at: null, later: true });
    // Not due yet: nothing is attempted.
    expect(await drainOutbox(db.pool, failing)).toBe(0);
    expect(failing).toHaveBeenCalledTimes(1);

    await db.pool.query(`UPDATE outbox SET next_attempt_at = now() WHERE case_id = $1`, ['EC-2026-0000103']);
    const delivered: Notification[] = [];
    expect(await drainOutbox(db.pool, async (n) => void delivered.push(n))).toBe(1);
    expect(delivered).toEqual([
      expect.objectContaining({
        idempotencyKey: 'EC-2026-0000103:1:supervisor:370211',
        recipient: 'supervisor:370211',
        eventType: 'registered',
      }),
    ]);
    expect(await drainOutbox(db.pool, async (n) => void delivered.push(n))).toBe(0);
    expect(delivered).toHaveLength(1);
  });

  test('when two senders drain at once, then no notification is delivered by both', async () => {
    const recipients = Array.from({ length: 40 }, (_, i) => `unit:u${i}`);
    await projectCase(db.pool, projection('EC-2026-0000104', [event(1, recipients)]), testKeyRing);
    const seen: string[] = [];
    const slow = async (n: Notification) => {
      seen.push(n.idempotencyKey);
      await new Promise((r) => setTimeout(r, 2));
    };
    await Promise.all([drainOutbox(db.pool, slow, 25), drainOutbox(db.pool, slow, 25), drainOutbox(db.pool, slow, 25)]);
    while ((await drainOutbox(db.pool, slow, 25)) > 0);
    const mine = seen.filter((k) => k.startsWith('EC-2026-0000104:'));
    expect(mine).toHaveLength(40);
    expect(new Set(mine).size).toBe(40);
  });
});
