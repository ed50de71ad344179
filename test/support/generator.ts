import { addDuration, durationMs } from '../../domain/calendar';
import type { CaseView, Channel, Closure, Intake } from '../../domain/case';
import { shandongCities } from './shandong-sample';
import { casePolicy, type Category, type Policy } from '../../domain/policy';

/**
 * Synthetic complaints for the benchmark and `npm run demo`: pure and seeded, so the same seed
 * gives the same complaints. Realistic mixes of problem types, cities and channels of Shandong;
 * locations around city centres and around polluting sites that draw repeated complaints; a
 * daily and weekly rhythm; and outcomes and timings relative to the policy's limits (mostly on
 * time, some late, a few extended, returned, forwarded or duplicated).
 *
 * `complaints` yields the intake and its plan; `projectionRows` turns one into the rows the
 * projection would hold at a given moment (a cases row and its case_events), as the complaint
 * workflow would have emitted them.
 */

// ---- Seeded randomness ----

export type Random = () => number;

/** mulberry32: a small, fast, seeded generator of floats in [0, 1). */
export function seeded(seed: number): Random {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

function pick<T>(rnd: Random, weighted: ReadonlyArray<readonly [T, number]>): T {
  const total = weighted.reduce((s, [, w]) => s + w, 0);
  let x = rnd() * total;
  for (const [v, w] of weighted) if ((x -= w) < 0) return v;
  return weighted[weighted.length - 1][0];
}

function normal(rnd: Random): number {
  const u = Math.max(rnd(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rnd());
}

const between = (rnd: Random, lo: number, hi: number) => lo + (hi - lo) * rnd();

// ---- What complaints are like ----

const categoryWeights: ReadonlyArray<readonly [Category, number]> = [
  ['noise', 25],
  ['air', 22],
  ['odour', 12],
  ['water', 12],
  ['dust', 10],
  ['solid_waste', 8],
  ['ecological', 4],
  ['other', 4],
  ['soil', 2],
  ['radiation', 1],
];
const channelWeights: ReadonlyArray<readonly [Channel, number]> = [
  ['hotline', 35],
  ['wechat', 20],
  ['web', 12],
  ['gov_app', 10],
  ['online_question', 5],
  ['weibo', 5],
  ['letter', 4],
  ['visit', 4],
  ['media', 3],
  ['broadcast', 2],
];
/** Share of the province's complaints per city (by prefix), roughly by population and industry. */
const cityWeights: ReadonlyArray<readonly [string, number]> = [
  ['3702', 14],
  ['3701', 12],
  ['3713', 10],
  ['3707', 10],
  ['3703', 8],
  ['3706', 7],
  ['3708', 7],
  ['3717', 6],
  ['3714', 5],
  ['3715', 5],
  ['3716', 4],
  ['3709', 4],
  ['3705', 3],
  ['3711', 2],
  ['3710', 2],
  ['3704', 1],
];

const titles: Record<Category, string[]> = {
  air: [
    'Black smoke from boiler chimney',
    'Factory exhaust at night',
    'Burning waste smoke',
    'Kiln emissions over village',
    'Coal smoke from workshop',
  ],
  water: [
    'Sewage discharged into river',
    'Oily water in canal',
    'Foam on the river',
    'Factory outfall turns water red',
    'Dead fish in pond',
  ],
  noise: [
    'Pile driving after midnight',
    'Night construction noise',
    'Loud music from bar',
    'Generator noise at night',
    'Plant fans roaring',
  ],
  solid_waste: ['Illegal dumping of rubbish', 'Construction waste in field', 'Medical waste in bins', 'Slag heap by road'],
  soil: ['Contaminated soil at old plant', 'Chemical drums buried in field'],
  radiation: ['Radio mast near school', 'Unlicensed X-ray equipment'],
  ecological: ['Illegal sand mining in river', 'Wetland filled for building', 'Trees felled on hillside'],
  dust: ['Dust from construction site', 'Uncovered trucks spill dust', 'Open stockpile blowing dust', 'Road dust from quarry'],
  odour: ['Chemical odour at night', 'Stench from pig farm', 'Rotten smell from landfill', 'Paint fumes from workshop'],
  other: ['Pollution complaint', 'Environmental concern near home'],
};

const siteKinds: Record<Category, string> = {
  air: 'boiler plant',
  water: 'paper mill',
  noise: 'construction site',
  solid_waste: 'transfer station',
  soil: 'chemical plant',
  radiation: 'clinic',
  ecological: 'sand yard',
  dust: 'concrete plant',
  odour: 'chemical plant',
  other: 'workshop',
};

/** A polluting site that draws repeated complaints of one kind. */
export interface Site {
  siteId: string;
  name: string;
  category: Category;
  divisionCode: string;
  lat: number;
  lon: number;
  /** Relative pull on complaints of its city and category. */
  weight: number;
}

/** Polluting sites of the province: a few per city, placed around the centre. Pure in the seed. */
export function sitesOf(seed: number): Site[] {
  const rnd = seeded(seed ^ 0x5eed);
  const sites: Site[] = [];
  for (const city of shandongCities) {
    for (let i = 0; i < 6; i++) {
      const county = city.counties[Math.floor(rnd() * city.counties.length)];
      const category = pick(rnd, categoryWeights);
      sites.push({
        siteId: `SITE-${county.code}-${String(i + 1).padStart(2, '0')}`,
        name: `${county.name} ${siteKinds[category]} No. ${i + 1}`,
        category,
        divisionCode: county.code,
        lat: Math.round((city.lat + normal(rnd) * 0.06) * 1e5) / 1e5,
        lon: Math.round((city.lon + normal(rnd) * 0.07) * 1e5) / 1e5,
        weight: 0.5 + rnd() * 2,
      });
    }
  }
  return sites;
}

// ---- Complaints and their plans ----

/**
 * What will happen to a complaint, as fractions of the policy's limits (so urgent cases get hours
 * and normal ones days): when it is accepted, replied to, and how the callback ends.
 */
export interface Plan {
  kind: 'handled' | 'forwarded' | 'duplicate';
  /** The earlier complaint about the same site that this one duplicates. */
  duplicateOf?: string;
  unitId: string;
  /** Acceptance after this fraction of the acceptance limit (above 1: late). */
  acceptAt: number;
  /** Extension asked at this fraction of the handling limit, in days of the policy's extension unit. */
  extension?: { at: number; amount: number };
  /** The reply after this fraction of the handling limit (with any extension; above 1: late). */
  replyAt: number;
  /** The first reply is returned once, and the second comes after this fraction of the rework limit. */
  rework?: number;
  callback: 'satisfied' | 'basically_satisfied' | 'dissatisfied' | 'unreachable';
  /** A desk check reviews it the day after closure. */
  deskCheck?: 'compliant' | 'non_compliant';
}

export interface GeneratedComplaint {
  caseId: string;
  receivedAt: number;
  intake: Omit<Intake, 'receivedAt'>;
  plan: Plan;
}

export interface GeneratorOptions {
  seed: number;
  /** Epoch ms; complaints are received in [from, to). */
  from: number;
  to: number;
  /** Exactly this many complaints. */
  count: number;
  /** The case number of the first complaint (numbers run on). */
  firstNumber?: number;
  /** Local time offset of the daily rhythm (minutes; China Standard Time by default). */
  utcOffsetMinutes?: number;
  /** A flare-up: from `since`, this share of complaints are about one site (the first of `sitesOf`), as before an early warning. */
  flareUp?: { since: number; share: number };
}

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** Complaints per hour of the local day, relative. */
const hourly = [1, 0.6, 0.4, 0.3, 0.3, 0.5, 1, 2, 4, 6, 6.5, 6, 5, 5.5, 6, 6, 5.5, 5, 4.5, 4.5, 4.5, 4, 3, 2];

/** How many complaints fall on each local day: a weekly rhythm (fewer at weekends), exactly `count` in all. */
function dailyCounts(rnd: Random, from: number, to: number, count: number, offsetMs: number): Array<{ start: number; n: number }> {
  const days: Array<{ start: number; weight: number }> = [];
  for (let start = Math.floor((from + offsetMs) / DAY) * DAY - offsetMs; start < to; start += DAY) {
    const weekday = new Date(start + offsetMs).getUTCDay();
    days.push({ start, weight: (weekday === 0 || weekday === 6 ? 0.7 : 1) * (0.85 + 0.3 * rnd()) });
  }
  const total = days.reduce((s, d) => s + d.weight, 0);
  const exact = days.map((d) => (d.weight / total) * count);
  const out = days.map((d, i) => ({ start: d.start, n: Math.floor(exact[i]) }));
  let left = count - out.reduce((s, d) => s + d.n, 0);
  const byRemainder = exact.map((x, i) => [x - Math.floor(x), i] as const).sort((a, b) => b[0] - a[0]);
  for (const [, i] of byRemainder) {
    if (left-- <= 0) break;
    out[i].n++;
  }
  return out;
}

/** The complaints in receipt order, generated lazily (a million fit in a stream, not in memory). */
export function* complaints(options: GeneratorOptions): Generator<GeneratedComplaint> {
  const rnd = seeded(options.seed);
  const offsetMs = (options.utcOffsetMinutes ?? 480) * 60_000;
  const sites = sitesOf(options.seed);
  const sitesByCity = new Map<string, Site[]>();
  for (const s of sites) sitesByCity.set(s.divisionCode.slice(0, 4), [...(sitesByCity.get(s.divisionCode.slice(0, 4)) ?? []), s]);
  const openAtSite = new Map<string, { caseId: string; at: number }>();
  const hourWeights = hourly.map((w, h) => [h, w] as const);
  let number = options.firstNumber ?? 1;

  for (const day of dailyCounts(rnd, options.from, options.to, options.count, offsetMs)) {
    const times: number[] = [];
    for (let i = 0; i < day.n; i++) {
      const t = day.start + pick(rnd, hourWeights) * HOUR + Math.floor(rnd() * HOUR);
      times.push(Math.min(Math.max(t, options.from), options.to - 1));
    }
    times.sort((a, b) => a - b);
    for (const receivedAt of times) {
      const flaring = options.flareUp && receivedAt >= options.flareUp.since && rnd() < options.flareUp.share ? sites[0] : undefined;
      const cityPrefix = flaring ? flaring.divisionCode.slice(0, 4) : pick(rnd, cityWeights);
      const city = shandongCities.find((c) => c.prefix === cityPrefix)!;
      // About one complaint in five is about a known site, which draws repeated complaints.
      const citySites = sitesByCity.get(cityPrefix) ?? [];
      const site =
        flaring ??
        (rnd() < 0.2 && citySites.length
          ? pick(
              rnd,
              citySites.map((s) => [s, s.weight] as const),
            )
          : undefined);
      const category = site?.category ?? pick(rnd, categoryWeights);
      const county = site ? { code: site.divisionCode } : city.counties[Math.floor(rnd() * city.counties.length)];
      const located = site || rnd() < 0.85;
      const lat = site ? site.lat + normal(rnd) * 0.002 : city.lat + normal(rnd) * 0.08;
      const lon = site ? site.lon + normal(rnd) * 0.002 : city.lon + normal(rnd) * 0.1;
      const anonymous = rnd() < 0.15;
      const caseId = `EC-${new Date(receivedAt + offsetMs).getUTCFullYear()}-${String(number++).padStart(7, '0')}`;
      const titleList = titles[category];
      const title = site
        ? `${titleList[Math.floor(rnd() * titleList.length)]} at ${site.name}`
        : titleList[Math.floor(rnd() * titleList.length)];

      // The plan: a duplicate of an open complaint about the same site, forwarded, or handled.
      let plan: Plan;
      const open = site && openAtSite.get(site.siteId);
      const unitId = `bureau-${county.code}`;
      if (open && receivedAt - open.at < 20 * DAY && rnd() < 0.5) {
        plan = { kind: 'duplicate', duplicateOf: open.caseId, unitId, acceptAt: 0, replyAt: 0, callback: 'satisfied' };
      } else if (rnd() < 0.04) {
        plan = { kind: 'forwarded', unitId, acceptAt: between(rnd, 0.05, 0.5), replyAt: 0, callback: 'satisfied' };
      } else {
        const late = rnd();
        const extended = rnd() < 0.06;
        plan = {
          kind: 'handled',
          unitId,
          acceptAt: late < 0.03 ? between(rnd, 1.02, 1.4) : between(rnd, 0.03, 0.5),
          ...(extended && { extension: { at: between(rnd, 0.6, 0.9), amount: 30 } }),
          replyAt: rnd() < 0.05 ? between(rnd, 1.01, 1.25) : between(rnd, 0.1, 0.95),
          ...(rnd() < 0.05 && { rework: rnd() < 0.85 ? between(rnd, 0.2, 0.9) : between(rnd, 1.05, 1.5) }),
          callback: pick(rnd, [
            ['satisfied', 70],
            ['basically_satisfied', 18],
            ['dissatisfied', 8],
            ['unreachable', 4],
          ] as const),
          ...(rnd() < 0.23 && { deskCheck: rnd() < 0.98 ? ('compliant' as const) : ('non_compliant' as const) }),
        };
        if (site) openAtSite.set(site.siteId, { caseId, at: receivedAt });
      }

      yield {
        caseId,
        receivedAt,
        plan,
        intake: {
          channel: pick(rnd, channelWeights),
          category,
          urgency: rnd() < 0.02 ? 'urgent' : 'normal',
          divisionCode: county.code,
          title,
          description: `${title}. Reported by ${anonymous ? 'an anonymous caller' : 'a resident'} in ${city.name}.`,
          location: located
            ? {
                lat: Math.round(lat * 1e5) / 1e5,
                lon: Math.round(lon * 1e5) / 1e5,
                ...(site && { siteId: site.siteId, address: site.name }),
              }
            : {},
          reporter: anonymous
            ? { anonymous: true, consentToShareWithUnit: false }
            : {
                anonymous: false,
                name: `Resident ${number}`,
                phone: `139${String(Math.floor(rnd() * 1e8)).padStart(8, '0')}`,
                consentToShareWithUnit: rnd() < 0.3,
              },
          missing: [],
        },
      };
    }
  }
}

// ---- As the projection holds them ----

export interface EventRow {
  seq: number;
  type: string;
  at: number;
  actorId: string;
  actorRole: string;
  deadlineAt?: number;
  data?: Record<string, unknown>;
}

export interface CaseRow {
  caseId: string;
  status: CaseView['status'];
  closure?: Closure;
  category: Category;
  urgency: string;
  channel: string;
  divisionCode: string;
  title: string;
  description: string;
  lat?: number;
  lon?: number;
  siteId?: string;
  ownerId: string;
  unitId?: string;
  policyVersion: string;
  receivedAt: number;
  acceptedAt?: number;
  repliedAt?: number;
  closedAt?: number;
  deadline?: { kind: 'accept' | 'handle' | 'rework' | 'callback'; dueAt: number };
  mergedInto?: string;
  anonymous: boolean;
  reporterConsent: boolean;
  returns: number;
  extensionGranted: number;
  view: CaseView;
  lastSeq: number;
  /** A desk check of the closed case: when it was reviewed and with what result. */
  deskCheck?: { reviewedAt: number; compliant: boolean };
}

const OWNER = 'clerk-demo';

/** The rows of one complaint as the projection holds them at `now`: only what has happened by then. */
export function projectionRows(c: GeneratedComplaint, policy: Policy, now: number): { row: CaseRow; events: EventRow[] } {
  const p = casePolicy(policy, c.intake.category, c.intake.urgency);
  const limits = p.limits;
  const add = (start: number, d: Parameters<typeof addDuration>[1]) => addDuration(start, d, p.calendar);
  const fraction = (start: number, end: number, f: number) => start + Math.round((end - start) * f);
  const events: EventRow[] = [];
  let status: CaseView['status'] = 'registered';
  let closure: Closure | undefined;
  let deadline: CaseRow['deadline'];
  let unitId: string | undefined;
  let acceptedAt: number | undefined;
  let repliedAt: number | undefined;
  let closedAt: number | undefined;
  let returns = 0;
  let extensionGranted = 0;
  let deskCheck: CaseRow['deskCheck'];
  const emit = (type: string, at: number, actor: [string, string], data?: Record<string, unknown>): boolean => {
    if (at > now) return false;
    events.push({
      seq: events.length + 1,
      type,
      at,
      actorId: actor[0],
      actorRole: actor[1],
      ...(deadline && { deadlineAt: deadline.dueAt }),
      ...(data && { data }),
    });
    return true;
  };
  const clerk: [string, string] = [OWNER, 'clerk'];
  const system: [string, string] = ['ecoloop', 'system'];
  const unit = (): [string, string] => [unitId!, 'unit'];

  const r = c.receivedAt;
  emit('registered', r, clerk, {
    channel: c.intake.channel,
    category: c.intake.category,
    urgency: c.intake.urgency,
    policyVersion: p.version,
  });
  const plan = c.plan;
  (() => {
    if (plan.kind === 'duplicate') {
      closure = 'duplicate';
      closedAt = r;
      status = 'archived';
      emit('closed', r, system, { closure, linkedTo: plan.duplicateOf });
      return;
    }
    deadline = { kind: 'accept', dueAt: add(r, limits.accept) };
    status = 'pending_acceptance';
    emit('registered_for_acceptance', r, system);
    const acceptAt = fraction(r, deadline.dueAt, plan.acceptAt);
    if (plan.kind === 'forwarded') {
      if (acceptAt > now) return;
      deadline = undefined;
      closure = 'forwarded';
      closedAt = acceptAt;
      status = 'archived';
      emit('closed', acceptAt, clerk, { closure, competentBody: 'Housing and urban-rural development bureau' });
      return;
    }
    if (acceptAt > now) return;
    unitId = plan.unitId;
    acceptedAt = acceptAt;
    status = 'handling';
    const handleDue = add(acceptAt, limits.handle);
    deadline = { kind: 'handle', dueAt: handleDue };
    emit('accepted', acceptAt, clerk, { unitId });
    let due = handleDue;
    if (plan.extension) {
      const askAt = fraction(acceptAt, handleDue, plan.extension.at);
      if (!emit('extension_requested', askAt, unit(), { amount: plan.extension.amount, unit: limits.maxExtension.unit })) return;
      const amount = Math.min(plan.extension.amount, limits.maxExtension.amount);
      due = add(handleDue, { amount, unit: limits.maxExtension.unit });
      deadline = { kind: 'handle', dueAt: due };
      extensionGranted = amount;
      if (!emit('extension_approved', askAt + HOUR, ['sup-demo', 'supervisor'], { amount })) return;
    }
    let replyAt = fraction(acceptAt, due, plan.replyAt);
    if (replyAt > now) return;
    if (plan.rework !== undefined) {
      deadline = undefined;
      status = 'under_review';
      emit('result_submitted', replyAt, unit(), { summary: 'Investigated and ordered to stop.' });
      const reworkDue = add(replyAt + HOUR, limits.rework);
      deadline = { kind: 'rework', dueAt: reworkDue };
      returns = 1;
      status = 'handling';
      if (!emit('result_returned', replyAt + HOUR, clerk)) return;
      replyAt = fraction(replyAt + HOUR, reworkDue, plan.rework);
      if (replyAt > now) return;
    }
    deadline = undefined;
    repliedAt = replyAt;
    status = 'under_review';
    emit('result_submitted', replyAt, unit(), { summary: 'Investigated and rectified.' });
    const approvedAt = replyAt + 4 * HOUR;
    if (!emit('result_approved', approvedAt, clerk)) return;
    if (c.intake.reporter.anonymous) {
      emit('callback_skipped', approvedAt, system);
      closure = 'no_callback';
    } else {
      deadline = { kind: 'callback', dueAt: add(approvedAt, limits.callback.spacing) };
      status = 'callback';
      emit('callback_attempt_started', approvedAt, system, { attempt: 1 });
      const answeredAt = approvedAt + Math.round(durationMs({ amount: 2, unit: 'hours' }));
      if (plan.callback === 'unreachable') {
        const lastAt = deadline.dueAt;
        if (!emit('callback_unreachable', lastAt, system, { attempt: limits.callback.attempts })) return;
        closure = 'unreachable';
        closedAt = lastAt;
      } else {
        if (
          !emit('callback_answered', answeredAt, clerk, {
            outcome: plan.callback,
            reasonableDemand: plan.callback === 'dissatisfied' ? false : null,
          })
        )
          return;
        closure = plan.callback === 'dissatisfied' ? 'resolved_dissatisfied' : 'resolved';
      }
    }
    closedAt ??= events[events.length - 1].at;
    deadline = undefined;
    status = 'closed';
    emit('closed', closedAt, clerk, {
      closure,
      ...(plan.callback !== 'unreachable' && !c.intake.reporter.anonymous && { satisfaction: plan.callback }),
    });
    if (plan.deskCheck && closedAt + DAY <= now) deskCheck = { reviewedAt: closedAt + DAY, compliant: plan.deskCheck === 'compliant' };
  })();

  const iso = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString());
  const view: CaseView = {
    caseId: c.caseId,
    status,
    closure,
    category: c.intake.category,
    urgency: c.intake.urgency,
    channel: c.intake.channel,
    divisionCode: c.intake.divisionCode,
    title: c.intake.title,
    owner: { id: OWNER, role: 'clerk' },
    unitId,
    escalationLevel: 0,
    escalation: 'none',
    policyVersion: p.version,
    receivedAt: iso(r)!,
    acceptedAt: iso(acceptedAt),
    closedAt: iso(closedAt),
    deadline: deadline && { kind: deadline.kind, dueAt: iso(deadline.dueAt)!, warned: false, overdue: now > deadline.dueAt },
    extensionGranted,
    returns,
    reopenCount: 0,
    callbackAttempts: 0,
    anonymous: c.intake.reporter.anonymous,
    reporterConsent: c.intake.reporter.consentToShareWithUnit,
    linkedCases: [],
    mergedInto: plan.duplicateOf,
    timeline: [],
  };
  return {
    row: {
      caseId: c.caseId,
      status,
      closure,
      category: c.intake.category,
      urgency: c.intake.urgency,
      channel: c.intake.channel,
      divisionCode: c.intake.divisionCode,
      title: c.intake.title,
      description: c.intake.description,
      lat: c.intake.location.lat,
      lon: c.intake.location.lon,
      siteId: c.intake.location.siteId,
      ownerId: OWNER,
      unitId,
      policyVersion: p.version,
      receivedAt: r,
      acceptedAt,
      repliedAt,
      closedAt,
      deadline,
      mergedInto: plan.duplicateOf,
      anonymous: c.intake.reporter.anonymous,
      reporterConsent: c.intake.reporter.consentToShareWithUnit,
      returns,
      extensionGranted,
      view,
      lastSeq: events.length,
      deskCheck,
    },
    events,
  };
}
