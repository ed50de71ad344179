import type { Pool } from 'pg';
import { cityCodeOf, divisionName } from '../domain/divisions';
import { GRID_EPSILON, cellLabel, cellOf } from '../domain/hotspots';
import { iso } from '../domain/instant';
import type { Policy } from '../domain/policy';
import { emptyRateSet, type RateSet } from '../domain/rates';
import {
  change,
  elapsedOf,
  historyMonths,
  monthsOf,
  parsePeriod,
  previousPeriod,
  reportIdFor,
  sameStretchOf,
  samePeriodLastYear,
  titleKeywords,
  type ChangeRow,
  type ComparedPeriod,
  type CountShare,
  type Hotspot,
  type Period,
  type PeriodKind,
  type ReportDocument,
  type Span,
  type TrendPoint,
} from '../domain/report';
import { dimensionName, rateCells, withWorkMem, type RateDimension } from './rates';

/**
 * The reports repository: the monthly and quarterly report built from the case projection and the
 * rate facts, and its storage.
 */

const bySize = <T extends { count: number; key: string }>(a: T, b: T) => b.count - a.count || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);

function factCount(r: RateSet): number {
  return r.timelyAcceptance.denominator + r.onTimeCompletion.denominator + r.compliance.denominator + r.satisfaction.denominator;
}

interface Counts {
  received: number;
  located: number;
  merged: number;
  category: Map<string, number>;
  division: Map<string, number>;
  city: Map<string, number>;
  channel: Map<string, number>;
  pairs: Map<string, number>;
}

function emptyCounts(): Counts {
  return {
    received: 0,
    located: 0,
    merged: 0,
    category: new Map(),
    division: new Map(),
    city: new Map(),
    channel: new Map(),
    pairs: new Map(),
  };
}

/** Complaints received in the period, the previous one and the same one a year before (each over its span), in one scan. */
async function receivedCounts(pool: Pool, periods: [Span, Span, Span]): Promise<[Counts, Counts, Counts]> {
  const { rows } = await withWorkMem(pool, (db) =>
    db.query<{
      p: number;
      category: string | null;
      division_code: string | null;
      channel: string | null;
      g: number;
      n: number;
      located: number;
      merged: number;
    }>(
      `SELECT p, category, division_code, channel, GROUPING(category, division_code, channel) AS g, count(*)::int AS n,
            (count(*) FILTER (WHERE lat IS NOT NULL AND lon IS NOT NULL))::int AS located,
            (count(*) FILTER (WHERE merged_into IS NOT NULL))::int AS merged
       FROM (
         SELECT CASE WHEN received_at >= $1 AND received_at < $2 THEN 0 WHEN received_at >= $3 AND received_at < $4 THEN 1 ELSE 2 END AS p,
                category, division_code, channel, lat, lon, merged_into
           FROM cases
          WHERE (received_at >= $1 AND received_at < $2) OR (received_at >= $3 AND received_at < $4) OR (received_at >= $5 AND received_at < $6)
       ) scoped
      GROUP BY GROUPING SETS ((p), (p, category), (p, division_code), (p, channel), (p, category, division_code))`,
      periods.flatMap((p) => [iso(p.from), iso(p.to)]),
    ),
  );
  const out: [Counts, Counts, Counts] = [emptyCounts(), emptyCounts(), emptyCounts()];
  for (const r of rows) {
    const c = out[r.p];
    switch (r.g) {
      case 0b111:
        c.received = r.n;
        c.located = r.located;
        c.merged = r.merged;
        break;
      case 0b011:
        c.category.set(r.category!, r.n);
        break;
      case 0b101: {
        c.division.set(r.division_code!, r.n);
        const city = cityCodeOf(r.division_code!);
        c.city.set(city, (c.city.get(city) ?? 0) + r.n);
        break;
      }
      case 0b110:
        c.channel.set(r.channel!, r.n);
        break;
      case 0b001:
        c.pairs.set(`${r.category}|${r.division_code}`, r.n);
        break;
    }
  }
  return out;
}

/** The most complained-about grid cells, with the category and division that dominate each. */
async function hotspotCells(pool: Pool, period: Span, cellSize: number, top: number): Promise<Array<Omit<Hotspot, 'share'>>> {
  const { rows } = await pool.query<{ r: string; c: string; total: number; category: string; division_code: string; n: number }>(
    `WITH g AS (
       SELECT floor(lat / $3::float8 + $5::float8)::bigint AS r, floor(lon / $3::float8 + $5::float8)::bigint AS c,
              category, division_code, count(*)::int AS n
         FROM cases
        WHERE received_at >= $1 AND received_at < $2 AND lat IS NOT NULL AND lon IS NOT NULL
        GROUP BY 1, 2, 3, 4
     ), top AS (
       SELECT r, c, sum(n)::int AS total FROM g GROUP BY r, c ORDER BY total DESC, r, c LIMIT $4
     )
     SELECT top.r, top.c, top.total, g.category, g.division_code, g.n FROM top JOIN g USING (r, c)`,
    [iso(period.from), iso(period.to), cellSize, top, GRID_EPSILON],
  );
  const cells = new Map<string, { r: number; c: number; total: number; category: Map<string, number>; division: Map<string, number> }>();
  for (const row of rows) {
    const key = `${row.r}:${row.c}`;
    let cell = cells.get(key);
    if (!cell) cells.set(key, (cell = { r: Number(row.r), c: Number(row.c), total: row.total, category: new Map(), division: new Map() }));
    cell.category.set(row.category, (cell.category.get(row.category) ?? 0) + row.n);
    cell.division.set(row.division_code, (cell.division.get(row.division_code) ?? 0) + row.n);
  }
  const topOf = (m: Map<string, number>) => [...m.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))[0];
  return [...cells.values()]
    .map((cell) => {
      const g = cellOf(cell.r, cell.c, cellSize);
      const [topCategory, topCategoryCount] = topOf(cell.category);
      const [divisionCode] = topOf(cell.division);
      return {
        cell: g.key,
        label: cellLabel(g),
        lat: g.lat,
        lon: g.lon,
        count: cell.total,
        topCategory,
        topCategoryCount,
        divisionCode,
        divisionName: divisionName(divisionCode),
      };
    })
    .sort((a, b) => b.count - a.count || (a.cell < b.cell ? -1 : 1));
}

async function titleWords(pool: Pool, period: Span, policy: Policy): Promise<Array<{ word: string; count: number }>> {
  const { rows } = await pool.query<{ title: string; n: number }>(
    `SELECT title, count(*)::int AS n FROM cases WHERE received_at >= $1 AND received_at < $2 GROUP BY title`,
    [iso(period.from), iso(period.to)],
  );
  const { keywordMinLength, stopwords, top } = policy.analysis.report;
  const counts = new Map<string, number>();
  for (const r of rows) {
    for (const word of titleKeywords(r.title, keywordMinLength, stopwords)) counts.set(word, (counts.get(word) ?? 0) + r.n);
  }
  return [...counts.entries()]
    .map(([word, count]) => ({ word, count }))
    .sort((a, b) => b.count - a.count || (a.word < b.word ? -1 : 1))
    .slice(0, top.keywords);
}

/** Complaints received per month, up to `until` (the end of a partial period). */
async function trendCounts(
  pool: Pool,
  months: Period[],
  until: number,
): Promise<Array<{ received: number; byCategory: Record<string, number> }>> {
  const { rows } = await pool.query<{ m: number; category: string | null; g: number; n: number }>(
    `SELECT m, category, GROUPING(category) AS g, count(*)::int AS n
       FROM (SELECT width_bucket(received_at, $3::timestamptz[]) AS m, category FROM cases WHERE received_at >= $1 AND received_at < $2) x
      GROUP BY GROUPING SETS ((m), (m, category))`,
    [iso(months[0].from), iso(Math.min(until, months[months.length - 1].to)), months.map((m) => iso(m.from))],
  );
  const out: Array<{ received: number; byCategory: Record<string, number> }> = months.map(() => ({ received: 0, byCategory: {} }));
  for (const r of rows) {
    const point = out[r.m - 1];
    if (r.g === 1) point.received = r.n;
    else point.byCategory[r.category!] = r.n;
  }
  return out;
}

async function warningsRaised(pool: Pool, period: Span): Promise<number> {
  const { rows } = await pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM warnings WHERE raised_at >= $1 AND raised_at < $2`, [
    iso(period.from),
    iso(period.to),
  ]);
  return rows[0].n;
}

function share(count: number, total: number): number {
  return total > 0 ? count / total : 0;
}

function countShares(m: Map<string, number>, total: number, name: (key: string) => string = (k) => k): CountShare[] {
  return [...m.entries()].map(([key, count]) => ({ key, name: name(key), count, share: share(count, total) })).sort(bySize);
}

function changeRows(
  cur: Map<string, number>,
  prev: Map<string, number>,
  lastYear: Map<string, number>,
  name: (key: string) => string = (k) => k,
): ChangeRow[] {
  const keys = new Set([...cur.keys(), ...prev.keys(), ...lastYear.keys()]);
  return [...keys]
    .map((key) => {
      const count = cur.get(key) ?? 0;
      const previous = prev.get(key) ?? 0;
      const ly = lastYear.get(key) ?? 0;
      return { key, name: name(key), count, previous, lastYear: ly, change: change(count, previous), yearOnYear: change(count, ly) };
    })
    .sort(bySize);
}

const isoTime = (ms: number) => new Date(ms).toISOString();
const isoSpan = (s: Span) => ({ from: isoTime(s.from), to: isoTime(s.to) });

/**
 * Build the report of a period from the projection: counts and shares, points of conflict,
 * hotspots, key areas, problems and regions, the change on the previous period and on the same
 * period a year before, the four rates, and the trend over the period's months and the year before.
 * A period still running at `now` is partial: its figures run to `now`, and it is compared with the
 * same first days of the previous period and of the same period a year before, like with like.
 */
export async function buildReport(pool: Pool, period: Period, policy: Policy, now: number = Date.now()): Promise<ReportDocument> {
  const { analysis } = policy;
  const top = analysis.report.top;
  const elapsed = elapsedOf(period, now);
  const previous = previousPeriod(period);
  const lastYear = samePeriodLastYear(period);
  const previousSpan = elapsed.partial ? sameStretchOf(previous, elapsed.to - elapsed.from) : previous;
  const lastYearSpan = elapsed.partial ? sameStretchOf(lastYear, elapsed.to - elapsed.from) : lastYear;
  const months = monthsOf(period);
  const history = historyMonths(period);

  const [[cur, prev, ly], hotCells, keywords, rates, previousRates, monthly, warnings] = await Promise.all([
    receivedCounts(pool, [elapsed, previousSpan, lastYearSpan]),
    hotspotCells(pool, elapsed, analysis.hotspots.cellSizeDegrees, top.cells),
    titleWords(pool, elapsed, policy),
    rateCells(pool, elapsed.from, elapsed.to, { monthStarts: months.map((m) => m.from) }),
    rateCells(pool, previousSpan.from, previousSpan.to, { overallOnly: true }),
    trendCounts(pool, history, elapsed.to),
    warningsRaised(pool, elapsed),
  ]);
  const trend = monthly.slice(history.length - months.length);
  const compared = (p: Period, span: Span, received: number): ComparedPeriod => ({ label: p.label, received, ...isoSpan(span) });
  const cells: Hotspot[] = hotCells.map((c) => ({ ...c, share: share(c.count, cur.received) }));

  const byDivision = countShares(cur.division, cur.received, divisionName);
  const byCity = countShares(cur.city, cur.received, divisionName);
  const categoryChange = changeRows(cur.category, prev.category, ly.category);
  const overall = rates.find((c) => c.dimension === 'overall')?.rates ?? emptyRateSet();
  const rateRows = (dimension: RateDimension) =>
    rates.filter((c) => c.dimension === dimension).map((c) => ({ key: c.key, name: dimensionName(dimension, c.key), ...c.rates }));

  return {
    id: reportIdFor(period),
    kind: period.kind,
    period: {
      label: period.label,
      from: new Date(period.from).toISOString(),
      to: new Date(period.to).toISOString(),
      utcOffsetMinutes: period.utcOffsetMinutes,
      partial: elapsed.partial,
      through: isoTime(elapsed.to),
    },
    generatedAt: new Date(now).toISOString(),
    policyVersion: policy.version,
    totals: {
      received: cur.received,
      located: cur.located,
      merged: cur.merged,
      accepted: overall.timelyAcceptance.denominator,
      completed: overall.onTimeCompletion.denominator,
      callbacksAnswered: overall.satisfaction.denominator,
      spotChecked: overall.compliance.denominator,
      warnings,
    },
    byCategory: countShares(cur.category, cur.received),
    byCity,
    byDivision,
    byChannel: countShares(cur.channel, cur.received),
    conflicts: {
      pairs: [...cur.pairs.entries()]
        .map(([key, count]) => {
          const [category, divisionCode] = key.split('|');
          return { key, category, divisionCode, divisionName: divisionName(divisionCode), count, share: share(count, cur.received) };
        })
        .sort(bySize)
        .slice(0, top.conflicts)
        .map(({ key: _key, ...pair }) => pair),
      keywords,
    },
    hotspots: { cellSizeDegrees: analysis.hotspots.cellSizeDegrees, cells, divisions: byDivision.slice(0, top.divisions) },
    key: {
      areas: cells.slice(0, top.key),
      problems: categoryChange
        .filter((r) => r.count > 0)
        .slice(0, top.key)
        .map((r) => ({ ...r, rising: r.change !== null && r.change >= analysis.report.risingAt })),
      regions: byCity.slice(0, top.key),
    },
    change: {
      previous: compared(previous, previousSpan, prev.received),
      lastYear: compared(lastYear, lastYearSpan, ly.received),
      received: change(cur.received, prev.received),
      yearOnYear: change(cur.received, ly.received),
      byCategory: categoryChange,
      byCity: changeRows(cur.city, prev.city, ly.city, divisionName),
    },
    rates: {
      overall,
      previous: previousRates.find((c) => c.dimension === 'overall')?.rates ?? emptyRateSet(),
      byCity: rateRows('city').sort((a, b) => (a.key < b.key ? -1 : 1)),
      byUnit: rateRows('unit')
        .sort((a, b) => factCount(b) - factCount(a) || (a.key < b.key ? -1 : 1))
        .slice(0, top.units),
      byCategory: rateRows('category').sort((a, b) => (a.key < b.key ? -1 : 1)),
    },
    trend: months.map((m, i): TrendPoint => ({
      label: m.label,
      received: trend[i].received,
      byCategory: trend[i].byCategory,
      rates: rates.find((c) => c.dimension === 'month' && c.key === String(i + 1))?.rates ?? emptyRateSet(),
    })),
    // Months not yet begun have no point; the month running at `now` is partial.
    history: history
      .map((m, i) => ({ label: m.label, ...monthly[i], partial: m.to > elapsed.to, begun: m.from < elapsed.to }))
      .filter((m) => m.begun)
      .map(({ begun: _begun, ...m }) => m),
  };
}

/**
 * A stored document as the renderers expect it: reports stored before partial periods and the
 * history existed were built after their period, over whole periods, with the period's months alone.
 */
function withDefaults(body: ReportDocument): ReportDocument {
  const offset = body.period.utcOffsetMinutes;
  const whole = (c: ComparedPeriod): ComparedPeriod => {
    const p = c.from ? undefined : parsePeriod(body.kind, c.label, offset);
    return p ? { ...c, ...isoSpan(p) } : c;
  };
  return {
    ...body,
    period: { ...body.period, partial: body.period.partial ?? false, through: body.period.through ?? body.period.to },
    change: { ...body.change, previous: whole(body.change.previous), lastYear: whole(body.change.lastYear) },
    history: body.history ?? body.trend.map((t) => ({ label: t.label, received: t.received, byCategory: t.byCategory, partial: false })),
  };
}

export async function storeReport(pool: Pool, report: ReportDocument): Promise<void> {
  await pool.query(
    `INSERT INTO reports (report_id, kind, period_label, period_from, period_to, generated_at, body)
     VALUES ($1, $2, $3, $4, $5, $6, $7)
     ON CONFLICT (report_id) DO UPDATE SET generated_at = EXCLUDED.generated_at, body = EXCLUDED.body,
       period_from = EXCLUDED.period_from, period_to = EXCLUDED.period_to`,
    [report.id, report.kind, report.period.label, report.period.from, report.period.to, report.generatedAt, JSON.stringify(report)],
  );
}

export async function getReport(pool: Pool, reportId: string): Promise<ReportDocument | undefined> {
  const { rows } = await pool.query<{ body: ReportDocument }>(`SELECT body FROM reports WHERE report_id = $1`, [reportId]);
  return rows[0] && withDefaults(rows[0].body);
}

export interface ReportSummary {
  id: string;
  kind: PeriodKind;
  period: string;
  from: string;
  to: string;
  generatedAt: string;
  received: number;
}

export async function listReports(
  pool: Pool,
  f: { kind?: PeriodKind; limit: number; offset: number },
): Promise<{ total: number; items: ReportSummary[] }> {
  const params: unknown[] = [f.kind ?? null];
  const where = `WHERE ($1::text IS NULL OR kind = $1)`;
  const total = await pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM reports ${where}`, params);
  const { rows } = await pool.query(
    `SELECT report_id, kind, period_label, period_from, period_to, generated_at, (body->'totals'->>'received')::int AS received
       FROM reports ${where} ORDER BY period_from DESC, kind LIMIT ${f.limit} OFFSET ${f.offset}`,
    params,
  );
  return {
    total: total.rows[0].n,
    items: rows.map((r) => ({
      id: r.report_id,
      kind: r.kind,
      period: r.period_label,
      from: r.period_from.toISOString(),
      to: r.period_to.toISOString(),
      generatedAt: r.generated_at.toISOString(),
      received: r.received,
    })),
  };
}
