import { rateNames, type RateSet } from '../domain/rates';
import type { ReportDocument } from '../domain/report';

/**
 * A report as CSV, one figure per row (`section,key,name,metric,value`), so that a spreadsheet can
 * pivot it: every count, share, change and rate of the JSON document. A pure function of the report.
 */

type Cell = string | number | null | undefined;

function field(v: Cell): string {
  if (v === null || v === undefined) return '';
  const s = String(v);
  // Quote what needs it, and defuse cells a spreadsheet would run as a formula.
  const safe = /^[=+\-@\t\r]/.test(s) && typeof v === 'string' ? `'${s}` : s;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

export function renderReportCsv(r: ReportDocument): string {
  const rows: Cell[][] = [['section', 'key', 'name', 'metric', 'value']];
  const add = (section: string, key: string, name: string, metric: string, value: Cell) => rows.push([section, key, name, metric, value]);
  const rates = (section: string, key: string, name: string, set: RateSet) => {
    for (const rate of rateNames) {
      add(section, key, name, `${rate}.numerator`, set[rate].numerator);
      add(section, key, name, `${rate}.denominator`, set[rate].denominator);
      add(section, key, name, `${rate}.value`, set[rate].value);
    }
  };

  add('report', r.id, r.kind, 'period', r.period.label);
  add('report', r.id, r.kind, 'from', r.period.from);
  add('report', r.id, r.kind, 'to', r.period.to);
  add('report', r.id, r.kind, 'partial', r.period.partial ? 'true' : 'false');
  add('report', r.id, r.kind, 'through', r.period.through);
  add('report', r.id, r.kind, 'generatedAt', r.generatedAt);
  add('report', r.id, r.kind, 'policyVersion', r.policyVersion);
  for (const [metric, value] of Object.entries(r.totals)) add('totals', '', '', metric, value);
  for (const [section, list] of [
    ['byCategory', r.byCategory],
    ['byCity', r.byCity],
    ['byDivision', r.byDivision],
    ['byChannel', r.byChannel],
  ] as const) {
    for (const x of list) {
      add(section, x.key, x.name, 'count', x.count);
      add(section, x.key, x.name, 'share', x.share);
    }
  }
  for (const p of r.conflicts.pairs) {
    add('conflicts', `${p.category}|${p.divisionCode}`, `${p.category} in ${p.divisionName}`, 'count', p.count);
    add('conflicts', `${p.category}|${p.divisionCode}`, `${p.category} in ${p.divisionName}`, 'share', p.share);
  }
  for (const k of r.conflicts.keywords) add('keywords', k.word, k.word, 'count', k.count);
  for (const h of r.hotspots.cells) {
    add('hotspotCells', h.cell, h.label, 'count', h.count);
    add('hotspotCells', h.cell, h.label, 'share', h.share);
    add('hotspotCells', h.cell, h.label, 'topCategory', h.topCategory);
    add('hotspotCells', h.cell, h.label, 'division', h.divisionCode);
  }
  for (const a of r.key.areas) add('keyAreas', a.cell, a.label, 'count', a.count);
  for (const p of r.key.problems) {
    add('keyProblems', p.key, p.name, 'count', p.count);
    add('keyProblems', p.key, p.name, 'rising', p.rising ? 'true' : 'false');
  }
  for (const g of r.key.regions) add('keyRegions', g.key, g.name, 'count', g.count);
  add('change', '', r.change.previous.label, 'previous.received', r.change.previous.received);
  add('change', '', r.change.lastYear.label, 'lastYear.received', r.change.lastYear.received);
  add('change', '', r.change.previous.label, 'previous.from', r.change.previous.from);
  add('change', '', r.change.previous.label, 'previous.to', r.change.previous.to);
  add('change', '', r.change.lastYear.label, 'lastYear.from', r.change.lastYear.from);
  add('change', '', r.change.lastYear.label, 'lastYear.to', r.change.lastYear.to);
  add('change', '', '', 'received.change', r.change.received);
  add('change', '', '', 'received.yearOnYear', r.change.yearOnYear);
  for (const [section, list] of [
    ['changeByCategory', r.change.byCategory],
    ['changeByCity', r.change.byCity],
  ] as const) {
    for (const c of list) {
      add(section, c.key, c.name, 'count', c.count);
      add(section, c.key, c.name, 'previous', c.previous);
      add(section, c.key, c.name, 'lastYear', c.lastYear);
      add(section, c.key, c.name, 'change', c.change);
      add(section, c.key, c.name, 'yearOnYear', c.yearOnYear);
    }
  }
  rates('rates', '', 'overall', r.rates.overall);
  rates('rates', '', 'previous', r.rates.previous);
  for (const x of r.rates.byCity) rates('ratesByCity', x.key, x.name, x);
  for (const x of r.rates.byUnit) rates('ratesByUnit', x.key, x.name, x);
  for (const x of r.rates.byCategory) rates('ratesByCategory', x.key, x.name, x);
  for (const h of r.history) {
    add('history', h.label, h.label, 'received', h.received);
    if (h.partial) add('history', h.label, h.label, 'partial', 'true');
  }
  for (const t of r.trend) {
    add('trend', t.label, t.label, 'received', t.received);
    for (const [category, n] of Object.entries(t.byCategory)) add('trend', t.label, category, 'count', n);
    rates('trendRates', t.label, t.label, t.rates);
  }
  return rows.map((row) => row.map(field).join(',')).join('\r\n') + '\r\n';
}
