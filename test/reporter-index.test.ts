import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { promisify } from 'node:util';
import { listCases } from '../db/cases';
import { reindexReporters, saveReporter, sealReporter } from '../db/reporters';
import { ReporterIndex } from '../runtime/reporter-index';
import { childEnv } from './faults/fault-run';
import { createTestDatabase, type TestDatabase } from './support/database';
import { testReporterKeys } from './support/temporal';

/**
 * The reporter's blind index when its key rotates (docs/privacy.md "Finding a case by its caller"):
 * while both keys are in REPORTER_INDEX_KEYS every row is found; reindexing (at worker start, or
 * `npm run reporters:reindex`) moves every row to the current key, after which the old key may go.
 */

const i1 = randomBytes(32);
const i2 = randomBytes(32);
const i3 = randomBytes(32);
const spec = (...entries: Array<[string, Buffer]>) => entries.map(([id, k]) => `${id}:${k.toString('base64')}`).join(',');

const callers = {
  'EC-2026-0000101': { anonymous: false, name: 'Zhou Xiaoyun', phone: '13700001111', consentToShareWithUnit: false },
  'EC-2026-0000102': { anonymous: false, email: 'caller.102@example.org', phone: '+86 137 0000 2222', consentToShareWithUnit: false },
  'EC-2026-0000103': { anonymous: false, phone: '0086 137 0000 3333', consentToShareWithUnit: true },
};

let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase();
  const indexI1 = ReporterIndex.parse(spec(['i1', i1]), 'i1');
  for (const [caseId, reporter] of Object.entries(callers)) {
    await db.pool.query(
      `INSERT INTO cases (case_id, status, category, urgency, channel, division_code, title, owner_id, policy_version, received_at, view, last_seq)
       VALUES ($1, 'registered', 'air', 'normal', 'hotline', '370102', 't', 'clerk-1', 'v1', now(), '{}', 1)`,
      [caseId],
    );
    // The last one as a projection without the index stored it: no digests at all.
    const index = caseId.endsWith('103') ? undefined : indexI1.digestsOf(reporter);
    await saveReporter(db.pool, caseId, sealReporter(testReporterKeys, caseId, reporter), index);
  }
}, 60_000);

afterAll(async () => {
  await db?.drop();
});

const found = async (index: ReporterIndex, phone: string) =>
  (await listCases(db.pool, { reporter: [{ kind: 'phone', digests: index.searchDigests('phone', phone)! }], limit: 10, offset: 0 })).items
    .length;
const keyIds = async () =>
  (await db.pool.query(`SELECT index_key_id FROM case_reporters ORDER BY case_id`)).rows.map((r) => r.index_key_id);

test('when the index key rotates, then rows are found under both keys until reindexed, and under the new key alone after', async () => {
  const both = ReporterIndex.parse(spec(['i1', i1], ['i2', i2]), 'i2');
  const newOnly = ReporterIndex.parse(spec(['i2', i2]), 'i2');
  expect(await found(both, '137 0000 1111')).toBe(1);
  expect(await found(newOnly, '137 0000 1111')).toBe(0);
  expect(await found(both, '13700003333')).toBe(0); // never indexed

  expect(await reindexReporters(db.pool, testReporterKeys, both)).toEqual({ reindexed: 3, unreadable: 0 });
  expect(await keyIds()).toEqual(['i2', 'i2', 'i2']);
  expect(await found(newOnly, '137 0000 1111')).toBe(1);
  expect(await found(newOnly, '8613700002222')).toBe(1);
  expect(await found(newOnly, '+86 13700003333')).toBe(1);
  const byEmail = await listCases(db.pool, {
    reporter: [{ kind: 'email', digests: newOnly.searchDigests('email', 'Caller.102@Example.org')! }],
    limit: 10,
  });
  expect(byEmail.items).toHaveLength(1);
  // Nothing left under the old key: a second pass does nothing.
  expect(await reindexReporters(db.pool, testReporterKeys, newOnly)).toEqual({ reindexed: 0, unreadable: 0 });
});

test('when npm run reporters:reindex runs with a new current key, then every row is indexed under it, and it prints no caller', async () => {
  const root = path.resolve(__dirname, '..');
  const { stdout, stderr } = await promisify(execFile)(
    process.execPath,
    ['--import', 'tsx', path.join(root, 'runtime/reporters-reindex.ts')],
    {
      cwd: root,
      env: childEnv({
        DATABASE_URL: db.url,
        REPORTER_INDEX_KEYS: spec(['i2', i2], ['i3', i3]),
        REPORTER_INDEX_KEY_ID: 'i3',
        LOG_LEVEL: 'info',
      }),
    },
  );
  expect(stdout).toContain('"reindexed":3');
  expect(await keyIds()).toEqual(['i3', 'i3', 'i3']);
  expect(await found(ReporterIndex.parse(spec(['i3', i3]), 'i3'), '13700002222')).toBe(1);
  for (const n of ['13700001111', '13700002222', '13700003333', 'caller.102', 'Zhou']) expect(`${stdout}${stderr}`).not.toContain(n);
});
