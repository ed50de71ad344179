import fs from 'node:fs';
import path from 'node:path';
import { chromium, type Browser } from 'playwright-core';
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
  browser = await chromium.launch({ executablePath, args: ['--no-sandbox', '--disable-dev-shm-usage'] });
  fs.mkdirSync(artifacts, { recursive: true });
});
afterAll(async () => {
  await browser?.close();
  await db?.drop();
});

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

  test('when the quarterly report is rendered, then its trend has a point per month of the quarter', async () => {
    const { page, requests } = await open(renderReportHtml(quarterly));
    const labels = await page.$$eval('#trend svg[aria-label="Complaints over time"] text.axis', (ts) => ts.map((t) => t.textContent));
    expect(labels).toEqual(expect.arrayContaining(['2026-07', '2026-08', '2026-09']));
    expect(await page.locator('#trend svg[aria-label="Complaints over time"] circle').count()).toBe(
      3 * (1 + Math.min(4, quarterly.byCategory.length)),
    );
    expect(requests).toEqual([]);
    await page.screenshot({ path: path.join(artifacts, 'report-quarterly.png'), fullPage: true });
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
