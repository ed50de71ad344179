import type { Pool } from 'pg';
import { ratesFor } from '../db/rates';
import { buildReport, storeReport } from '../db/reports';
import { defaultPolicy, type Policy } from '../domain/policy';
import { rate, rateFactsOf, type RateSet } from '../domain/rates';
import { lastCompletePeriod, monthPeriod, quarterPeriod, type ReportDocument } from '../domain/report';
import { reportSchedules, ensureReportSchedules, reportScheduleIds } from '../worker/report-schedules';
import { ApiHarness } from './support/api-harness';

/**
 * A hand-built month (March 2026, China Standard Time) written straight into the projection tables
 * as the projection writes them (a cases row, then the case's events; desk-check results), and
 * every figure of the report checked against numbers worked out by hand below.
 */

const OFFSET = 480;
const isoOf = (ms: number) => new Date(ms).toISOString();
/** Local time in China Standard Time. */
const t = (local: string) => Date.parse(`${local.replace(' ', 'T')}:00+08:00`);

interface Ev {
  type: string;
  at: string;
  deadline?: string;
  data?: Record<string, unknown>;
}
interface HandCase {
  id: string;
  received: string;
  category: string;
  division: string;
  channel: string;
  title: string;
  lat?: number;
  lon?: number;
  mergedInto?: string;
  events: Ev[];
}

const reg = (at: string, due: string): Ev[] => [
  { type: 'registered', at },
  { type: 'registered_for_acceptance', at, deadline: due },
];
const accept = (at: string, due: string, unitId: string): Ev => ({ type: 'accepted', at, deadline: due, data: { unitId } });
const callback = (at: string, outcome: string): Ev[] => [
  { type: 'callback_attempt_started', at, deadline: at },
  { type: 'callback_answered', at, deadline: at, data: { outcome } },
];

// ---- March 2026: received C1..C10 ----
const cases: HandCase[] = [
  {
    id: 'EC-2026-0000001',
    received: '2026-03-02 09:00',
    category: 'air',
    division: '370102',
    channel: 'hotline',
    title: 'Black smoke from boiler chimney',
    lat: 36.6612,
    lon: 117.0234,
    events: [
      ...reg('2026-03-02 09:00', '2026-03-17 09:00'),
      accept('2026-03-03 10:00', '2026-05-02 10:00', 'bureau-370102'),
      { type: 'result_submitted', at: '2026-03-20 10:00' },
      { type: 'result_approved', at: '2026-03-21 09:00' },
      ...callback('2026-03-21 15:00', 'satisfied'),
      { type: 'closed', at: '2026-03-21 15:00', data: { closure: 'resolved', satisfaction: 'satisfied' } },
    ],
  },
  {
    id: 'EC-2026-0000002',
    received: '2026-03-04 11:00',
    category: 'air',
    division: '370102',
    channel: 'wechat',
    title: 'Black smoke from factory chimney',
    lat: 36.6645,
    lon: 117.0281,
    // Accepted a day after its acceptance deadline.
    events: [
      ...reg('2026-03-04 11:00', '2026-03-19 11:00'),
      accept('2026-03-20 11:00', '2026-05-19 11:00', 'bureau-370102'),
      { type: 'result_submitted', at: '2026-03-28 10:00' },
      { type: 'result_approved', at: '2026-03-29 10:00' },
      ...callback('2026-03-30 10:00', 'basically_satisfied'),
      { type: 'closed', at: '2026-03-30 10:00', data: { closure: 'resolved', satisfaction: 'basically_satisfied' } },
    ],
  },
  {
    id: 'EC-2026-0000003',
    received: '2026-03-06 22:00',
    category: 'noise',
    division: '370102',
    channel: 'web',
    title: 'Night construction noise',
    lat: 36.665,
    lon: 117.029,
    events: [
      ...reg('2026-03-06 22:00', '2026-03-21 22:00'),
      accept('2026-03-07 09:00', '2026-05-06 09:00', 'bureau-370102'),
      { type: 'extension_requested', at: '2026-04-20 09:00', deadline: '2026-05-06 09:00' },
    ],
  },
  {
    id: 'EC-2026-0000004',
    received: '2026-03-01 08:00',
    category: 'water',
    division: '370211',
    channel: 'hotline',
    title: 'Sewage discharged into river',
    lat: 35.9601,
    lon: 120.1902,
    // Transferred to the city bureau; its first reply is returned with a two-day rework deadline, and the second reply misses it.
    events: [
      ...reg('2026-03-01 08:00', '2026-03-16 08:00'),
      accept('2026-03-02 09:00', '2026-05-01 09:00', 'bureau-370211'),
      { type: 'transferred', at: '2026-03-03 09:00', deadline: '2026-05-01 09:00', data: { from: 'bureau-370211', to: 'bureau-370200' } },
      { type: 'result_submitted', at: '2026-03-25 10:00' },
      { type: 'result_returned', at: '2026-03-26 10:00', deadline: '2026-03-28 10:00' },
      { type: 'result_submitted', at: '2026-03-30 10:00' },
      { type: 'result_approved', at: '2026-03-31 10:00' },
      // Called back in April: not a March figure.
      ...callback('2026-04-01 10:00', 'dissatisfied'),
    ],
  },
  {
    id: 'EC-2026-0000005',
    received: '2026-03-10 14:00',
    category: 'dust',
    division: '370211',
    channel: 'weibo',
    title: 'Dust from construction site',
    lat: 35.9655,
    lon: 120.195,
    events: [
      ...reg('2026-03-10 14:00', '2026-03-25 14:00'),
      { type: 'closed', at: '2026-03-11 09:00', data: { closure: 'forwarded', competentBody: 'Housing bureau' } },
    ],
  },
  {
    id: 'EC-2026-0000006',
    received: '2026-03-05 07:30',
    category: 'air',
    division: '370102',
    channel: 'gov_app',
    title: 'Black smoke again',
    lat: 36.662,
    lon: 117.025,
    mergedInto: 'EC-2026-0000001',
    events: [
      { type: 'registered', at: '2026-03-05 07:30' },
      { type: 'closed', at: '2026-03-05 07:30', data: { closure: 'duplicate', linkedTo: 'EC-2026-0000001' } },
    ],
  },
  {
    id: 'EC-2026-0000007',
    received: '2026-03-12 21:00',
    category: 'odour',
    division: '370305',
    channel: 'hotline',
    title: 'Chemical odour at night',
    lat: 36.8105,
    lon: 118.3052,
    // Anonymous: no one to call back.
    events: [
      ...reg('2026-03-12 21:00', '2026-03-27 21:00'),
      accept('2026-03-13 09:00', '2026-05-12 09:00', 'bureau-370305'),
      { type: 'result_submitted', at: '2026-03-20 09:00' },
      { type: 'result_approved', at: '2026-03-21 09:00' },
      { type: 'callback_skipped', at: '2026-03-21 09:00' },
      { type: 'closed', at: '2026-03-21 09:00', data: { closure: 'no_callback' } },
    ],
  },
  {
    id: 'EC-2026-0000008',
    received: '2026-03-15 10:00',
    category: 'odour',
    division: '370305',
    channel: 'letter',
    title: 'Chemical odour from plant',
    lat: 36.8121,
    lon: 118.3077,
    events: [
      ...reg('2026-03-15 10:00', '2026-03-30 10:00'),
      accept('2026-03-16 10:00', '2026-05-15 10:00', 'bureau-370305'),
      { type: 'result_submitted', at: '2026-03-25 10:00' },
      { type: 'result_approved', at: '2026-03-26 10:00' },
      ...callback('2026-03-27 10:00', 'dissatisfied'),
      { type: 'closed', at: '2026-03-27 10:00', data: { closure: 'resolved_dissatisfied', satisfaction: 'dissatisfied' } },
    ],
  },
  {
    id: 'EC-2026-0000009',
    received: '2026-03-20 23:00',
    category: 'noise',
    division: '370103',
    channel: 'visit',
    title: 'Loud music from bar',
    events: reg('2026-03-20 23:00', '2026-04-04 23:00'),
  },
  {
    id: 'EC-2026-0000010',
    received: '2026-03-31 23:30',
    category: 'other',
    division: '370103',
    channel: 'online_question',
    title: 'Illegal dumping of rubbish',
    events: reg('2026-03-31 23:30', '2026-04-15 23:30'),
  },
  // ---- Just outside March ----
  {
    id: 'EC-2026-0000011',
    received: '2026-04-01 00:10',
    category: 'air',
    division: '370102',
    channel: 'hotline',
    title: 'Black smoke at dawn',
    lat: 36.6612,
    lon: 117.0234,
    events: reg('2026-04-01 00:10', '2026-04-16 00:10'),
  },
  {
    id: 'EC-2026-0000012',
    received: '2026-02-28 23:59',
    category: 'dust',
    division: '370211',
    channel: 'web',
    title: 'Dust storm from yard',
    events: reg('2026-02-28 23:59', '2026-03-15 23:59'),
  },
  // ---- Earlier cases whose facts fall in March ----
  {
    id: 'EC-2026-0000013',
    received: '2026-01-05 10:00',
    category: 'noise',
    division: '370102',
    channel: 'hotline',
    title: 'Generator noise',
    // Handling deadline 03-07, extended by 30 days to 04-06: the reply of 03-10 is on time only thanks to the extension.
    events: [
      ...reg('2026-01-05 10:00', '2026-01-20 10:00'),
      accept('2026-01-06 10:00', '2026-03-07 10:00', 'bureau-370102'),
      { type: 'extension_requested', at: '2026-02-20 10:00', deadline: '2026-03-07 10:00', data: { amount: 30 } },
      { type: 'extension_approved', at: '2026-02-21 10:00', deadline: '2026-04-06 10:00', data: { amount: 30 } },
      { type: 'result_submitted', at: '2026-03-10 10:00' },
      { type: 'result_approved', at: '2026-03-11 10:00' },
      ...callback('2026-03-12 10:00', 'satisfied'),
      { type: 'closed', at: '2026-03-12 10:00', data: { closure: 'resolved' } },
    ],
  },
  {
    id: 'EC-2026-0000014',
    received: '2026-01-08 10:00',
    category: 'water',
    division: '370211',
    channel: 'wechat',
    title: 'Oily water in canal',
    // Replied five days after its handling deadline of 03-10; one unanswered call before the answer.
    events: [
      ...reg('2026-01-08 10:00', '2026-01-23 10:00'),
      accept('2026-01-09 10:00', '2026-03-10 10:00', 'bureau-370211'),
      { type: 'deadline_warning', at: '2026-02-26 10:00', deadline: '2026-03-10 10:00' },
      { type: 'result_submitted', at: '2026-03-15 10:00' },
      { type: 'result_approved', at: '2026-03-16 10:00' },
      { type: 'callback_attempt_started', at: '2026-03-16 10:00', deadline: '2026-03-17 10:00' },
      { type: 'callback_unreachable', at: '2026-03-17 10:00', data: { attempt: 1 } },
      ...callback('2026-03-17 11:00', 'basically_satisfied'),
      { type: 'closed', at: '2026-03-17 11:00', data: { closure: 'resolved' } },
    ],
  },
  {
    id: 'EC-2026-0000015',
    received: '2026-02-20 10:00',
    category: 'air',
    division: '370102',
    channel: 'web',
    title: 'Smoke from waste burning',
    // Acceptance due 03-07, accepted 03-09: a late acceptance that counts in March.
    events: [...reg('2026-02-20 10:00', '2026-03-07 10:00'), accept('2026-03-09 10:00', '2026-05-08 10:00', 'bureau-370102')],
  },
  {
    id: 'EC-2026-0000016',
    received: '2026-02-10 10:00',
    category: 'air',
    division: '370305',
    channel: 'hotline',
    title: 'Flaring at refinery',
    events: [...reg('2026-02-10 10:00', '2026-02-25 10:00'), accept('2026-02-11 10:00', '2026-04-12 10:00', 'bureau-370305')],
  },
  {
    id: 'EC-2026-0000017',
    received: '2026-02-15 10:00',
    category: 'noise',
    division: '370102',
    channel: 'hotline',
    title: 'Barking dogs',
    events: reg('2026-02-15 10:00', '2026-03-02 10:00'),
  },
  // ---- March 2025 (year on year) ----
  {
    id: 'EC-2025-0000001',
    received: '2025-03-10 10:00',
    category: 'air',
    division: '370102',
    channel: 'hotline',
    title: 'Coal smoke',
    events: reg('2025-03-10 10:00', '2025-03-25 10:00'),
  },
  {
    id: 'EC-2025-0000002',
    received: '2025-03-20 10:00',
    category: 'water',
    division: '370211',
    channel: 'web',
    title: 'Foam on river',
    events: reg('2025-03-20 10:00', '2025-04-04 10:00'),
  },
];

/** Desk checks: [case, unit at the check, result, reviewed at]. */
const deskChecks: Array<[string, string, 'compliant' | 'non_compliant' | 'missed', string | null]> = [
  ['EC-2026-0000001', 'bureau-370102', 'compliant', '2026-03-25 10:00'],
  ['EC-2026-0000007', 'bureau-370305', 'compliant', '2026-03-26 10:00'],
  ['EC-2026-0000013', 'bureau-370102', 'non_compliant', '2026-03-15 10:00'],
  ['EC-2026-0000014', 'bureau-370211', 'compliant', '2026-03-20 10:00'],
  ['EC-2026-0000008', 'bureau-370305', 'missed', null],
  ['EC-2026-0000016', 'bureau-370305', 'compliant', '2026-02-27 10:00'],
];

async function insertCase(pool: Pool, c: HandCase): Promise<void> {
  const iso = (local: string) => new Date(t(local)).toISOString();
  await pool.query(
    `INSERT INTO cases (case_id, status, category, urgency, channel, division_code, title, lat, lon, owner_id, policy_version,
       received_at, merged_into, view, last_seq)
     VALUES ($1, 'handling', $2, 'normal', $3, $4, $5, $6, $7, 'clerk-1', 'national-2026.1', $8, $9, '{}', $10)`,
    [
      c.id,
      c.category,
      c.channel,
      c.division,
      c.title,
      c.lat ?? null,
      c.lon ?? null,
      iso(c.received),
      c.mergedInto ?? null,
      c.events.length,
    ],
  );
  // One statement for the case's events, in order, as a projection batch writes them.
  const values: unknown[] = [];
  const rows = c.events.map((e, i) => {
    values.push(c.id, i + 1, e.type, iso(e.at), e.deadline ? iso(e.deadline) : null, e.data ? JSON.stringify(e.data) : null);
    const b = i * 6;
    return `($${b + 1}, $${b + 2}, $${b + 3}, $${b + 4}, 'x', 'system', $${b + 5}, $${b + 6})`;
  });
  await pool.query(
    `INSERT INTO case_events (case_id, seq, type, at, actor_id, actor_role, deadline_at, data) VALUES ${rows.join(', ')}`,
    values,
  );
}

async function insertDeskChecks(pool: Pool): Promise<void> {
  await pool.query(
    `INSERT INTO desk_checks (id, period_from, period_to, seed, share, min_per_division, closures, policy_version, population, drawn, workflow_id, review_due_at)
     VALUES ('2026-03-14', now(), now(), 's', 0.23, 1, '{}', 'v', '[]', '{}', 'w', now())`,
  );
  for (const [caseId, unitId, result, reviewedAt] of deskChecks) {
    await pool.query(
      `INSERT INTO desk_check_items (desk_check_id, case_id, division_code, unit_id, result, reviewed_at) VALUES ('2026-03-14', $1, '370000', $2, $3, $4)`,
      [caseId, unitId, result, reviewedAt ? new Date(t(reviewedAt)).toISOString() : null],
    );
  }
}

const r = (n: number, d: number) => rate(n, d);
const set = (a: [number, number], c: [number, number], k: [number, number], s: [number, number]): RateSet => ({
  timelyAcceptance: r(...a),
  onTimeCompletion: r(...c),
  compliance: r(...k),
  satisfaction: r(...s),
});

let api: ApiHarness;
let report: ReportDocument;
const policy: Policy = defaultPolicy;
const march = monthPeriod(2026, 3, OFFSET);

beforeAll(async () => {
  api = await ApiHarness.create('report');
  for (const c of cases) await insertCase(api.db.pool, c);
  await insertDeskChecks(api.db.pool);
  await api.db.pool.query(
    `INSERT INTO warnings (warning_id, kind, category, area_kind, area_key, area_label, division_codes, threshold, rule, peak, case_ids,
       first_case_at, last_case_at, raised_at, updated_at, watcher_id)
     VALUES ('W-M-EC-2026-0000002', 'many_people', 'air', 'cell', 'k', 'l', '{370102}', 3, '{}', 3, '{}', now(), now(), $1, now(), 'w'),
            ('W-M-EC-2026-0000017', 'many_people', 'noise', 'cell', 'k', 'l', '{370102}', 3, '{}', 3, '{}', now(), now(), $2, now(), 'w')`,
    [new Date(t('2026-03-12 10:00')).toISOString(), new Date(t('2026-02-20 10:00')).toISOString()],
  );
  report = await buildReport(api.db.pool, march, policy, t('2026-04-01 01:00'));
});
afterAll(async () => {
  await api?.teardown();
});

describe('the rate facts', () => {
  test('when events are written to case_events, then the facts SQL derives for each case are exactly those domain/rates.ts defines', async () => {
    const { rows } = await api.db.pool.query(
      `SELECT case_id, kind, seq, at, due_at, passed, unit_id FROM case_rate_facts ORDER BY case_id, seq, kind`,
    );
    const fromSql = rows.map((f) => ({
      caseId: f.case_id,
      kind: f.kind,
      seq: f.seq,
      at: f.at.getTime(),
      dueAt: f.due_at?.getTime(),
      passed: f.passed,
      unitId: f.unit_id ?? undefined,
    }));
    const fromDomain = cases
      .flatMap((c) =>
        rateFactsOf(
          c.events.map((e, i) => ({
            seq: i + 1,
            type: e.type,
            at: t(e.at),
            deadlineAt: e.deadline ? t(e.deadline) : undefined,
            data: e.data,
          })),
        ).map((f) => ({ caseId: c.id, ...f })),
      )
      .sort((a, b) => (a.caseId < b.caseId ? -1 : a.caseId > b.caseId ? 1 : a.seq - b.seq));
    expect(fromSql).toEqual(fromDomain.map((f) => ({ ...f, dueAt: f.dueAt })));
    // Acceptances (C1-C4, C7, C8, 13, 14, 15, 16 = 10), completions (C1, C2, C4, C7, C8, 13, 14 = 7), answered callbacks (C1, C2, C4, C8, 13, 14 = 6).
    expect(fromSql.filter((f) => f.kind === 'acceptance')).toHaveLength(10);
    expect(fromSql.filter((f) => f.kind === 'completion')).toHaveLength(7);
    expect(fromSql.filter((f) => f.kind === 'satisfaction')).toHaveLength(6);
  });
});

describe('the monthly report of a hand-built month', () => {
  test('when the report of March 2026 is built, then its period is the local month in China Standard Time', () => {
    expect(report.id).toBe('monthly-2026-03');
    expect(report.period).toEqual({
      label: '2026-03',
      from: '2026-02-28T16:00:00.000Z',
      to: '2026-03-31T16:00:00.000Z',
      utcOffsetMinutes: 480,
      partial: false,
      through: '2026-03-31T16:00:00.000Z',
    });
    expect(report.generatedAt).toBe('2026-03-31T17:00:00.000Z');
    expect(report.policyVersion).toBe(defaultPolicy.version);
  });

  test('when it counts, then totals, categories, cities, divisions and channels match the hand count', () => {
    // Received in March: C1..C10 (C10 at 23:30 on the 31st is in; 11 at 00:10 on 1 April and 12 on 28 February are not).
    // Located: C1..C8 = 8; merged: C6 (a duplicate of C1) = 1.
    // accepted / completed / callbacks answered / spot-checked are the rates' denominators below; warnings: one raised on 12 March.
    expect(report.totals).toEqual({
      received: 10,
      located: 8,
      merged: 1,
      accepted: 7,
      completed: 7,
      callbacksAnswered: 5,
      spotChecked: 4,
      warnings: 1,
    });
    // air C1 C2 C6 = 3; noise C3 C9 = 2; odour C7 C8 = 2; dust C5, other C10, water C4 = 1 each (ties by name).
    expect(report.byCategory).toEqual([
      { key: 'air', name: 'air', count: 3, share: 0.3 },
      { key: 'noise', name: 'noise', count: 2, share: 0.2 },
      { key: 'odour', name: 'odour', count: 2, share: 0.2 },
      { key: 'dust', name: 'dust', count: 1, share: 0.1 },
      { key: 'other', name: 'other', count: 1, share: 0.1 },
      { key: 'water', name: 'water', count: 1, share: 0.1 },
    ]);
    // Jinan 370102 (C1 C2 C3 C6) + 370103 (C9 C10) = 6; Qingdao 370211 (C4 C5) = 2; Zibo 370305 (C7 C8) = 2.
    expect(report.byCity).toEqual([
      { key: '370100', name: '济南市', count: 6, share: 0.6 },
      { key: '370200', name: '青岛市', count: 2, share: 0.2 },
      { key: '370300', name: '淄博市', count: 2, share: 0.2 },
    ]);
    expect(report.byDivision).toEqual([
      { key: '370102', name: '济南市历下区', count: 4, share: 0.4 },
      { key: '370103', name: '济南市市中区', count: 2, share: 0.2 },
      { key: '370211', name: '青岛市黄岛区', count: 2, share: 0.2 },
      { key: '370305', name: '淄博市临淄区', count: 2, share: 0.2 },
    ]);
    // hotline C1 C4 C7 = 3; every other channel once.
    expect(report.byChannel).toEqual([
      { key: 'hotline', name: 'hotline', count: 3, share: 0.3 },
      ...['gov_app', 'letter', 'online_question', 'visit', 'web', 'wechat', 'weibo'].map((k) => ({
        key: k,
        name: k,
        count: 1,
        share: 0.1,
      })),
    ]);
  });

  test('when it looks for conflicts, then the top category-division pairs and title keywords match the hand count', () => {
    // air in 370102 (C1 C2 C6) = 3; odour in 370305 (C7 C8) = 2; then five pairs of one, by key.
    expect(report.conflicts.pairs).toEqual([
      { category: 'air', divisionCode: '370102', divisionName: '济南市历下区', count: 3, share: 0.3 },
      { category: 'odour', divisionCode: '370305', divisionName: '淄博市临淄区', count: 2, share: 0.2 },
      { category: 'dust', divisionCode: '370211', divisionName: '青岛市黄岛区', count: 1, share: 0.1 },
      { category: 'noise', divisionCode: '370102', divisionName: '济南市历下区', count: 1, share: 0.1 },
      { category: 'noise', divisionCode: '370103', divisionName: '济南市市中区', count: 1, share: 0.1 },
      { category: 'other', divisionCode: '370103', divisionName: '济南市市中区', count: 1, share: 0.1 },
      { category: 'water', divisionCode: '370211', divisionName: '青岛市黄岛区', count: 1, share: 0.1 },
    ]);
    // "black", "smoke": C1 C2 C6; "chemical", "odour": C7 C8; "chimney": C1 C2; "construction": C3 C5.
    // Then words of one title, alphabetically, up to 15 ("from", "night", "again", "into", "the" are stopwords; "at", "of" too short).
    expect(report.conflicts.keywords).toEqual([
      { word: 'black', count: 3 },
      { word: 'smoke', count: 3 },
      { word: 'chemical', count: 2 },
      { word: 'chimney', count: 2 },
      { word: 'construction', count: 2 },
      { word: 'odour', count: 2 },
      ...['bar', 'boiler', 'discharged', 'dumping', 'dust', 'factory', 'illegal', 'loud', 'music'].map((word) => ({ word, count: 1 })),
    ]);
  });

  test('when it finds hotspots, then the grid cells and divisions with most complaints match the hand count', () => {
    // 0.01° cells: C1 C2 C3 C6 all in row 3666, column 11702 (36.66-36.67N, 117.02-117.03E): air 3, noise 1.
    // C4 C5 in 3596/12019 (water 1, dust 1: "dust" first by name); C7 C8 in 3681/11830 (odour 2). Ties by row.
    expect(report.hotspots.cellSizeDegrees).toBe(0.01);
    expect(report.hotspots.cells).toEqual([
      {
        cell: '0.01:3666:11702',
        label: '36.665N 117.025E',
        lat: 36.665,
        lon: 117.025,
        count: 4,
        share: 0.4,
        topCategory: 'air',
        topCategoryCount: 3,
        divisionCode: '370102',
        divisionName: '济南市历下区',
      },
      {
        cell: '0.01:3596:12019',
        label: '35.965N 120.195E',
        lat: 35.965,
        lon: 120.195,
        count: 2,
        share: 0.2,
        topCategory: 'dust',
        topCategoryCount: 1,
        divisionCode: '370211',
        divisionName: '青岛市黄岛区',
      },
      {
        cell: '0.01:3681:11830',
        label: '36.815N 118.305E',
        lat: 36.815,
        lon: 118.305,
        count: 2,
        share: 0.2,
        topCategory: 'odour',
        topCategoryCount: 2,
        divisionCode: '370305',
        divisionName: '淄博市临淄区',
      },
    ]);
    expect(report.hotspots.divisions.map((d) => [d.key, d.count])).toEqual([
      ['370102', 4],
      ['370103', 2],
      ['370211', 2],
      ['370305', 2],
    ]);
    expect(report.key.areas.map((a) => a.cell)).toEqual(['0.01:3666:11702', '0.01:3596:12019', '0.01:3681:11830']);
    expect(report.key.regions.map((g) => [g.key, g.count])).toEqual([
      ['370100', 6],
      ['370200', 2],
      ['370300', 2],
    ]);
  });

  test('when it compares periods, then month-on-month and year-on-year changes match the hand count', () => {
    // February 2026: 15 (air, 370102), 16 (air, 370305), 17 (noise, 370102), 12 (dust, 370211) = 4. March 2025: air 370102, water 370211 = 2.
    // A whole month is compared with whole months.
    const whole = (y: number, m: number) => ({ from: isoOf(monthPeriod(y, m, OFFSET).from), to: isoOf(monthPeriod(y, m, OFFSET).to) });
    expect(report.change.previous).toEqual({ label: '2026-02', received: 4, ...whole(2026, 2) });
    expect(report.change.lastYear).toEqual({ label: '2025-03', received: 2, ...whole(2025, 3) });
    expect(report.change.received).toBe(1.5); // (10 - 4) / 4
    expect(report.change.yearOnYear).toBe(4); // (10 - 2) / 2
    expect(report.change.byCategory).toEqual([
      { key: 'air', name: 'air', count: 3, previous: 2, lastYear: 1, change: 0.5, yearOnYear: 2 },
      { key: 'noise', name: 'noise', count: 2, previous: 1, lastYear: 0, change: 1, yearOnYear: null },
      { key: 'odour', name: 'odour', count: 2, previous: 0, lastYear: 0, change: null, yearOnYear: null },
      { key: 'dust', name: 'dust', count: 1, previous: 1, lastYear: 0, change: 0, yearOnYear: null },
      { key: 'other', name: 'other', count: 1, previous: 0, lastYear: 0, change: null, yearOnYear: null },
      { key: 'water', name: 'water', count: 1, previous: 0, lastYear: 1, change: null, yearOnYear: 0 },
    ]);
    expect(report.change.byCity).toEqual([
      { key: '370100', name: '济南市', count: 6, previous: 2, lastYear: 1, change: 2, yearOnYear: 5 }, // (6-2)/2, (6-1)/1
      { key: '370200', name: '青岛市', count: 2, previous: 1, lastYear: 1, change: 1, yearOnYear: 1 },
      { key: '370300', name: '淄博市', count: 2, previous: 1, lastYear: 0, change: 1, yearOnYear: null },
    ]);
    // Key problems: the top five categories; rising when up by at least 20% (policy): air +50%, noise +100%.
    expect(report.key.problems.map((p) => [p.key, p.rising])).toEqual([
      ['air', true],
      ['noise', true],
      ['odour', false],
      ['dust', false],
      ['other', false],
    ]);
  });

  test('when it computes the four rates, then each equals the count by hand, overall and per city, unit and category', () => {
    // Timely acceptance, accepted in March: C1 ok, C2 late (03-20 > 03-19), C3 ok, C4 ok, C7 ok, C8 ok, 15 late (03-09 > 03-07) = 5/7.
    // On-time completion, approved replies made in March: C1, C2, C7, C8 ok; 13 ok (03-10 <= 04-06 thanks to the extension);
    //   14 late (03-15 > 03-10); C4 late (its reply of 03-30 missed the rework deadline 03-28 in force then) = 5/7.
    // Compliance, desk checks reviewed in March: C1 yes, C7 yes, 13 no, 14 yes (C8 missed; 16 was in February) = 3/4.
    // Satisfaction, callbacks answered in March: C1 satisfied, C2 basically, C8 dissatisfied, 13 satisfied, 14 basically (C4's is in April) = 4/5.
    expect(report.rates.overall).toEqual(set([5, 7], [5, 7], [3, 4], [4, 5]));
    // February: 16 accepted on time; 16's desk check compliant; nothing else.
    expect(report.rates.previous).toEqual(set([1, 1], [0, 0], [1, 1], [0, 0]));
    expect(report.rates.byCity).toEqual([
      // Jinan: acceptance C1 C3 ok, C2 15 late; completion C1 C2 13; compliance C1 yes 13 no; satisfaction C1 C2 13.
      { key: '370100', name: '济南市', ...set([2, 4], [3, 3], [1, 2], [3, 3]) },
      // Qingdao: acceptance C4; completion C4 14 both late; compliance 14; satisfaction 14.
      { key: '370200', name: '青岛市', ...set([1, 1], [0, 2], [1, 1], [1, 1]) },
      // Zibo: acceptance C7 C8; completion C7 C8; compliance C7; satisfaction C8 dissatisfied.
      { key: '370300', name: '淄博市', ...set([2, 2], [2, 2], [1, 1], [0, 1]) },
    ]);
    // The unit that had the case at the moment of each fact: C4 was accepted by bureau-370211, then transferred to bureau-370200.
    const byUnit = Object.fromEntries(report.rates.byUnit.map(({ key, name: _n, ...rates }) => [key, rates]));
    expect(byUnit).toEqual({
      'bureau-370102': set([2, 4], [3, 3], [1, 2], [3, 3]),
      'bureau-370211': set([1, 1], [0, 1], [1, 1], [1, 1]),
      'bureau-370200': set([0, 0], [0, 1], [0, 0], [0, 0]),
      'bureau-370305': set([2, 2], [2, 2], [1, 1], [0, 1]),
    });
    expect(report.rates.byCategory).toEqual([
      // air: acceptance C1 ok, C2 15 late; completion C1 C2; compliance C1; satisfaction C1 C2.
      { key: 'air', name: 'air', ...set([1, 3], [2, 2], [1, 1], [2, 2]) },
      // noise: acceptance C3; completion 13; compliance 13 no; satisfaction 13.
      { key: 'noise', name: 'noise', ...set([1, 1], [1, 1], [0, 1], [1, 1]) },
      { key: 'odour', name: 'odour', ...set([2, 2], [2, 2], [1, 1], [0, 1]) },
      // water: acceptance C4; completion C4 14 late; compliance 14; satisfaction 14.
      { key: 'water', name: 'water', ...set([1, 1], [0, 2], [1, 1], [1, 1]) },
    ]);
    expect(report.trend).toEqual([
      {
        label: '2026-03',
        received: 10,
        byCategory: { air: 3, noise: 2, odour: 2, dust: 1, other: 1, water: 1 },
        rates: report.rates.overall,
      },
    ]);
  });

  test('when the rates are asked for a period by county, then the same facts are summed per county', async () => {
    const result = await ratesFor(api.db.pool, { from: march.from, to: march.to, by: 'county' });
    expect(result.overall).toEqual(set([5, 7], [5, 7], [3, 4], [4, 5]));
    // Jinan's facts are all in Lixia (370102); 370103's cases have no facts yet.
    expect(result.rows.map((x) => x.key)).toEqual(['370102', '370211', '370305']);
    expect(result.rows[0]).toEqual({ key: '370102', name: '济南市历下区', ...set([2, 4], [3, 3], [1, 2], [3, 3]) });
  });
});

describe('a month still running', () => {
  test('when March 2026 is built on the 12th at 22:00, then it is marked partial and compared with days 1–12 of February and of March 2025', async () => {
    const partial = await buildReport(api.db.pool, march, policy, t('2026-03-12 22:00'));
    expect(partial.period).toMatchObject({ label: '2026-03', partial: true, through: isoOf(t('2026-03-12 22:00')) });
    // March to the 12th, 22:00: C1 (03-02), C2 (03-04), C3 (03-06), C4 (03-01), C7 (03-10), C8 (03-05), 13th case (03-12 21:00) = 7.
    expect(partial.totals.received).toBe(7);
    // February to the 12th, 22:00: 16 only (02-10), not 15 (02-20), 17 (02-15) nor the one of 02-28. March 2025: the 10th, not the 20th.
    expect(partial.change.previous).toEqual({
      label: '2026-02',
      received: 1,
      from: isoOf(t('2026-02-01 00:00')),
      to: isoOf(t('2026-02-12 22:00')),
    });
    expect(partial.change.lastYear).toEqual({
      label: '2025-03',
      received: 1,
      from: isoOf(t('2025-03-01 00:00')),
      to: isoOf(t('2025-03-12 22:00')),
    });
    expect(partial.change.received).toBe(6); // (7 - 1) / 1, not (7 - 4) / 4 against the whole of February
    expect(partial.change.yearOnYear).toBe(6);
    // February's rates over the same days: 16 accepted on time on 02-11; its desk check (02-27) is later.
    expect(partial.rates.previous).toEqual(set([1, 1], [0, 0], [0, 0], [0, 0]));
    // The trend: every month from March 2025, whole months whole, March so far and marked.
    expect(partial.history.map((h) => [h.label, h.received, h.partial])).toEqual([
      ['2025-03', 2, false],
      ...['04', '05', '06', '07', '08', '09', '10', '11', '12'].map((m) => [`2025-${m}`, 0, false]),
      ['2026-01', 2, false],
      ['2026-02', 4, false],
      ['2026-03', 7, true],
    ]);
  });

  test('when a month is built after it ended, then it is whole and its trend runs over the thirteen months, one step each', () => {
    expect(report.period.partial).toBe(false);
    expect(report.history.map((h) => h.label)).toEqual([
      '2025-03',
      ...['04', '05', '06', '07', '08', '09', '10', '11', '12'].map((m) => `2025-${m}`),
      '2026-01',
      '2026-02',
      '2026-03',
    ]);
    expect(report.history.at(-1)).toEqual({ label: '2026-03', received: 10, byCategory: report.trend[0].byCategory, partial: false });
    expect(report.history.some((h) => h.partial)).toBe(false);
  });
});

describe('the quarterly report', () => {
  test('when the first quarter of 2026 is built, then its trend has the three months with their counts and rates', async () => {
    const q = await buildReport(api.db.pool, quarterPeriod(2026, 1, OFFSET), policy, t('2026-04-01 02:00'));
    expect(q.id).toBe('quarterly-2026-Q1');
    // January: 13 (noise), 14 (water); February: 4 (see above); March: 10. Q4 2025: none; Q1 2025: 2.
    expect(q.totals.received).toBe(16);
    expect(q.change.previous).toMatchObject({ label: '2025-Q4', received: 0 });
    expect(q.change.received).toBeNull();
    expect(q.change.yearOnYear).toBe(7); // (16 - 2) / 2
    expect(q.trend.map((p) => [p.label, p.received, p.byCategory])).toEqual([
      ['2026-01', 2, { noise: 1, water: 1 }],
      ['2026-02', 4, { air: 2, dust: 1, noise: 1 }],
      ['2026-03', 10, { air: 3, noise: 2, odour: 2, dust: 1, other: 1, water: 1 }],
    ]);
    // January: 13 and 14 accepted on time; February: 16 on time and one compliant desk check; March as above.
    expect(q.trend.map((p) => p.rates)).toEqual([
      set([2, 2], [0, 0], [0, 0], [0, 0]),
      set([1, 1], [0, 0], [1, 1], [0, 0]),
      set([5, 7], [5, 7], [3, 4], [4, 5]),
    ]);
    expect(q.rates.overall).toEqual(set([8, 10], [5, 7], [4, 5], [4, 5]));
  });
});

describe('serving and scheduling reports', () => {
  let analyst: string;
  beforeAll(async () => {
    analyst = await api.token({ sub: 'analyst-1', role: 'analyst' });
  });

  test('when an analyst generates March 2026 over the API, then it is stored and served as JSON, CSV and HTML', async () => {
    const started = await api.request('POST', '/v1/reports', { token: analyst, body: { kind: 'monthly', period: '2026-03' } });
    expect(started.status).toBe(202);
    expect(started.headers.get('location')).toBe('/v1/reports/monthly-2026-03/generation');
    expect(started.body.links).toEqual({ status: '/v1/reports/monthly-2026-03/generation', report: '/v1/reports/monthly-2026-03' });
    const created = { body: await api.eventually(started.headers.get('location')!, analyst, (b) => b.status !== 'running') };
    expect(created.body).toMatchObject({ status: 'completed', reportId: 'monthly-2026-03', period: '2026-03', received: 10 });

    const json = await api.request('GET', '/v1/reports/monthly-2026-03', { token: analyst });
    expect(json.status).toBe(200);
    expect(json.body.rates.overall).toEqual(report.rates.overall);
    expect(json.body.totals).toEqual(report.totals);

    const csv = await api.request('GET', '/v1/reports/monthly-2026-03?format=csv', { token: analyst });
    expect(csv.headers.get('content-type')).toMatch(/^text\/csv/);
    expect(csv.body).toContain('totals,,,received,10\r\n');
    expect(csv.body).toContain('rates,,overall,timelyAcceptance.numerator,5\r\n');
    expect(csv.body).toContain('byCity,370100,济南市,count,6\r\n');
    expect(csv.body).toContain('report,monthly-2026-03,monthly,partial,false\r\n');

    const html = await api.request('GET', '/v1/reports/monthly-2026-03', { token: analyst, headers: { accept: 'text/html' } });
    expect(html.headers.get('content-type')).toMatch(/^text\/html/);
    expect(html.body).toContain('<svg');
    expect(html.body).toContain('Monthly report · 2026-03');

    const list = await api.request('GET', '/v1/reports?kind=monthly', { token: analyst });
    expect(list.body.items.map((i: { id: string }) => i.id)).toContain('monthly-2026-03');
  });

  test('when a report stored before partial periods existed is served, then it reads as a whole period with its own months', async () => {
    // As the documents of before: no partial mark, no compared spans, no history.
    const { partial: _p, through: _t, ...period } = { ...report.period, label: '2025-12' };
    const { from: _f1, to: _t1, ...previous } = report.change.previous;
    const { from: _f2, to: _t2, ...lastYear } = report.change.lastYear;
    const { history: _h, ...rest } = report;
    await storeReport(api.db.pool, {
      ...rest,
      id: 'monthly-2025-12',
      period,
      change: { ...report.change, previous, lastYear },
    } as unknown as ReportDocument);
    const json = await api.request('GET', '/v1/reports/monthly-2025-12', { token: analyst });
    expect(json.status).toBe(200);
    expect(json.body.period).toMatchObject({ label: '2025-12', partial: false, through: report.period.to });
    expect(json.body.change.previous).toEqual({ ...report.change.previous });
    expect(json.body.history).toEqual([{ label: '2026-03', received: 10, byCategory: report.trend[0].byCategory, partial: false }]);
    const html = await api.request('GET', '/v1/reports/monthly-2025-12?format=html', { token: analyst });
    expect(html.status).toBe(200);
    expect(html.body).toContain('Monthly report · 2025-12');
    expect(html.body).not.toContain('partial-period');
  });

  test('when a unit, no one, or a bad request asks, then the API refuses with a problem document', async () => {
    const unitToken = await api.token({ sub: 'u', role: 'unit', unitId: 'bureau-370102' });
    expect((await api.request('GET', '/v1/reports/monthly-2026-03', { token: unitToken })).status).toBe(403);
    expect((await api.request('GET', '/v1/reports/monthly-2026-03')).status).toBe(401);
    expect((await api.request('GET', '/v1/reports/monthly-2019-01', { token: analyst })).status).toBe(404);
    const bad = await api.request('POST', '/v1/reports', { token: analyst, body: { kind: 'quarterly', period: '2026-03' } });
    expect(bad.status).toBe(400);
    expect(bad.headers.get('content-type')).toMatch(/application\/problem\+json/);
  });

  test('when the worker ensures the report Schedules twice, then they are created once, follow the policy, and a run reports on the last month', async () => {
    const prefix = `t${process.pid}-${Date.now()}`;
    const ids = reportScheduleIds(prefix);
    try {
      const first = await ensureReportSchedules(api.client, { policy, taskQueue: api.taskQueue, prefix });
      const second = await ensureReportSchedules(api.client, { policy, taskQueue: api.taskQueue, prefix });
      expect(first.map((s) => s.outcome)).toEqual(['created', 'created']);
      expect(second.map((s) => s.outcome)).toEqual(['unchanged', 'unchanged']);
      const monthly = await api.client.schedule.getHandle(ids.monthly).describe();
      expect(monthly.spec.timezone).toBe('Asia/Shanghai');
      expect(monthly.spec.calendars?.[0]).toMatchObject({
        dayOfMonth: [{ start: 1, end: 1, step: 1 }],
        hour: [{ start: 1, end: 1, step: 1 }],
      });
      const quarterly = await api.client.schedule.getHandle(ids.quarterly).describe();
      expect(quarterly.spec.calendars?.[0].month).toEqual(
        ['JANUARY', 'APRIL', 'JULY', 'OCTOBER'].map((m) => ({ start: m, end: m, step: 1 })),
      );

      const moved = {
        ...policy,
        analysis: { ...policy.analysis, schedule: { ...policy.analysis.schedule, monthly: { dayOfMonth: 2, hour: 3, minute: 0 } } },
      };
      const third = await ensureReportSchedules(api.client, { policy: moved, taskQueue: api.taskQueue, prefix });
      expect(third.map((s) => s.outcome)).toEqual(['updated', 'unchanged']);
      expect(reportSchedules(moved, api.taskQueue, prefix)[0].spec.calendars?.[0]).toMatchObject({ dayOfMonth: 2, hour: 3 });

      // A run now reports on the last complete month.
      const expected = lastCompletePeriod('monthly', Date.now(), OFFSET);
      await api.client.schedule.getHandle(ids.monthly).trigger();
      const deadline = Date.now() + 30_000;
      let stored: { report_id: string }[] = [];
      while (Date.now() < deadline) {
        stored = (await api.db.pool.query(`SELECT report_id FROM reports WHERE report_id = $1`, [`monthly-${expected.label}`])).rows;
        if (stored.length) break;
        await new Promise((res) => setTimeout(res, 200));
      }
      expect(stored).toEqual([{ report_id: `monthly-${expected.label}` }]);
    } finally {
      for (const id of Object.values(ids))
        await api.client.schedule
          .getHandle(id)
          .delete()
          .catch(() => undefined);
    }
  });
});
