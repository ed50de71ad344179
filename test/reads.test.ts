import type { Principal } from '../api/auth';
import { ApiHarness } from './support/api-harness';

/**
 * The reads that were missing: spot-check results with their findings, re-inspection
 * accountability records and a campaign's members, each with a total and ISO 8601 instants, each
 * within the reader's scope. The rows are written as the workflows' activities write them.
 */

let api: ApiHarness;
const principals = {
  supervisor: { sub: 'jinan-supervisor', role: 'supervisor', divisions: ['3701'] },
  otherSupervisor: { sub: 'qingdao-supervisor', role: 'supervisor', divisions: ['3702'] },
  analyst: { sub: 'analyst-1', role: 'analyst' },
  inspector: { sub: 'inspector-zhao', role: 'inspector' },
  unit: { sub: 'wang', role: 'unit', unitId: 'licheng-bureau' },
} satisfies Record<string, Principal>;
type Who = keyof typeof principals;
const tokens = {} as Record<Who, string>;
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

async function get(who: Who, path: string) {
  return api.request('GET', path, { token: tokens[who] });
}

beforeAll(async () => {
  api = await ApiHarness.create('reads');
  for (const who of Object.keys(principals) as Who[]) tokens[who] = await api.token(principals[who]);
  const q = (sql: string, params: unknown[] = []) => api.db.pool.query(sql, params);
  const draw = `'seed', 0.2, 1, ARRAY['resolved'], 'v1', '[]'::jsonb, ARRAY[]::text[], 'wf'`;
  await q(`INSERT INTO desk_checks (id, period_from, period_to, seed, share, min_per_division, closures, policy_version, population, drawn,
             workflow_id, review_due_at) VALUES ('2026-03-02', now(), now(), ${draw}, now())`);
  await q(`INSERT INTO desk_check_items (desk_check_id, case_id, division_code, unit_id, result, finding, reviewed_by, reviewed_at, return_outcome)
           VALUES ('2026-03-02', 'EC-2026-0000101', '370102', 'licheng-bureau', 'non_compliant', 'no reply to the complainant', 'insp-1',
                   '2026-03-02T03:00:00Z', 'reopened'),
                  ('2026-03-02', 'EC-2026-0000102', '370202', 'shinan-bureau', 'compliant', NULL, 'insp-2', '2026-03-02T04:00:00Z', NULL),
                  ('2026-03-02', 'EC-2026-0000103', '370103', 'licheng-bureau', NULL, NULL, NULL, NULL, NULL)`);
  await q(`INSERT INTO re_inspections (id, period_from, period_to, seed, share, min_per_division, closures, policy_version, population, drawn,
             workflow_id) VALUES ('2026-Q1', now(), now(), ${draw})`);
  await q(`INSERT INTO inspections (id, re_inspection_id, case_id, division_code, unit_id, inspector_id, status, finding, note, found_by, found_at,
             reopen_outcome) VALUES
             ('2026-Q1:EC-2026-0000201', '2026-Q1', 'EC-2026-0000201', '370112', 'licheng-bureau', 'inspector-zhao', 'done', 'not_rectified',
              'still discharging', 'inspector-zhao', '2026-03-20T02:00:00Z', 'reopened'),
             ('2026-Q1:EC-2026-0000202', '2026-Q1', 'EC-2026-0000202', '370211', 'shinan-bureau', 'inspector-qian', 'done', 'false_report',
              'never visited', 'inspector-qian', '2026-03-21T02:00:00Z', 'reopened')`);
  await q(`INSERT INTO accountability_records (inspection_id, case_id, unit_id, responsible_person, finding, note, created_at) VALUES
             ('2026-Q1:EC-2026-0000201', 'EC-2026-0000201', 'licheng-bureau', 'Director Sun', 'not_rectified', 'still discharging', '2026-03-20T02:00:00Z'),
             ('2026-Q1:EC-2026-0000202', 'EC-2026-0000202', 'shinan-bureau', 'Deputy Ma', 'false_report', 'never visited', '2026-03-21T02:00:00Z')`);
  await q(`INSERT INTO campaigns (campaign_id, name, criteria, period_from, period_to, status, started_by, started_at)
           VALUES ('CP-0123456789ab', 'Dust', '{"categories":["dust"],"divisions":["37"]}', now(), now() + interval '30 days', 'running', 'analyst-1', now())`);
  await q(`INSERT INTO campaign_cases (campaign_id, case_id, matched_as, tagged_at, tightened_at) VALUES
             ('CP-0123456789ab', 'EC-2026-0000301', 'open', '2026-03-01T00:00:00Z', '2026-03-02T00:00:00Z'),
             ('CP-0123456789ab', 'EC-2026-0000302', 'new', '2026-03-03T00:00:00Z', NULL)`);
});
afterAll(async () => {
  await api?.teardown();
});

describe('spot-check results with findings', () => {
  test('when listed, then both kinds come with their findings, newest first, a total and ISO instants; a supervisor sees its divisions', async () => {
    const all = await get('analyst', '/v1/supervision/findings');
    expect(all.status).toBe(200);
    expect(all.body.total).toBe(4);
    expect(all.body.items.map((i: { caseId: string }) => i.caseId)).toEqual([
      'EC-2026-0000202',
      'EC-2026-0000201',
      'EC-2026-0000102',
      'EC-2026-0000101',
    ]);
    expect(all.body.items[3]).toEqual({
      kind: 'desk_check',
      drawId: '2026-03-02',
      caseId: 'EC-2026-0000101',
      divisionCode: '370102',
      unitId: 'licheng-bureau',
      result: 'non_compliant',
      finding: 'no reply to the complainant',
      by: 'insp-1',
      at: '2026-03-02T03:00:00.000Z',
      caseReopened: true,
    });
    const mine = await get('supervisor', '/v1/supervision/findings?result=not_rectified');
    expect(mine.body).toMatchObject({
      total: 1,
      items: [{ caseId: 'EC-2026-0000201', kind: 're_inspection', finding: 'still discharging' }],
    });
    expect((await get('supervisor', '/v1/supervision/findings')).body.total).toBe(2);
    expect((await get('supervisor', '/v1/supervision/findings?division=3702')).status).toBe(403);
    expect((await get('unit', '/v1/supervision/findings')).status).toBe(403);
  });
});

describe('accountability records', () => {
  test('when listed, then each names who answers for which case, with a total; a supervisor sees its divisions', async () => {
    const all = await get('analyst', '/v1/supervision/accountability');
    expect(all.body.total).toBe(2);
    expect(all.body.items[0]).toMatchObject({
      inspectionId: '2026-Q1:EC-2026-0000202',
      reInspectionId: '2026-Q1',
      responsiblePerson: 'Deputy Ma',
      finding: 'false_report',
      createdAt: '2026-03-21T02:00:00.000Z',
    });
    const jinan = await get('supervisor', '/v1/supervision/accountability');
    expect(jinan.body).toMatchObject({ total: 1, items: [{ caseId: 'EC-2026-0000201', responsiblePerson: 'Director Sun' }] });
    expect((await get('otherSupervisor', '/v1/supervision/accountability?unit=licheng-bureau')).body.total).toBe(0);
    expect((await get('inspector', '/v1/supervision/accountability')).status).toBe(403);
  });
});

describe("a campaign's members", () => {
  test('when listed, then the cases it tagged come in the order tagged, with a total and ISO instants', async () => {
    const res = await get('analyst', '/v1/governance/campaigns/CP-0123456789ab/cases?pageSize=1');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ page: 1, pageSize: 1, total: 2 });
    expect(res.body.items).toEqual([
      expect.objectContaining({ caseId: 'EC-2026-0000301', matchedAs: 'open', taggedAt: '2026-03-01T00:00:00.000Z' }),
    ]);
    expect(res.body.items[0].tightenedAt).toMatch(ISO);
    const next = await get('analyst', '/v1/governance/campaigns/CP-0123456789ab/cases?page=2&pageSize=1');
    expect(next.body.items.map((i: { caseId: string }) => i.caseId)).toEqual(['EC-2026-0000302']);
    expect((await get('analyst', '/v1/governance/campaigns/CP-000000000000/cases')).status).toBe(404);
  });
});

describe('totals', () => {
  test('when the spot-check draws and the inspector pool are listed, then each answer has its total', async () => {
    const desk = await get('supervisor', '/v1/supervision/desk-checks');
    expect(desk.body).toMatchObject({ total: 1, items: [{ id: '2026-03-02' }] });
    expect((await get('supervisor', '/v1/supervision/re-inspections')).body.total).toBe(1);
    expect((await get('supervisor', '/v1/supervision/inspectors')).body.total).toBe(0);
    const published = await api.request('GET', '/v1/supervision/public/results');
    expect(published.body).toMatchObject({ total: 0, items: [] });
  });
});
