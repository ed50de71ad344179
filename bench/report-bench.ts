import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { ratesFor } from '../db/rates';
import { buildReport } from '../db/reports';
import { listWarnings } from '../db/warnings';
import { listCases } from '../db/cases';
import { migrate } from '../db/migrate';
import { createPool, type Pool } from '../db/pool';
import { defaultPolicy } from '../domain/policy';
import { monthPeriod, quarterPeriod } from '../domain/report';
import { startEmbeddedPostgres } from '../runtime/embedded-postgres';
import { freePort } from '../test/support/ports';
import { createScratchDatabase } from '../test/support/scratch-database';
import { complaints, projectionRows, type CaseRow, type EventRow } from '../test/support/generator';
import { insertDeskCheckDays, insertProjection, insertReporters } from '../test/support/projection-load';
import { sealReporter } from '../db/reporters';
import { reporterKeyRingFromConfig } from '../runtime/reporter-seal';
import { reporterIndexFromConfig } from '../runtime/reporter-index';

/**
 * `npm run bench:report [-- --cases 1000000 --months 24 --keep]`: bulk-generates complaints
 * (bench/generator.ts) straight into a fresh database, as the projection would hold them (multi-row
 * INSERTs from arrays, not through Temporal), then times the monthly and quarterly reports and the
 * main list queries, the free-text search (English and Chinese) and the search by the reporter's
 * phone number (blind index). Every description gets a Chinese sentence naming one of 2,000
 * companies (below), as Chinese complaints name the polluter. PostgreSQL: a scratch database on DATABASE_URL's server, or an embedded one
 * in a temporary folder. Figures: bench/RESULTS.md.
 */

const { values: args } = parseArgs({
  options: {
    cases: { type: 'string', default: '1000000' },
    months: { type: 'string', default: '24' },
    seed: { type: 'string', default: '2026' },
    keep: { type: 'boolean', default: false },
  },
});
const CASES = Number(args.cases);
const MONTHS = Number(args.months);
const OFFSET = defaultPolicy.calendar.utcOffsetMinutes;
/** The report month: the last month of the generated span. */
const REPORT = monthPeriod(2026, 10, OFFSET);
const FROM = monthPeriod(2026, 10 - MONTHS + 1, OFFSET).from;
/** "Now" for the projection: some weeks after the report month, as on the day it is read. */
const NOW = REPORT.to + 26 * 86_400_000;
const CHUNK = 5_000;

// Chinese text for the free-text search: a sentence naming one of 40 × 50 companies and a pollution.
const NAME_HEADS =
  '华鲁恒升金能齐鲁东岳鲁西晨鸣太阳海化联盟潍坊泰山章丘临沂枣庄日照威海烟台济宁德州聊城滨州菏泽莱芜淄博东营青岛黄河泉城明水平阴商河长清历城天桥槐荫'
    .match(/../g)!
    .slice(0, 40);
const NAME_TAILS = ['化工', '化肥', '造纸', '钢铁', '水泥', '焦化', '制药', '印染', '电镀', '橡胶'].flatMap((kind) =>
  ['有限公司', '集团', '股份公司', '分厂', '工业园'].map((form) => `${kind}${form}`),
);
const POLLUTIONS = [
  '夜间偷排废水，河水发黑发臭',
  '烟囱冒黑烟，气味刺鼻',
  '噪声扰民，深夜不停工',
  '露天堆放废渣，扬尘严重',
  '异味明显，居民头晕',
];
const chineseSentence = (i: number) =>
  `${NAME_HEADS[i % NAME_HEADS.length]}${NAME_TAILS[Math.floor(i / NAME_HEADS.length) % NAME_TAILS.length]}${POLLUTIONS[i % POLLUTIONS.length]}。`;
/** The company the Chinese search looks for (one in 2,000), a common two-character word, and one character. */
const CHINESE_QUERIES = { company: `${NAME_HEADS[7]}${NAME_TAILS[13]}`, word: '废水', char: '臭' };
const reporterKeys = reporterKeyRingFromConfig(process.env);
const reporterIndex = reporterIndexFromConfig(process.env);

const log = (line: string) => process.stderr.write(`${line}\n`);

function progress(done: number, total: number, started: number): void {
  const width = 30;
  const filled = Math.round((done / total) * width);
  const rate = done / Math.max(1, (Date.now() - started) / 1000);
  process.stderr.write(
    `\r  [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done.toLocaleString('en-US')}/${total.toLocaleString('en-US')} cases, ${Math.round(rate).toLocaleString('en-US')}/s   `,
  );
}

async function database(): Promise<{ url: string; stop(): Promise<void> }> {
  const name = `ecoloop_bench_report_${Date.now()}`;
  if (process.env.DATABASE_URL) {
    const scratch = await createScratchDatabase(process.env.DATABASE_URL, name);
    return {
      url: scratch.url,
      async stop() {
        if (!args.keep) await scratch.drop();
      },
    };
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ecoloop-bench-report-'));
  fs.chmodSync(dir, 0o755);
  const pg = await startEmbeddedPostgres({ dataDir: path.join(dir, 'data'), port: await freePort(), database: name });
  log(`embedded PostgreSQL in ${dir}${args.keep ? ' (kept)' : ''}`);
  return {
    url: pg.url,
    async stop() {
      await pg.stop();
      if (!args.keep) fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function load(pool: Pool): Promise<{ cases: number; events: number; reporters: number; seconds: number; phone?: string }> {
  await insertDeskCheckDays(pool, FROM, NOW + 2 * 86_400_000, OFFSET);
  const started = Date.now();
  let rows: CaseRow[] = [];
  let events: Array<EventRow & { caseId: string }> = [];
  let reporters: Parameters<typeof insertReporters>[1] = [];
  let cases = 0;
  let eventCount = 0;
  let reporterCount = 0;
  let phone: string | undefined;
  for (const c of complaints({ seed: Number(args.seed), from: FROM, to: REPORT.to, count: CASES })) {
    const projected = projectionRows(c, defaultPolicy, NOW);
    projected.row.description = `${projected.row.description} ${chineseSentence(cases + rows.length)}`;
    rows.push(projected.row);
    const r = c.intake.reporter;
    if (!r.anonymous) {
      reporters.push({ caseId: c.caseId, ...sealReporter(reporterKeys, c.caseId, r), index: reporterIndex.digestsOf(r) });
      // The caller the reporter search looks for: one in the middle of the span.
      if (!phone && cases > CASES / 2) phone = r.phone;
    }
    for (const e of projected.events) events.push({ ...e, caseId: c.caseId });
    if (rows.length === CHUNK) {
      await insertProjection(pool, rows, events, NOW, OFFSET);
      await insertReporters(pool, reporters);
      cases += rows.length;
      eventCount += events.length;
      reporterCount += reporters.length;
      rows = [];
      events = [];
      reporters = [];
      progress(cases, CASES, started);
    }
  }
  if (rows.length) {
    await insertProjection(pool, rows, events, NOW, OFFSET);
    await insertReporters(pool, reporters);
    cases += rows.length;
    eventCount += events.length;
    reporterCount += reporters.length;
  }
  progress(cases, CASES, started);
  process.stderr.write('\n');
  return { cases, events: eventCount, reporters: reporterCount, seconds: (Date.now() - started) / 1000, phone };
}

async function timed<T>(fn: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const t0 = process.hrtime.bigint();
  const value = await fn();
  return { ms: Number(process.hrtime.bigint() - t0) / 1e6, value };
}

/** Median of `runs` timed runs, after one warm-up run (reported apart as the first, cold run). */
async function measure(name: string, fn: () => Promise<unknown>, runs = 5): Promise<{ name: string; first: number; median: number }> {
  const first = (await timed(fn)).ms;
  const times: number[] = [];
  for (let i = 0; i < runs; i++) times.push((await timed(fn)).ms);
  times.sort((a, b) => a - b);
  return { name, first, median: times[Math.floor(times.length / 2)] };
}

/** The free-text searches (with their totals), each with the number of cases it finds. */
async function freeText(pool: Pool): Promise<Array<{ name: string; first: number; median: number }>> {
  const searches: Array<[string, string]> = [
    ['"chemical"', 'chemical'],
    [`a company, "${CHINESE_QUERIES.company}" (${CHINESE_QUERIES.company.length} characters)`, CHINESE_QUERIES.company],
    [`a common word, "${CHINESE_QUERIES.word}" (2 characters)`, CHINESE_QUERIES.word],
    [`one character, "${CHINESE_QUERIES.char}"`, CHINESE_QUERIES.char],
  ];
  const results = [];
  for (const [label, q] of searches) {
    const { total, totalExact, next } = await listCases(pool, { q, limit: 50, offset: 0 });
    const found = `${totalExact ? '' : 'about '}${total.toLocaleString('en-US')} cases${totalExact ? '' : ' (the estimate the answer gives)'}`;
    results.push(await measure(`case list, free text ${label}: ${found}`, () => listCases(pool, { q, limit: 50, offset: 0 })));
    if (q === CHINESE_QUERIES.word && next) {
      results.push(
        await measure(`case list, free text ${label}, the next page by cursor`, () => listCases(pool, { q, limit: 50, after: next })),
      );
    }
  }
  return results;
}

async function main(): Promise<void> {
  const db = await database();
  const pool = createPool(db.url, { max: 8 });
  try {
    await migrate(pool);
    log(
      `generating ${CASES.toLocaleString('en-US')} cases over ${MONTHS} months (${new Date(FROM).toISOString()} to ${new Date(REPORT.to).toISOString()}), seed ${args.seed}`,
    );
    // A bulk load builds the free-text indexes (migration 011) once, after the rows, not row by row.
    const textIndexes = (
      await pool.query<{ def: string; name: string }>(
        `SELECT indexname AS name, indexdef AS def FROM pg_indexes WHERE indexname IN ('cases_text_trgm_idx', 'cases_text_cjk_idx')`,
      )
    ).rows;
    for (const i of textIndexes) await pool.query(`DROP INDEX ${i.name}`);
    const loaded = await load(pool);
    const indexStarted = Date.now();
    for (const i of textIndexes) await pool.query(i.def);
    log(`built the free-text indexes in ${((Date.now() - indexStarted) / 1000).toFixed(0)} s`);
    log(
      `loaded ${loaded.cases.toLocaleString('en-US')} cases and ${loaded.events.toLocaleString('en-US')} events in ${loaded.seconds.toFixed(0)} s; VACUUM ANALYZE`,
    );
    await pool.query('VACUUM ANALYZE');
    const sizes = (
      await pool.query(
        `SELECT (SELECT count(*) FROM case_rate_facts)::int AS facts, (SELECT count(*) FROM spot_check_results)::int AS checks, pg_size_pretty(pg_database_size(current_database())) AS size`,
      )
    ).rows[0];

    const month = monthPeriod(REPORT.year, REPORT.index, OFFSET);
    const quarter = quarterPeriod(REPORT.year, Math.ceil(REPORT.index / 3), OFFSET);
    const monthIso = { from: new Date(month.from).toISOString(), to: new Date(month.to).toISOString() };
    const report = await buildReport(pool, month, defaultPolicy);
    const results = [
      await measure(`monthly report ${month.label} (${report.totals.received.toLocaleString('en-US')} complaints)`, () =>
        buildReport(pool, month, defaultPolicy),
      ),
      await measure(`quarterly report ${quarter.label}`, () => buildReport(pool, quarter, defaultPolicy)),
      await measure('rates of the month by unit', () => ratesFor(pool, { from: month.from, to: month.to, by: 'unit' })),
      await measure('case list, newest first (page 1 of 50, with total)', () => listCases(pool, { limit: 50, offset: 0 })),
      await measure('case list, status=handling', () => listCases(pool, { status: ['handling'], limit: 50, offset: 0 })),
      await measure('case list, one city (3701) in the month', () =>
        listCases(pool, { divisionPrefixes: ['3701'], receivedFrom: monthIso.from, receivedTo: monthIso.to, limit: 50, offset: 0 }),
      ),
      await measure('case list, one unit (bureau-370102)', () => listCases(pool, { unitId: 'bureau-370102', limit: 50, offset: 0 })),
      await measure('case list, overdue', () => listCases(pool, { overdue: true, limit: 50, offset: 0 })),
      await measure('case list, page 200 of the month', () =>
        listCases(pool, { receivedFrom: monthIso.from, receivedTo: monthIso.to, limit: 50, offset: 199 * 50 }),
      ),
      ...(await freeText(pool)),
      await measure(`case list, sort=due (page 1 of 50, with total)`, () =>
        listCases(pool, { sort: 'due', order: 'asc', limit: 50, offset: 0 }),
      ),
      await measure(`case list, reporterPhone (blind index; ${loaded.reporters.toLocaleString('en-US')} reporters)`, () =>
        listCases(pool, {
          reporter: [{ kind: 'phone', digests: reporterIndex.searchDigests('phone', `+86 ${loaded.phone ?? '13900000000'}`)! }],
          limit: 50,
          offset: 0,
        }),
      ),
      await measure('warning list', () => listWarnings(pool, { limit: 50, offset: 0 })),
    ];

    const machine = `${os.cpus().length} × ${os.cpus()[0]?.model.trim()}, ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB memory, node ${process.version}, PostgreSQL ${(await pool.query('SHOW server_version')).rows[0].server_version}, ${os.platform()} ${os.release()}`;
    const lines = [
      `Machine: ${machine}`,
      `Data: ${loaded.cases.toLocaleString('en-US')} cases, ${loaded.events.toLocaleString('en-US')} events, ${sizes.facts.toLocaleString('en-US')} rate facts, ${sizes.checks.toLocaleString('en-US')} spot checks, database ${sizes.size}; loaded in ${loaded.seconds.toFixed(0)} s`,
      `Monthly report ${month.label}: ${report.totals.received.toLocaleString('en-US')} complaints, timely acceptance ${((report.rates.overall.timelyAcceptance.value ?? 0) * 100).toFixed(1)}%, on-time completion ${((report.rates.overall.onTimeCompletion.value ?? 0) * 100).toFixed(1)}%, compliance ${((report.rates.overall.compliance.value ?? 0) * 100).toFixed(1)}%, satisfaction ${((report.rates.overall.satisfaction.value ?? 0) * 100).toFixed(1)}%`,
      '',
      '| query | first run (ms) | median of 5 (ms) |',
      '|---|---:|---:|',
      ...results.map((r) => `| ${r.name} | ${r.first.toFixed(0)} | ${r.median.toFixed(0)} |`),
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
  } finally {
    await pool.end();
    await db.stop();
  }
}

main().catch((err) => {
  process.stderr.write(`bench failed: ${(err as Error).stack ?? err}\n`);
  process.exit(1);
});
