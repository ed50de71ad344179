import fs from 'node:fs';
import path from 'node:path';
import { FREE_TEXT_EXACT_TOTAL_UP_TO, listCases, type CaseFilter } from '../db/cases';
import { createTestDatabase, type TestDatabase } from './support/database';

/**
 * Free text at a scale where counting every match costs more than a page of them (db/cases.ts
 * listCases, docs/api.md "Free text"): a word in half the cases is listed by walking the list's
 * order, with PostgreSQL's estimate as the total; a rare one is found through the index and counted
 * exactly; a walk that the estimate sent the wrong way (the word only in old cases) falls back to
 * the index, exactly. Every page is the one the exact query gives. And cjk_grams of migration 014
 * gives the grams of migration 011's definition, which its index was built with.
 */

const CASES = 20_000;
/** In every other case. */
const EVERYWHERE = '废水';
/** In the older half only: the newest cases have none. */
const OLD_ONLY = '扬尘';
/** In one case of 1,000. */
const RARE = '太阳造纸分厂';

let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase();
  await db.pool.query(
    `INSERT INTO cases (case_id, status, category, urgency, channel, division_code, title, description, owner_id, policy_version,
                        received_at, deadline_at, view, last_seq)
     SELECT 'EC-2026-' || lpad(i::text, 7, '0'), 'registered', 'air', 'normal', 'hotline', '370102', 'Complaint ' || i,
            concat_ws(' ', '居民反映', CASE WHEN i % 2 = 0 THEN '${EVERYWHERE}' END, CASE WHEN i <= ${CASES / 2} THEN '${OLD_ONLY}' END,
                      CASE WHEN i % 1000 = 0 THEN '${RARE}' END, '情况 ' || i),
            'clerk-1', 'v1', timestamptz '2026-01-01' + i * interval '1 minute', timestamptz '2027-01-01' - (i % 97) * interval '1 hour',
            jsonb_build_object('caseId', 'EC-2026-' || lpad(i::text, 7, '0')), 1
       FROM generate_series(1, ${CASES}) AS i`,
  );
  await db.pool.query('ANALYZE cases');
}, 120_000);

afterAll(async () => {
  await db?.drop();
});

const ids = (items: Array<{ caseId?: string }>) => items.map((c) => c.caseId);

/** The page as one exact query gives it, whatever it costs: the reference every plan must match. */
async function exactPage(word: string, order: string, limit: number, offset = 0): Promise<string[]> {
  const { rows } = await db.pool.query<{ case_id: string }>(
    `SELECT case_id FROM cases WHERE description LIKE $1 ORDER BY ${order} LIMIT $2 OFFSET $3`,
    [`%${word}%`, limit, offset],
  );
  return rows.map((r) => r.case_id);
}

async function pages(f: Omit<CaseFilter, 'after' | 'offset'>, n: number): Promise<string[]> {
  const out: string[] = [];
  let after: string[] | undefined;
  for (let i = 0; i < n; i++) {
    const page = await listCases(db.pool, { ...f, ...(after ? { after } : { offset: 0 }) });
    out.push(...(ids(page.items) as string[]));
    after = page.next;
    if (!after) break;
  }
  return out;
}

describe('free text over many cases', () => {
  test('when a word is in half the cases, then a page is the newest of them and the total an estimate', async () => {
    const page = await listCases(db.pool, { q: EVERYWHERE, limit: 50, offset: 0 });
    expect(page.totalExact).toBe(false);
    expect(page.total).toBeGreaterThan(FREE_TEXT_EXACT_TOTAL_UP_TO);
    expect(page.total).toBeGreaterThan(CASES / 2 / 2);
    expect(page.total).toBeLessThan(CASES);
    expect(ids(page.items)).toEqual(await exactPage(EVERYWHERE, 'received_at DESC, case_id DESC', 50));
  });

  test('when the pages of a common word are followed by cursor, by offset and in another order, then they are the exact ones', async () => {
    expect(await pages({ q: EVERYWHERE, limit: 40 }, 3)).toEqual(await exactPage(EVERYWHERE, 'received_at DESC, case_id DESC', 120));
    const third = await listCases(db.pool, { q: EVERYWHERE, limit: 40, offset: 80 });
    expect(ids(third.items)).toEqual(await exactPage(EVERYWHERE, 'received_at DESC, case_id DESC', 40, 80));
    expect(await pages({ q: EVERYWHERE, limit: 40, sort: 'due', order: 'asc' }, 2)).toEqual(
      await exactPage(EVERYWHERE, 'deadline_at ASC, case_id ASC', 80),
    );
  });

  test('when the cursor reaches the last page of a common word, then the walk ends with the list and the page is the exact one', async () => {
    // After the 20th oldest case with the word, 19 remain: a short page, walked to the list's end.
    const oldest = await db.pool.query<{ received_at: Date; case_id: string }>(
      `SELECT received_at, case_id FROM cases WHERE description LIKE $1 ORDER BY received_at, case_id LIMIT 20`,
      [`%${EVERYWHERE}%`],
    );
    const cursor = oldest.rows[19];
    const page = await listCases(db.pool, { q: EVERYWHERE, limit: 40, after: [cursor.received_at.toISOString(), cursor.case_id] });
    expect(ids(page.items)).toEqual(
      oldest.rows
        .slice(0, 19)
        .map((r) => r.case_id)
        .reverse(),
    );
    expect(page.next).toBeUndefined();
    expect(page.totalExact).toBe(false);
  });

  test('when a word the estimate calls common is not among the newest cases, then the walk gives up and the index answers exactly', async () => {
    const page = await listCases(db.pool, { q: OLD_ONLY, limit: 50, offset: 0 });
    expect(page.totalExact).toBe(true);
    expect(page.total).toBe(CASES / 2);
    expect(ids(page.items)).toEqual(await exactPage(OLD_ONLY, 'received_at DESC, case_id DESC', 50));
  });

  test('when a word is rare, then the index finds every case and counts them exactly', async () => {
    const page = await listCases(db.pool, { q: RARE, limit: 50, offset: 0 });
    expect(page).toMatchObject({ total: CASES / 1000, totalExact: true });
    expect(ids(page.items)).toEqual(await exactPage(RARE, 'received_at DESC, case_id DESC', 50));
  });

  test('when other filters leave few cases, then the total is exact', async () => {
    // The first hour: cases 1 to 59, the even ones with the word.
    const page = await listCases(db.pool, {
      q: EVERYWHERE,
      receivedFrom: '2026-01-01T00:00:00Z',
      receivedTo: '2026-01-01T01:00:00Z',
      limit: 50,
      offset: 0,
    });
    expect(page).toMatchObject({ total: 29, totalExact: true });
  });
});

describe('cjk_grams', () => {
  test('when migration 014 computes the grams, then they are those of the definition the index was built with (011)', async () => {
    // 011's function, as it was: the reference.
    const migration011 = fs.readFileSync(path.join(__dirname, '..', 'db', 'migrations', '011_case_lists.sql'), 'utf8');
    const definition = /CREATE FUNCTION cjk_grams\(doc text\)[\s\S]*?\$\$[\s\S]*?\$\$;/.exec(migration011)![0];
    const client = await db.pool.connect();
    try {
      await client.query(definition.replace('CREATE FUNCTION cjk_grams', 'CREATE FUNCTION pg_temp.cjk_grams_011'));
      const tricky = [
        '',
        'abc',
        '中',
        '中文字',
        'a中b文c',
        `排放${'\u00a0'}废水${'\u3000'}河水`,
        'ÄÖÜäöü Straße',
        '発電所 Ωmega ΣΊΣΥΦΟΣ',
        '😀😀x🏭',
        '中\n文',
      ];
      const { rows } = await client.query<{ n: string }>(
        `WITH texts AS (SELECT unnest($1::text[]) AS t
                        UNION ALL SELECT case_id || E'\\n' || title || E'\\n' || description FROM cases WHERE case_id LIKE '%00')
         SELECT count(*) AS n FROM texts
          WHERE (SELECT array_agg(g ORDER BY g) FROM unnest(cjk_grams(t)) g) IS DISTINCT FROM
                (SELECT array_agg(g ORDER BY g) FROM unnest(pg_temp.cjk_grams_011(t)) g)`,
        [tricky],
      );
      expect(Number(rows[0].n)).toBe(0);
      const sample = await client.query<{ g: string[] }>(`SELECT cjk_grams($1) AS g`, [`排放${'\u00a0'}废水`]);
      expect(sample.rows[0].g.sort()).toEqual(['废', '废水', '排', '排放', '放', '水'].sort());
    } finally {
      client.release();
    }
  });
});
