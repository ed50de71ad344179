import { divisionName } from '../domain/divisions';
import { shandongCityCentres } from '../domain/map-centres';
import { rateDefinitions, rateNames, type Rate, type RateName, type RateSet } from '../domain/rates';
import { daysCovered, type ComparedPeriod, type CountShare, type ReportDocument } from '../domain/report';

/**
 * A report as one self-contained HTML page: inline CSS and inline SVG charts (bars, trend lines, a
 * hotspot map and table), no script, no external resource. A pure function of the report document.
 * Every text that comes from data (titles' keywords, unit and site names) is escaped.
 */

// ---- Text ----

function esc(v: unknown): string {
  return String(v).replace(/[&<>"']/g, (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[ch]!);
}

const int = (n: number) => n.toLocaleString('en-US');
const pct = (x: number | null, digits = 1) => (x === null ? '–' : `${(x * 100).toFixed(digits)}%`);
const signedPct = (x: number | null) => (x === null ? 'n/a' : `${x > 0 ? '+' : x < 0 ? '−' : '±'}${Math.abs(x * 100).toFixed(1)}%`);
const humanize = (s: string) => s.replace(/_/g, ' ');

/** The local date of an ISO instant at the report's UTC offset, as YYYY-MM-DD HH:mm. */
function localTime(isoTime: string, offsetMinutes: number): string {
  const d = new Date(Date.parse(isoTime) + offsetMinutes * 60_000);
  return d.toISOString().slice(0, 16).replace('T', ' ');
}

function utcOffsetLabel(minutes: number): string {
  const sign = minutes < 0 ? '−' : '+';
  const m = Math.abs(minutes);
  return `UTC${sign}${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`;
}

// ---- Colours ----

const categoryColours: Record<string, string> = {
  air: '#5b8def',
  water: '#27a8c4',
  noise: '#f0a330',
  solid_waste: '#8d6e63',
  soil: '#a1887f',
  radiation: '#c2185b',
  ecological: '#43a047',
  dust: '#c9a227',
  odour: '#8e5cc4',
  other: '#90a4ae',
};
const colourOf = (category: string) => categoryColours[category] ?? '#78909c';

/** Red (0%) through amber to green (100%): a continuous scale, no threshold. */
function rateColour(value: number | null): string {
  if (value === null) return '#9e9e9e';
  const hue = Math.round(Math.max(0, Math.min(1, value)) ** 2 * 130);
  return `hsl(${hue} 65% 40%)`;
}

// ---- Charts ----

interface Bar {
  label: string;
  value: number;
  note?: string;
  colour?: string;
}

/** Horizontal bars, the longest scaled to the width. */
function barChart(bars: Bar[], options: { title: string; colour?: string; labelWidth?: number }): string {
  if (!bars.length) return `<p class="empty">No complaints.</p>`;
  const labelWidth = options.labelWidth ?? 150;
  const barArea = 300;
  const row = 24;
  const width = labelWidth + barArea + 120;
  const height = bars.length * row + 8;
  const max = Math.max(...bars.map((b) => b.value), 1);
  const body = bars
    .map((b, i) => {
      const y = 4 + i * row;
      const w = Math.max(1, Math.round((b.value / max) * barArea));
      return `<g class="bar">
  <text x="${labelWidth - 8}" y="${y + 15}" text-anchor="end">${esc(b.label)}</text>
  <rect x="${labelWidth}" y="${y + 3}" width="${w}" height="${row - 8}" rx="3" fill="${b.colour ?? options.colour ?? '#5b8def'}"/>
  <text x="${labelWidth + w + 6}" y="${y + 15}" class="value">${esc(int(b.value))}${b.note ? ` <tspan class="note">${esc(b.note)}</tspan>` : ''}</text>
</g>`;
    })
    .join('\n');
  return `<svg class="chart" role="img" aria-label="${esc(options.title)}" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}">${body}</svg>`;
}

interface Series {
  name: string;
  colour: string;
  values: Array<number | null>;
}

/**
 * Lines over points one step apart (one month each: the spacing is true to time); `percent` scales
 * 0..100%. A point at `partialAt` (a period still running) is drawn hollow, reached by a dashed line.
 * The legend is HTML beside the drawing, so that a long name wraps instead of being clipped.
 */
function lineChart(
  labels: string[],
  series: Series[],
  options: { title: string; percent?: boolean; partialAt?: number; partialNote?: string },
): string {
  const width = 520;
  const height = 220;
  const left = 48;
  const right = 28;
  const top = 14;
  const bottom = 30;
  const plotW = width - left - right;
  const plotH = height - top - bottom;
  const values = series.flatMap((s) => s.values.filter((v): v is number => v !== null));
  const max = options.percent ? 1 : Math.max(1, ...values) * 1.1;
  const min = options.percent ? Math.max(0, Math.min(0.5, ...values.map((v) => v - 0.05))) : 0;
  const x = (i: number) => left + (labels.length === 1 ? plotW / 2 : (i * plotW) / (labels.length - 1));
  const y = (v: number) => top + plotH - ((v - min) / (max - min || 1)) * plotH;
  const ticks = [0, 0.25, 0.5, 0.75, 1].map((t) => min + t * (max - min));
  const grid = ticks
    .map(
      (t) =>
        `<line x1="${left}" x2="${left + plotW}" y1="${y(t).toFixed(1)}" y2="${y(t).toFixed(1)}" class="grid"/>` +
        `<text x="${left - 6}" y="${(y(t) + 4).toFixed(1)}" text-anchor="end" class="axis">${options.percent ? pct(t, 0) : int(Math.round(t))}</text>`,
    )
    .join('');
  // Every label when they fit; else every other one, counted back from the last (the period itself).
  const step = Math.ceil((labels.length * 56) / plotW);
  const last = labels.length - 1;
  const xLabels = labels
    .map((l, i) =>
      (last - i) % step === 0
        ? `<text x="${x(i).toFixed(1)}" y="${height - 8}" text-anchor="${i === 0 && labels.length > 1 ? 'start' : i === last && labels.length > 1 ? 'end' : 'middle'}" class="axis">${esc(l)}${i === options.partialAt ? '*' : ''}</text>`
        : '',
    )
    .join('');
  const lines = series
    .map((s) => {
      const pts = s.values.map((v, i) => (v === null ? null : ([x(i), y(v)] as const)));
      const segment = (i: number) => `${pts[i]![0].toFixed(1)},${pts[i]![1].toFixed(1)}`;
      const solid = pts.map((p, i) => (p && i !== options.partialAt ? `${i === 0 || !pts[i - 1] ? 'M' : 'L'}${segment(i)}` : '')).join(' ');
      const p = options.partialAt;
      const dashed =
        p !== undefined && p > 0 && pts[p] && pts[p - 1]
          ? `<path d="M${segment(p - 1)} L${segment(p)}" fill="none" stroke="${s.colour}" stroke-width="2" stroke-dasharray="5 4" class="partial-line"/>`
          : '';
      const dots = pts
        .map((pt, i) =>
          pt
            ? `<circle cx="${pt[0].toFixed(1)}" cy="${pt[1].toFixed(1)}" r="3.5" ${i === p ? `fill="#fff" stroke="${s.colour}" stroke-width="2" data-partial="true"` : `fill="${s.colour}"`}><title>${esc(`${s.name} ${labels[i]}${i === p ? ' (partial)' : ''}: ${options.percent ? pct(s.values[i]) : int(s.values[i]!)}`)}</title></circle>`
            : '',
        )
        .join('');
      return `<g class="series"><path d="${solid}" fill="none" stroke="${s.colour}" stroke-width="2.5"/>${dashed}${dots}</g>`;
    })
    .join('');
  const legend = series
    .map((s) => `<li><span class="swatch" style="background:${s.colour}"></span><span class="legend-label">${esc(s.name)}</span></li>`)
    .join('');
  const note = options.partialAt !== undefined && options.partialNote ? `<p class="partial-note">${esc(options.partialNote)}</p>` : '';
  return `<figure class="line-chart"><svg class="chart" role="img" aria-label="${esc(options.title)}" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}">${grid}${xLabels}${lines}</svg><ul class="legend">${legend}</ul>${note}</figure>`;
}

/** The hotspot cells on a plain map of the province's cities (equirectangular, corrected for latitude). */
function hotspotMap(r: ReportDocument): string {
  const cells = r.hotspots.cells;
  const points = [...shandongCityCentres.map((c) => ({ lat: c.lat, lon: c.lon })), ...cells];
  const lats = points.map((p) => p.lat);
  const lons = points.map((p) => p.lon);
  const [minLat, maxLat, minLon, maxLon] = [
    Math.min(...lats) - 0.3,
    Math.max(...lats) + 0.3,
    Math.min(...lons) - 0.3,
    Math.max(...lons) + 0.3,
  ];
  const k = Math.cos((((minLat + maxLat) / 2) * Math.PI) / 180);
  const width = 520;
  const scale = width / ((maxLon - minLon) * k);
  const height = Math.round((maxLat - minLat) * scale);
  const px = (lon: number) => ((lon - minLon) * k * scale).toFixed(1);
  const py = (lat: number) => ((maxLat - lat) * scale).toFixed(1);
  const max = Math.max(1, ...cells.map((c) => c.count));
  const cities = shandongCityCentres
    .map(
      (c) =>
        `<circle cx="${px(c.lon)}" cy="${py(c.lat)}" r="2.5" class="city"/><text x="${px(c.lon)}" y="${Number(py(c.lat)) - 6}" text-anchor="middle" class="city-label">${esc(divisionName(c.code))}</text>`,
    )
    .join('');
  const spots = cells
    .map(
      (c, i) =>
        `<g class="hotspot"><circle cx="${px(c.lon)}" cy="${py(c.lat)}" r="${(5 + 16 * Math.sqrt(c.count / max)).toFixed(1)}" fill="${colourOf(c.topCategory)}" fill-opacity="0.55" stroke="${colourOf(c.topCategory)}"><title>${esc(`#${i + 1} ${c.label}: ${c.count} complaints, mostly ${humanize(c.topCategory)}`)}</title></circle>` +
        `<text x="${px(c.lon)}" y="${Number(py(c.lat)) + 4}" text-anchor="middle" class="rank">${i + 1}</text></g>`,
    )
    .join('');
  return `<svg class="chart map" role="img" aria-label="Hotspot map" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}"><rect width="${width}" height="${height}" class="sea"/>${cities}${spots}</svg>`;
}

// ---- Sections ----

function kpi(label: string, value: string, sub = ''): string {
  return `<div class="kpi"><div class="kpi-label">${esc(label)}</div><div class="kpi-value">${value}</div><div class="kpi-sub">${sub}</div></div>`;
}

function trendArrow(change: number | null): string {
  if (change === null) return '<span class="flat">n/a</span>';
  const cls = change > 0 ? 'up' : change < 0 ? 'down' : 'flat';
  const arrow = change > 0 ? '▲' : change < 0 ? '▼' : '■';
  return `<span class="${cls}">${arrow} ${esc(signedPct(change))}</span>`;
}

function rateCard(name: RateName, current: Rate, previous: Rate, previousWords: string): string {
  const def = rateDefinitions[name];
  const delta = current.value !== null && previous.value !== null ? current.value - previous.value : null;
  const deltaText =
    delta === null ? 'no earlier figure' : `${delta >= 0 ? '+' : '−'}${Math.abs(delta * 100).toFixed(1)} pts on ${previousWords}`;
  const angle = (current.value ?? 0) * 360;
  const colour = rateColour(current.value);
  const r = 34;
  const circumference = 2 * Math.PI * r;
  const dash = ((angle / 360) * circumference).toFixed(1);
  return `<div class="rate" data-rate="${name}">
  <svg viewBox="0 0 90 90" width="90" height="90" aria-hidden="true"><circle cx="45" cy="45" r="${r}" class="track"/><circle cx="45" cy="45" r="${r}" fill="none" stroke="${colour}" stroke-width="10" stroke-dasharray="${dash} ${circumference.toFixed(1)}" transform="rotate(-90 45 45)"/></svg>
  <div><div class="rate-title">${esc(def.title)}</div>
  <div class="rate-value" style="color:${colour}">${pct(current.value)}</div>
  <div class="rate-sub">${int(current.numerator)} / ${int(current.denominator)} · ${esc(deltaText)}</div></div>
</div>`;
}

function rateCell(r: Rate): string {
  return `<td class="num" style="color:${rateColour(r.value)}" title="${r.numerator} / ${r.denominator}">${pct(r.value)}<span class="frac">${r.numerator}/${r.denominator}</span></td>`;
}

function rateTable(title: string, rows: Array<{ name: string } & RateSet>): string {
  if (!rows.length) return `<h3>${esc(title)}</h3><p class="empty">No facts in the period.</p>`;
  const head = rateNames.map((n) => `<th class="num">${esc(rateDefinitions[n].title)}</th>`).join('');
  const body = rows.map((row) => `<tr><td>${esc(row.name)}</td>${rateNames.map((n) => rateCell(row[n])).join('')}</tr>`).join('');
  return `<h3>${esc(title)}</h3><table class="rates"><thead><tr><th></th>${head}</tr></thead><tbody>${body}</tbody></table>`;
}

function countBars(list: CountShare[], options: { title: string; colourByKey?: boolean; labels?: (x: CountShare) => string }): string {
  return barChart(
    list.map((x) => ({
      label: options.labels ? options.labels(x) : humanize(x.name),
      value: x.count,
      note: pct(x.share),
      colour: options.colourByKey ? colourOf(x.key) : undefined,
    })),
    { title: options.title },
  );
}

const styles = `
:root { color-scheme: light; --ink:#1f2933; --muted:#616e7c; --line:#e4e7eb; --bg:#f5f7fa; --card:#fff; --accent:#2a6f97; }
* { box-sizing: border-box; }
body { margin:0; font: 14px/1.45 "DejaVu Sans", "Liberation Sans", Arial, sans-serif; color:var(--ink); background:var(--bg); }
header { background: linear-gradient(120deg, #1d4e6b, #2a6f97 60%, #3c8d6e); color:#fff; padding: 22px 32px 18px; }
header h1 { margin:0 0 4px; font-size: 24px; font-weight: 600; }
header .meta { opacity: .85; font-size: 13px; }
main { padding: 20px 32px 40px; max-width: 1180px; }
section { background: var(--card); border:1px solid var(--line); border-radius: 10px; padding: 16px 20px; margin: 0 0 18px; }
section h2 { margin: 0 0 12px; font-size: 17px; color: var(--accent); }
h3 { font-size: 14px; margin: 14px 0 6px; color: var(--muted); text-transform: uppercase; letter-spacing: .04em; }
.grid2 { display:grid; grid-template-columns: 1fr 1fr; gap: 8px 28px; }
.kpis { display:flex; flex-wrap: wrap; gap: 12px; }
.kpi { flex: 1 1 150px; border:1px solid var(--line); border-radius: 8px; padding: 10px 14px; background: #fbfcfd; }
.kpi-label { color: var(--muted); font-size: 12px; text-transform: uppercase; letter-spacing: .04em; }
.kpi-value { font-size: 26px; font-weight: 600; }
.kpi-sub { font-size: 12px; color: var(--muted); min-height: 16px; }
.rates-cards { display:grid; grid-template-columns: repeat(4, 1fr); gap: 12px; }
.rate { display:flex; gap: 10px; align-items:center; border:1px solid var(--line); border-radius: 8px; padding: 8px 10px; }
.rate .track { fill:none; stroke: #eceff1; stroke-width: 10; }
.rate-title { font-weight: 600; }
.rate-value { font-size: 24px; font-weight: 700; }
.rate-sub { font-size: 11px; color: var(--muted); }
.up { color: #c62828; } .down { color: #2e7d32; } .flat { color: var(--muted); }
svg.chart text { font-size: 12px; fill: var(--ink); }
svg.chart .value { font-weight: 600; }
svg.chart .note { fill: var(--muted); font-weight: 400; }
svg.chart .grid { stroke: var(--line); }
svg.chart .axis { fill: var(--muted); font-size: 11px; }
svg.chart { max-width: 100%; height: auto; }
figure.line-chart { margin: 0; min-width: 0; }
ul.legend { list-style: none; display: flex; flex-wrap: wrap; gap: 4px 14px; margin: 4px 0 0; padding: 0 0 0 48px; font-size: 11px; color: var(--muted); }
ul.legend li { display: flex; align-items: center; min-width: 0; max-width: 100%; }
ul.legend .legend-label { overflow-wrap: anywhere; }
.partial-note { margin: 4px 0 0 48px; font-size: 11px; color: #8a5300; }
.partial-mark { background: #fff4e5; border: 1px solid #f0a330; color: #6b4100; border-radius: 10px; padding: 10px 16px; margin: 0 0 18px; }
.partial-badge { font-size: 12px; vertical-align: middle; padding: 2px 8px; border-radius: 10px; background: #f0a330; color: #1f2933; margin-left: 6px; }
.grid2 > div { min-width: 0; }
svg.map .sea { fill: #eef4f8; }
svg.map .city { fill: #607d8b; }
svg.map .city-label { font-size: 10px; fill: #607d8b; }
svg.map .rank { font-size: 10px; font-weight: 700; fill: #102a43; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: 5px 8px; border-bottom: 1px solid var(--line); }
th { font-size: 12px; color: var(--muted); font-weight: 600; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
td .frac { display:block; font-size: 10px; color: var(--muted); }
.swatch { display:inline-block; width:10px; height:10px; border-radius:2px; margin-right:6px; vertical-align: middle; }
.tags span { display:inline-block; margin: 3px 6px 3px 0; padding: 2px 8px; border-radius: 12px; background:#e3eef6; color:#1d4e6b; }
.key li { margin: 3px 0; }
.badge { font-size: 11px; padding: 1px 6px; border-radius: 8px; background:#fde0dc; color:#b71c1c; margin-left: 6px; }
.empty { color: var(--muted); font-style: italic; }
footer { color: var(--muted); font-size: 12px; }
footer dt { font-weight: 600; color: var(--ink); margin-top: 6px; }
footer dd { margin: 0 0 0 12px; }
`;

/** The whole page. */
export function renderReportHtml(r: ReportDocument): string {
  const off = r.period.utcOffsetMinutes;
  const kindTitle = r.kind === 'monthly' ? 'Monthly report' : 'Quarterly report';
  const previousWord = r.kind === 'monthly' ? 'month' : 'quarter';
  // A partial period (still running when built) is compared with the same first days of the others.
  const partial = r.period.partial;
  const spanOf = (x: { from: string; to: string }) => ({ from: Date.parse(x.from), to: Date.parse(x.to) });
  const days = daysCovered({ from: Date.parse(r.period.from), to: Date.parse(r.period.through) });
  const totalDays = daysCovered(spanOf(r.period));
  const previousDays = daysCovered(spanOf(r.change.previous));
  const compared = (c: ComparedPeriod) => (partial ? `${c.label} days 1–${daysCovered(spanOf(c))}` : c.label);
  const currentLabel = partial ? `${r.period.label} days 1–${days}` : r.period.label;
  const partialMark = partial
    ? `<div class="partial-mark" id="partial-period" role="note"><b>Partial period:</b> ${esc(r.period.label)} was still running: its figures run to ${esc(localTime(r.period.through, off))}, day ${days} of ${totalDays}. Every change compares the same days: ${esc(compared(r.change.previous))} and ${esc(compared(r.change.lastYear))}.</div>`
    : '';

  const kpis = [
    kpi(
      'Complaints received',
      int(r.totals.received),
      `${trendArrow(r.change.received)} on ${esc(compared(r.change.previous))} · ${trendArrow(r.change.yearOnYear)} ${partial ? `on ${esc(compared(r.change.lastYear))}` : 'year on year'}`,
    ),
    kpi('Accepted', int(r.totals.accepted)),
    kpi('Completed', int(r.totals.completed)),
    kpi('Callbacks answered', int(r.totals.callbacksAnswered)),
    kpi('Spot-checked', int(r.totals.spotChecked)),
    kpi('Early warnings', int(r.totals.warnings)),
  ].join('');

  const rateCards = rateNames
    .map((n) =>
      rateCard(n, r.rates.overall[n], r.rates.previous[n], partial ? `the same days of ${r.change.previous.label}` : 'the previous period'),
    )
    .join('');

  // Trend: a point per month from the same period a year before to this one, one step per month.
  const history = r.history;
  const historyPartial = history.findIndex((h) => h.partial);
  const partialLabel = historyPartial >= 0 ? history[historyPartial].label : undefined;
  const partialNote = `* ${partialLabel ?? r.period.label} so far: day ${days} of ${totalDays}, to ${localTime(r.period.through, off)}.`;
  const receivedSeries: Series = { name: 'All complaints', colour: '#1d4e6b', values: history.map((h) => h.received) };
  const topCategories = r.byCategory.slice(0, 4).map((c) => c.key);
  const categorySeries: Series[] = topCategories.map((key) => ({
    name: humanize(key),
    colour: colourOf(key),
    values: history.map((h) => h.byCategory[key] ?? 0),
  }));
  const rateLabels = r.kind === 'quarterly' ? r.trend.map((t) => t.label) : [r.change.previous.label, r.period.label];
  const ratePartial = partialLabel === undefined ? -1 : rateLabels.indexOf(partialLabel);
  const rateSets = r.kind === 'quarterly' ? r.trend.map((t) => t.rates) : [r.rates.previous, r.rates.overall];
  const rateColours: Record<RateName, string> = {
    timelyAcceptance: '#2a6f97',
    onTimeCompletion: '#3c8d6e',
    compliance: '#8e5cc4',
    satisfaction: '#f0a330',
  };
  const rateSeries: Series[] = rateNames.map((n) => ({
    name: rateDefinitions[n].title,
    colour: rateColours[n],
    values: rateSets.map((s) => s[n].value),
  }));

  const hotspotRows = r.hotspots.cells
    .map(
      (h, i) =>
        `<tr><td class="num">${i + 1}</td><td>${esc(h.label)}</td><td>${esc(h.divisionName)}</td><td><span class="swatch" style="background:${colourOf(h.topCategory)}"></span>${esc(humanize(h.topCategory))} (${int(h.topCategoryCount)})</td><td class="num">${int(h.count)}</td><td class="num">${pct(h.share)}</td></tr>`,
    )
    .join('');
  const conflictRows = r.conflicts.pairs
    .map(
      (p) =>
        `<tr><td><span class="swatch" style="background:${colourOf(p.category)}"></span>${esc(humanize(p.category))}</td><td>${esc(p.divisionName)}</td><td class="num">${int(p.count)}</td><td class="num">${pct(p.share)}</td></tr>`,
    )
    .join('');
  const maxKeyword = Math.max(1, ...r.conflicts.keywords.map((k) => k.count));
  const keywords = r.conflicts.keywords
    .map((k) => `<span style="font-size:${(12 + 10 * (k.count / maxKeyword)).toFixed(0)}px" title="${k.count}">${esc(k.word)}</span>`)
    .join('');
  const changeRows = r.change.byCategory
    .map(
      (c) =>
        `<tr><td><span class="swatch" style="background:${colourOf(c.key)}"></span>${esc(humanize(c.name))}</td><td class="num">${int(c.count)}</td><td class="num">${int(c.previous)}</td><td class="num">${trendArrow(c.change)}</td><td class="num">${int(c.lastYear)}</td><td class="num">${trendArrow(c.yearOnYear)}</td></tr>`,
    )
    .join('');

  const keyAreas = r.key.areas
    .map(
      (a) => `<li><b>${esc(a.label)}</b> (${esc(a.divisionName)}): ${int(a.count)} complaints, mostly ${esc(humanize(a.topCategory))}</li>`,
    )
    .join('');
  const keyProblems = r.key.problems
    .map(
      (p) =>
        `<li><b>${esc(humanize(p.name))}</b>: ${int(p.count)} (${trendArrow(p.change)} on ${partial ? 'the same days of ' : ''}the previous ${previousWord})${p.rising ? '<span class="badge">rising</span>' : ''}</li>`,
    )
    .join('');
  const keyRegions = r.key.regions.map((g) => `<li><b>${esc(g.name)}</b>: ${int(g.count)} complaints (${pct(g.share)})</li>`).join('');
  const definitions = rateNames
    .map(
      (n) =>
        `<dt>${esc(rateDefinitions[n].title)}</dt><dd>${esc(rateDefinitions[n].numerator)} ÷ ${esc(rateDefinitions[n].denominator)}</dd>`,
    )
    .join('');

  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(`EcoLoop ${kindTitle} ${r.period.label}`)}</title>
<style>${styles}</style>
</head>
<body>
<header>
  <h1>${esc(kindTitle)} · ${esc(r.period.label)}${partial ? ' <span class="partial-badge">partial</span>' : ''}</h1>
  <div class="meta">Complaints received from ${esc(localTime(r.period.from, off))} to ${esc(localTime(r.period.through, off))} (${esc(utcOffsetLabel(off))}) · generated ${esc(localTime(r.generatedAt, off))} · policy ${esc(r.policyVersion)}</div>
</header>
<main>
${partialMark}
<section id="overview"><h2>Overview</h2><div class="kpis">${kpis}</div></section>
<section id="rates"><h2>The four rates</h2><div class="rates-cards">${rateCards}</div></section>
<section id="trend"><h2>Trend</h2><div class="grid2">
  <div><h3>Complaints by month</h3>${lineChart(
    history.map((h) => h.label),
    [receivedSeries, ...categorySeries],
    { title: 'Complaints over time', partialAt: historyPartial >= 0 ? historyPartial : undefined, partialNote },
  )}</div>
  <div><h3>Rates</h3>${lineChart(rateLabels, rateSeries, {
    title: 'Rates over time',
    percent: true,
    partialAt: ratePartial >= 0 ? ratePartial : undefined,
    partialNote: r.kind === 'monthly' ? `${partialNote} ${r.change.previous.label}: its days 1–${previousDays}.` : partialNote,
  })}</div>
</div></section>
<section id="counts"><h2>What, where and how</h2><div class="grid2">
  <div><h3>By problem type</h3>${countBars(r.byCategory, { title: 'Complaints by category', colourByKey: true })}</div>
  <div><h3>By city</h3>${countBars(r.byCity, { title: 'Complaints by city' })}</div>
  <div><h3>By channel</h3>${countBars(r.byChannel, { title: 'Complaints by channel' })}</div>
  <div><h3>Districts and counties with most complaints</h3>${countBars(r.hotspots.divisions, { title: 'Complaints by district or county' })}</div>
</div></section>
<section id="hotspots"><h2>Hotspots</h2><div class="grid2">
  <div>${hotspotMap(r)}</div>
  <div><table class="hotspots"><thead><tr><th class="num">#</th><th>Grid cell (${esc(r.hotspots.cellSizeDegrees)}°)</th><th>Division</th><th>Mostly</th><th class="num">Complaints</th><th class="num">Share</th></tr></thead><tbody>${hotspotRows || '<tr><td colspan="6" class="empty">No located complaints.</td></tr>'}</tbody></table></div>
</div></section>
<section id="conflicts"><h2>Main points of conflict</h2><div class="grid2">
  <div><h3>Problem × place</h3><table><thead><tr><th>Problem</th><th>Division</th><th class="num">Complaints</th><th class="num">Share</th></tr></thead><tbody>${conflictRows}</tbody></table></div>
  <div><h3>What complaints say</h3><div class="tags">${keywords || '<span class="empty">No keywords.</span>'}</div></div>
</div></section>
<section id="key" class="key"><h2>Key areas, problems and regions</h2><div class="grid2">
  <div><h3>Key areas</h3><ol>${keyAreas}</ol><h3>Key regions</h3><ol>${keyRegions}</ol></div>
  <div><h3>Key problems</h3><ol>${keyProblems}</ol></div>
</div></section>
<section id="change"><h2>Change</h2>
  <table><thead><tr><th>Problem</th><th class="num">${esc(currentLabel)}</th><th class="num">${esc(compared(r.change.previous))}</th><th class="num">Change</th><th class="num">${esc(compared(r.change.lastYear))}</th><th class="num">Year on year</th></tr></thead><tbody>${changeRows}</tbody></table>
</section>
<section id="rate-tables"><h2>Rates by city, problem type and unit</h2>
  ${rateTable('By city', r.rates.byCity)}
  ${rateTable(
    'By problem type',
    r.rates.byCategory.map((x) => ({ ...x, name: humanize(x.name) })),
  )}
  ${rateTable('By handling unit (most active)', r.rates.byUnit)}
</section>
<footer><dl>${definitions}</dl></footer>
</main>
</body>
</html>
`;
}
