import fs from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { renderReportHtml } from '../api/report-html';
import { complaints, projectionRows, type CaseRow, type EventRow } from './support/generator';
import { insertDeskCheckDays, insertProjection } from './support/projection-load';
import { buildReport } from '../db/reports';
import { defaultPolicy } from '../domain/policy';
import { rateDefinitions, rateNames } from '../domain/rates';
import { monthPeriod, quarterPeriod, type ReportDocument } from '../domain/report';
import { createTestDatabase, type TestDatabase } from './support/database';

/**
 * The HTML report in a real headless Chromium (Debian's `chromium` package; CHROMIUM_PATH to use
 * another): rendered from a realistic generated quarter, checked in the DOM, and screenshotted to
 * .test-artifacts/ (git-ignored) for a person to look at.
 */

const executablePath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const artifacts = path.resolve(__dirname, '..', '.test-artifacts');
const OFFSET = defaultPolicy.calendar.utcOffsetMinutes;

let db: TestDatabase;
let browser: Browser;
let monthly: ReportDocument;
let quarterly: ReportDocument;
/** October 2026 built on the 12th at 10:00 local time, while it runs. */
let partialMonthly: ReportDocument;
const local = (y: number, m: number, d: number, h: number) => Date.UTC(y, m - 1, d, h) - OFFSET * 60_000;

beforeAll(async () => {
  if (!fs.existsSync(executablePath)) {
    throw new Error(`No Chromium at ${executablePath}: install Debian's package (apt-get install -y chromium) or set CHROMIUM_PATH.`);
  }
  db = await createTestDatabase();
  // A realistic quarter: 4,000 generated complaints from July to October 2026, as the projection holds them on 20 November.
  const from = monthPeriod(2026, 7, OFFSET).from;
  const to = monthPeriod(2026, 10, OFFSET).to;
  const now = to + 20 * 86_400_000;
  await insertDeskCheckDays(db.pool, from, now, OFFSET);
  const rows: CaseRow[] = [];
  const events: Array<EventRow & { caseId: string }> = [];
  for (const c of complaints({ seed: 11, from, to, count: 4_000 })) {
    const p = projectionRows(c, defaultPolicy, now);
    rows.push(p.row);
    for (const e of p.events) events.push({ ...e, caseId: c.caseId });
  }
  await insertProjection(db.pool, rows, events, now, OFFSET);
  monthly = await buildReport(db.pool, monthPeriod(2026, 10, OFFSET), defaultPolicy, now);
  quarterly = await buildReport(db.pool, quarterPeriod(2026, 3, OFFSET), defaultPolicy, now);
  partialMonthly = await buildReport(db.pool, monthPeriod(2026, 10, OFFSET), defaultPolicy, local(2026, 10, 12, 10));
  browser = await chromium.launch({ executablePath, args: ['--no-sandbox', '--disable-dev-shm-usage'] });
  fs.mkdirSync(artifacts, { recursive: true });
});
afterAll(async () => {
  await browser?.close();
  await db?.drop();
});

/**
 * Every legend label of the trend charts whose text does not fit its box: wider than its own box
 * (scrollWidth over clientWidth), or its box out of the legend's, or the legend out of its chart's
 * column; and every text of the charts' drawings outside its drawing. Empty when nothing is clipped.
 */
interface Box {
  left: number;
  right: number;
  top: number;
  bottom: number;
}
async function clippedLabels(page: Page): Promise<string[]> {
  return page.$$eval('#trend figure.line-chart', (figures) => {
    if (figures.length !== 2) return [`${figures.length} trend charts, not 2`];
    const inside = (a: Box, b: Box) =>
      a.left >= b.left - 0.5 && a.right <= b.right + 0.5 && a.top >= b.top - 0.5 && a.bottom <= b.bottom + 0.5;
    const out: string[] = [];
    for (const figure of figures) {
      const column = figure.parentElement!.getBoundingClientRect();
      const legend = figure.querySelector('ul.legend')!;
      if (!inside(legend.getBoundingClientRect(), column)) out.push(`legend of ${figure.querySelector('svg')!.getAttribute('aria-label')}`);
      for (const label of figure.querySelectorAll('ul.legend .legend-label')) {
        if (label.scrollWidth > label.clientWidth || !inside(label.getBoundingClientRect(), legend.getBoundingClientRect())) {
          out.push(`legend label ${label.textContent}`);
        }
      }
      const svg = figure.querySelector('svg')!.getBoundingClientRect();
      for (const text of figure.querySelectorAll('svg text')) {
        if (!inside(text.getBoundingClientRect(), svg)) out.push(`chart text ${text.textContent}`);
      }
    }
    return out;
  });
}

/** Open the page with every network request refused and recorded: the page must need none. */
async function open(html: string) {
  const page = await browser.newPage({ viewport: { width: 1240, height: 900 } });
  const requests: string[] = [];
  const errors: string[] = [];
  await page.route('**/*', (route) => {
    requests.push(route.request().url());
    return route.abort();
  });
  page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.setContent(html, { waitUntil: 'load' });
  return { page, requests, errors };
}

describe('the HTML report in headless Chromium', () => {
  test('when the monthly report is rendered, then it shows its figures in charts and tables, loads nothing from outside, and is screenshotted', async () => {
    const { page, requests, errors } = await open(renderReportHtml(monthly));
    expect(await page.title()).toBe('EcoLoop Monthly report 2026-10');
    // The four rates, as the report computed them.
    const rates = await page.$$eval('.rate', (els) =>
      els.map((e) => [e.getAttribute('data-rate'), e.querySelector('.rate-value')!.textContent]),
    );
    expect(rates).toEqual(rateNames.map((n) => [n, `${((monthly.rates.overall[n].value ?? 0) * 100).toFixed(1)}%`]));
    // One bar per category, in the report's order, with its count.
    const bars = await page.$$eval('#counts svg[aria-label="Complaints by category"] g.bar', (gs) =>
      gs.map((g) => g.querySelectorAll('text')[1].textContent),
    );
    expect(bars.map((t) => t!.split(' ')[0])).toEqual(monthly.byCategory.map((c) => c.count.toLocaleString('en-US')));
    // The hotspot table lists the report's cells; the map has one bubble per cell.
    const cells = await page.$$eval('table.hotspots tbody tr', (trs) => trs.map((tr) => tr.querySelectorAll('td')[1].textContent));
    expect(cells).toEqual(monthly.hotspots.cells.map((h) => h.label));
    expect(await page.locator('svg.map g.hotspot').count()).toBe(monthly.hotspots.cells.length);
    // Trend lines: complaints and the four rates.
    expect(await page.locator('#trend svg path').count()).toBeGreaterThanOrEqual(5);
    expect(await page.locator('footer dt').allTextContents()).toEqual(rateNames.map((n) => rateDefinitions[n].title));
    expect(monthly.totals.received).toBeGreaterThan(1000);
    expect(requests).toEqual([]);
    expect(errors).toEqual([]);
    await page.screenshot({ path: path.join(artifacts, 'report.png'), fullPage: true });
    expect(fs.statSync(path.join(artifacts, 'report.png')).size).toBeGreaterThan(50_000);
    await page.close();
  });

  test('when the monthly report is rendered, then its trend places each month one step after the last, the month a year ago twelve steps back', async () => {
    const { page } = await open(renderReportHtml(monthly));
    const points = await page.$$eval('#trend svg[aria-label="Complaints over time"] g.series:first-of-type circle', (cs) =>
      cs.map((c) => [Number(c.getAttribute('cx')), c.querySelector('title')!.textContent!.split(':')[0]] as const),
    );
    const months = ['2025-10', '2025-11', '2025-12', ...[1, 2, 3, 4, 5, 6, 7, 8, 9, 10].map((m) => `2026-${String(m).padStart(2, '0')}`)];
    expect(points.map(([, title]) => title)).toEqual(months.map((m) => `All complaints ${m}`));
    const steps = points.slice(1).map(([x], i) => x - points[i][0]);
    for (const step of steps) expect(step).toBeCloseTo(steps[0], 0);
    // The year-ago month is as far from the previous month as twelve months are, not one step.
    expect(points[11][0] - points[0][0]).toBeCloseTo(11 * (points[12][0] - points[11][0]), 0);
    expect(await clippedLabels(page)).toEqual([]);
    await page.close();
  });

  test('when the quarterly report is rendered, then its trend has a point per month from the same quarter a year before', async () => {
    const { page, requests } = await open(renderReportHtml(quarterly));
    const titles = await page.$$eval('#trend svg[aria-label="Complaints over time"] g.series:first-of-type circle title', (ts) =>
      ts.map((t) => t.textContent!.split(':')[0]),
    );
    expect(titles).toEqual(quarterly.history.map((h) => `All complaints ${h.label}`));
    expect(titles.slice(-3)).toEqual(['All complaints 2026-07', 'All complaints 2026-08', 'All complaints 2026-09']);
    expect(quarterly.history[0].label).toBe('2025-07');
    expect(await page.locator('#trend svg[aria-label="Complaints over time"] circle').count()).toBe(
      15 * (1 + Math.min(4, quarterly.byCategory.length)),
    );
    expect(await clippedLabels(page)).toEqual([]);
    expect(requests).toEqual([]);
    await page.screenshot({ path: path.join(artifacts, 'report-quarterly.png'), fullPage: true });
    await page.close();
  });

  test('when a month is reported while it runs, then the page marks it partial and compares it with the same days of September and of October 2025', async () => {
    expect(partialMonthly.period.partial).toBe(true);
    expect(partialMonthly.change.previous.to).toBe(new Date(local(2026, 9, 12, 10)).toISOString());
    const { page, requests, errors } = await open(renderReportHtml(partialMonthly));
    const mark = page.locator('#partial-period');
    expect(await mark.isVisible()).toBe(true);
    const text = (await mark.textContent())!;
    expect(text).toContain('Partial period');
    expect(text).toContain('2026-10-12 10:00, day 12 of 31');
    expect(text).toContain('2026-09 days 1–12');
    expect(text).toContain('2025-10 days 1–12');
    expect(await page.locator('h1 .partial-badge').textContent()).toBe('partial');
    expect(await page.locator('#overview .kpi').first().textContent()).toContain('on 2026-09 days 1–12');
    // The change table heads its columns with the days compared.
    expect(await page.locator('#change thead th').allTextContents()).toEqual(
      expect.arrayContaining(['2026-10 days 1–12', '2026-09 days 1–12', '2025-10 days 1–12']),
    );
    // In the trend, October is the last point, hollow and reached by a dashed line, on every series; the note says why.
    const series = 1 + Math.min(4, partialMonthly.byCategory.length);
    const complaints = page.locator('#trend figure:has(svg[aria-label="Complaints over time"])');
    expect(await complaints.locator('circle[data-partial="true"]').count()).toBe(series);
    expect(await complaints.locator('path.partial-line').count()).toBe(series);
    expect(await complaints.locator('.partial-note').textContent()).toContain('2026-10 so far: day 12 of 31');
    expect(await clippedLabels(page)).toEqual([]);
    expect(requests).toEqual([]);
    expect(errors).toEqual([]);
    await page.screenshot({ path: path.join(artifacts, 'report-partial.png'), fullPage: true });
    await page.close();
  });

  test('when a month is reported after it ended, then the page carries no partial mark and no legend label overflows', async () => {
    const { page } = await open(renderReportHtml(monthly));
    expect(await page.locator('#partial-period').count()).toBe(0);
    expect(await page.locator('.partial-badge, [data-partial], .partial-note').count()).toBe(0);
    const labels = await page.locator('#trend ul.legend .legend-label').allTextContents();
    expect(labels).toEqual([
      'All complaints',
      ...monthly.byCategory.slice(0, 4).map((c) => c.key.replace(/_/g, ' ')),
      ...rateNames.map((n) => rateDefinitions[n].title),
    ]);
    expect(await clippedLabels(page)).toEqual([]);
    // A narrow window: the labels wrap, still inside their boxes.
    await page.setViewportSize({ width: 760, height: 900 });
    expect(await clippedLabels(page)).toEqual([]);
    await page.close();
  });

  test('when a complaint title carries markup, then the page shows it as text and runs nothing', async () => {
    const hostile: ReportDocument = {
      ...monthly,
      conflicts: { ...monthly.conflicts, keywords: [{ word: '<img src=x onerror="document.title=1">', count: 9 }] },
    };
    const { page, requests, errors } = await open(renderReportHtml(hostile));
    expect(await page.locator('img').count()).toBe(0);
    expect(await page.locator('.tags').textContent()).toContain('<img src=x');
    expect(await page.title()).toBe('EcoLoop Monthly report 2026-10');
    expect(requests).toEqual([]);
    expect(errors).toEqual([]);
    await page.close();
  });
});
