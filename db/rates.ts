import type { Pool } from 'pg';
import { divisionName } from '../domain/divisions';
import { iso } from '../domain/instant';
import { emptyRateSet, rate, type RateName, type RateSet } from '../domain/rates';
import type { RateRow } from '../domain/report';
import { inTransaction } from './transaction';

/**
 * The rates repository: the four rates (domain/rates.ts) summed from the rate facts
 * (db/migrations/005_analysis.sql) for any period, overall or per dimension.
 */

/**
 * Run analysis queries in one read-only snapshot with room to hash their grouping sets in memory
 * (a month is some 100,000 facts); the setting lasts for this transaction only.
 */
export function withWorkMem<T>(pool: Pool, fn: (db: Pick<Pool, 'query'>) => Promise<T>): Promise<T> {
  return inTransaction(
    pool,
    async (client) => {
      await client.query(`SET LOCAL work_mem = '64MB'`);
      return fn(client);
    },
    { readOnly: true },
  );
}

const rateOfFact: Record<string, RateName> = {
  acceptance: 'timelyAcceptance',
  completion: 'onTimeCompletion',
  compliance: 'compliance',
  satisfaction: 'satisfaction',
};

export type RateDimension = 'overall' | 'month' | 'city' | 'county' | 'unit' | 'category';

interface RateCell {
  dimension: RateDimension;
  key: string;
  rates: RateSet;
}

/**
 * Every rate fact in [from, to) summed per dimension, exactly as domain/rates.ts defines them: the
 * event facts of case_rate_facts and the spot checks of spot_check_results. `monthStarts` buckets
 * the facts by month for a trend (1 = the first month).
 */
export async function rateCells(
  pool: Pool,
  from: number,
  to: number,
  options: { monthStarts?: number[]; overallOnly?: boolean } = {},
): Promise<RateCell[]> {
  const monthStarts = options.monthStarts ?? [from];
  const [columns, sets] = options.overallOnly
    ? ['NULL::int AS m, NULL AS city, NULL AS county, NULL AS unit_id, NULL AS category, 31 AS g', '(kind)']
    : [
        'm, city, county, unit_id, category, GROUPING(m, city, county, unit_id, category) AS g',
        '(kind), (kind, m), (kind, city), (kind, county), (kind, unit_id), (kind, category)',
      ];
  const { rows } = await withWorkMem(pool, (db) =>
    db.query<{
      kind: string;
      m: number | null;
      city: string | null;
      county: string | null;
      unit_id: string | null;
      category: string | null;
      g: number;
      total: number;
      passed: number;
    }>(
      `SELECT kind, ${columns}, count(*)::int AS total, (count(*) FILTER (WHERE passed))::int AS passed
       FROM (
         SELECT kind, passed, at, division_code, unit_id, category
           FROM case_rate_facts WHERE at >= $1 AND at < $2
         UNION ALL
         SELECT 'compliance', s.compliant, s.checked_at, c.division_code, s.unit_id, c.category
           FROM spot_check_results s
           -- A lookup by primary key per spot check (LIMIT keeps it one), not a join over every case.
           CROSS JOIN LATERAL (SELECT division_code, category FROM cases WHERE case_id = s.case_id LIMIT 1) c
          WHERE s.checked_at >= $1 AND s.checked_at < $2
       ) f,
       LATERAL (SELECT width_bucket(f.at, $3::timestamptz[]) AS m, substr(f.division_code, 1, 4) || '00' AS city,
                       f.division_code AS county) x
      GROUP BY GROUPING SETS (${sets})`,
      [iso(from), iso(to), monthStarts.map(iso)],
    ),
  );
  // GROUPING(m, city, county, unit_id, category): a bit set for each column that is not grouped.
  const dimensionOf: Record<number, RateDimension> = {
    0b11111: 'overall',
    0b01111: 'month',
    0b10111: 'city',
    0b11011: 'county',
    0b11101: 'unit',
    0b11110: 'category',
  };
  const cells = new Map<string, RateCell>();
  for (const r of rows) {
    const dimension = dimensionOf[r.g];
    const key =
      dimension === 'overall'
        ? ''
        : dimension === 'month'
          ? String(r.m)
          : String(
              (dimension === 'city' ? r.city : dimension === 'county' ? r.county : dimension === 'unit' ? r.unit_id : r.category) ?? '',
            );
    const id = `${dimension}:${key}`;
    let cell = cells.get(id);
    if (!cell) cells.set(id, (cell = { dimension, key, rates: emptyRateSet() }));
    cell.rates[rateOfFact[r.kind]] = rate(r.passed, r.total);
  }
  return [...cells.values()];
}

export interface RatesQuery {
  from: number;
  to: number;
  by: Exclude<RateDimension, 'month'>;
}

/** The four rates for a period, overall or per city, county, unit or category. */
export async function ratesFor(pool: Pool, q: RatesQuery): Promise<{ overall: RateSet; rows: RateRow[] }> {
  const cells = await rateCells(pool, q.from, q.to);
  const overall = cells.find((c) => c.dimension === 'overall')?.rates ?? emptyRateSet();
  const rows = cells
    .filter((c) => c.dimension === q.by)
    .map((c) => ({ key: c.key, name: dimensionName(q.by, c.key), ...c.rates }))
    .sort((a, b) => (a.key < b.key ? -1 : 1));
  return { overall, rows };
}

/** The display name of a rate row: a division's name, "(no unit)", or the key itself. */
export function dimensionName(dimension: RateDimension, key: string): string {
  if (dimension === 'city' || dimension === 'county') return divisionName(key);
  if (dimension === 'unit' && key === '') return '(no unit)';
  return key;
}
