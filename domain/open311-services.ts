import { caseStatuses, type CaseStatus, type Closure } from './case';
import { categories, type Category } from './policy';

/**
 * Open311 GeoReport v2 as data: one service per complaint category with the extra attributes its
 * definition asks for, and how a case's status and events read to an Open311 client. The routes
 * (api/routes/open311.ts) only render these; the spec's facts are in ../shared/OPEN311.md.
 */

/** Bump whenever a service or one of its attributes changes (served as discovery's `changeset`). */
export const servicesChangeset = '2026-01-01T00:00:00+08:00';

export const SPECIFICATION_URL = 'http://wiki.open311.org/GeoReport_v2';
export const CONTACT = 'EcoLoop environmental complaints intake office (12369 hotline).';
export const KEY_SERVICE = 'API keys are issued to reporting apps by the intake office.';

/** The spec's defaults for reads. */
export const readLimits = {
  /** Without dates, reads cover this many days up to now; an explicit range may not be longer. */
  windowDays: 90,
  defaultPageSize: 100,
  maxPageSize: 1000,
  /** At most this many comma-separated ids or codes in one read. */
  maxListItems: 100,
} as const;

export const datatypes = ['string', 'number', 'datetime', 'text', 'singlevaluelist', 'multivaluelist'] as const;
export type Datatype = (typeof datatypes)[number];

export interface ServiceAttribute {
  code: string;
  datatype: Datatype;
  required: boolean;
  /** Shown to the reporter as the question. */
  description: string;
  datatypeDescription?: string;
  /** For the list datatypes. */
  values?: Array<{ key: string; name: string }>;
  /** How the answer is written into the complaint's description for the clerk and the unit. */
  label: string;
}

export interface ServiceDefinition {
  code: Category;
  name: string;
  description: string;
  keywords: string[];
  group: 'Pollution' | 'Nature and radiation' | 'Other';
  attributes: ServiceAttribute[];
}

const list = (...pairs: Array<[string, string]>) => pairs.map(([key, name]) => ({ key, name }));

const timeOfDay: ServiceAttribute = {
  code: 'time_of_day',
  datatype: 'singlevaluelist',
  required: true,
  description: 'When is it worst?',
  label: 'Time of day',
  values: list(
    ['morning', 'Morning (06:00-12:00)'],
    ['afternoon', 'Afternoon (12:00-18:00)'],
    ['evening', 'Evening (18:00-22:00)'],
    ['night', 'Night (22:00-06:00)'],
  ),
};

export const services: Record<Category, ServiceDefinition> = {
  air: {
    code: 'air',
    name: 'Air pollution',
    description: 'Smoke, exhaust or gas from chimneys, vehicles, burning or industrial sites.',
    keywords: ['smoke', 'exhaust', 'emission', 'burning'],
    group: 'Pollution',
    attributes: [
      {
        code: 'emission_type',
        datatype: 'singlevaluelist',
        required: false,
        description: 'What do you see or smell?',
        label: 'Emission',
        values: list(
          ['smoke', 'Smoke from a chimney'],
          ['exhaust', 'Vehicle or machine exhaust'],
          ['open_burning', 'Open burning'],
          ['gas', 'Gas or vapour'],
        ),
      },
    ],
  },
  water: {
    code: 'water',
    name: 'Water pollution',
    description: 'Discharges into rivers, lakes, sewers or groundwater; polluted drinking water.',
    keywords: ['river', 'discharge', 'sewage', 'drinking water'],
    group: 'Pollution',
    attributes: [
      {
        code: 'water_body',
        datatype: 'singlevaluelist',
        required: false,
        description: 'Which water is affected?',
        label: 'Water body',
        values: list(
          ['river', 'River or canal'],
          ['lake', 'Lake or reservoir'],
          ['sewer', 'Sewer or drain'],
          ['groundwater', 'Well or groundwater'],
          ['drinking_water', 'Drinking water'],
        ),
      },
      {
        code: 'signs',
        datatype: 'multivaluelist',
        required: false,
        description: 'What signs do you see?',
        label: 'Signs',
        values: list(
          ['discoloured', 'Discoloured water'],
          ['foam', 'Foam'],
          ['oil', 'Oil film'],
          ['dead_fish', 'Dead fish'],
          ['smell', 'Smell'],
        ),
      },
    ],
  },
  noise: {
    code: 'noise',
    name: 'Noise',
    description: 'Noise from construction, industry, traffic, shops or entertainment.',
    keywords: ['noise', 'construction', 'night work'],
    group: 'Pollution',
    attributes: [
      {
        code: 'noise_source',
        datatype: 'singlevaluelist',
        required: true,
        description: 'Where does the noise come from?',
        label: 'Noise source',
        values: list(
          ['construction', 'Construction site'],
          ['industrial', 'Factory or plant'],
          ['traffic', 'Road or rail traffic'],
          ['commercial', 'Shop, restaurant or entertainment venue'],
          ['social', 'Neighbourhood or public space'],
        ),
      },
      { ...timeOfDay, required: false },
    ],
  },
  solid_waste: {
    code: 'solid_waste',
    name: 'Solid waste',
    description: 'Dumped or badly stored household, construction, industrial or hazardous waste.',
    keywords: ['waste', 'dumping', 'rubbish', 'hazardous'],
    group: 'Pollution',
    attributes: [
      {
        code: 'waste_type',
        datatype: 'singlevaluelist',
        required: false,
        description: 'What kind of waste?',
        label: 'Waste type',
        values: list(
          ['household', 'Household rubbish'],
          ['construction', 'Construction debris'],
          ['industrial', 'Industrial waste'],
          ['hazardous', 'Hazardous or medical waste'],
        ),
      },
    ],
  },
  soil: {
    code: 'soil',
    name: 'Soil contamination',
    description: 'Contaminated land, leaking storage, polluted farmland.',
    keywords: ['soil', 'land', 'contamination'],
    group: 'Pollution',
    attributes: [],
  },
  radiation: {
    code: 'radiation',
    name: 'Radiation',
    description: 'Radioactive sources, electromagnetic radiation from transmitters or substations.',
    keywords: ['radiation', 'radioactive', 'electromagnetic'],
    group: 'Nature and radiation',
    attributes: [],
  },
  ecological: {
    code: 'ecological',
    name: 'Ecological damage',
    description: 'Damage to protected areas, wetlands, forests or wildlife; illegal quarrying.',
    keywords: ['ecology', 'wetland', 'quarry', 'wildlife'],
    group: 'Nature and radiation',
    attributes: [],
  },
  dust: {
    code: 'dust',
    name: 'Dust',
    description: 'Dust from construction sites, material transport, roads, industry or open stockpiles.',
    keywords: ['dust', 'construction', 'stockpile'],
    group: 'Pollution',
    attributes: [
      {
        code: 'dust_source',
        datatype: 'singlevaluelist',
        required: true,
        description: 'Where does the dust come from?',
        label: 'Dust source',
        // The five source classes of the dust campaign (DOMAIN.md, concentrated governance).
        values: list(
          ['construction_site', 'Construction site'],
          ['material_transport', 'Material transport'],
          ['road', 'Road'],
          ['industrial_fugitive', 'Fugitive industrial emissions'],
          ['open_stockpile', 'Open stockpile'],
        ),
      },
    ],
  },
  odour: {
    code: 'odour',
    name: 'Odour',
    description: 'Persistent smells from plants, farms, waste sites or sewers.',
    keywords: ['smell', 'odour', 'stench'],
    group: 'Pollution',
    attributes: [timeOfDay],
  },
  other: {
    code: 'other',
    name: 'Other environmental problem',
    description: 'Any other environmental problem.',
    keywords: ['environment'],
    group: 'Other',
    attributes: [],
  },
};

export const serviceList: ServiceDefinition[] = categories.map((c) => services[c]);

export function isServiceCode(code: string): code is Category {
  return (categories as readonly string[]).includes(code);
}

/** Answers to attributes, by attribute code: one value, or several for a multivaluelist. */
export type AttributeAnswers = Record<string, string | string[]>;

/**
 * Check a request's attribute answers against the service definition: every required attribute
 * answered, every code known, every list value one of the listed keys. Returns the problems.
 */
export function attributeProblems(service: ServiceDefinition, answers: AttributeAnswers): string[] {
  const problems: string[] = [];
  const byCode = new Map(service.attributes.map((a) => [a.code, a]));
  for (const code of Object.keys(answers)) {
    if (!byCode.has(code)) problems.push(`attribute[${code}]: service '${service.code}' has no such attribute`);
  }
  for (const a of service.attributes) {
    const answer = answers[a.code];
    if (answer === undefined || answer.length === 0) {
      if (a.required) problems.push(`attribute[${a.code}]: required for service '${service.code}'`);
      continue;
    }
    const values = Array.isArray(answer) ? answer : [answer];
    if (a.datatype !== 'multivaluelist' && values.length > 1) {
      problems.push(`attribute[${a.code}]: takes one value`);
      continue;
    }
    for (const v of values) {
      const problem = valueProblem(a, v);
      if (problem) problems.push(`attribute[${a.code}]: ${problem}`);
    }
  }
  return problems;
}

function valueProblem(a: ServiceAttribute, v: string): string | undefined {
  if (v.length > 1000) return 'at most 1000 characters';
  switch (a.datatype) {
    case 'singlevaluelist':
    case 'multivaluelist':
      return a.values!.some((x) => x.key === v) ? undefined : `'${v}' is not one of ${a.values!.map((x) => x.key).join(', ')}`;
    case 'number':
      return /^-?\d+(\.\d+)?$/.test(v) ? undefined : 'a number';
    case 'datetime':
      return Number.isNaN(Date.parse(v)) ? 'an ISO 8601 datetime' : undefined;
    case 'string':
      return v.length > 200 ? 'at most 200 characters' : undefined;
    case 'text':
      return undefined;
  }
}

/** The answers as lines for the complaint's description, in the definition's order and words. */
export function describeAnswers(service: ServiceDefinition, answers: AttributeAnswers): string[] {
  return service.attributes.flatMap((a) => {
    const answer = answers[a.code];
    if (answer === undefined || answer.length === 0) return [];
    const values = (Array.isArray(answer) ? answer : [answer]).map((v) => a.values?.find((x) => x.key === v)?.name ?? v);
    return [`${a.label}: ${values.join(', ')}`];
  });
}

// ---- Reads: status and status notes of a case, and the updates feed ----

const closedStatuses: readonly CaseStatus[] = ['closed', 'archived'];

export function open311Status(status: string): 'open' | 'closed' {
  return (closedStatuses as readonly string[]).includes(status) ? 'closed' : 'open';
}
export const statusesFor = (status: 'open' | 'closed'): string[] => caseStatuses.filter((s) => open311Status(s) === status);

/**
 * Public notes per closure and status: fixed texts only. Free text on a case (reasons, replies) is
 * written for the complainant or the staff and may name people, so it is never published.
 */
const closureNotes: Record<Closure, string> = {
  resolved: 'Resolved; the complainant was called back and is satisfied.',
  resolved_dissatisfied: 'Resolved; the complainant was called back.',
  unreachable: 'Resolved; the complainant could not be reached for the callback.',
  no_callback: 'Resolved.',
  insufficient: 'Closed: the key information needed to handle it was not supplied.',
  forwarded: 'Outside our remit; forwarded to the competent body.',
  duplicate: 'Duplicate of a case already being handled.',
  recurrence: 'Recurrence at a site whose earlier case has been reopened.',
};

const statusNotes: Record<CaseStatus, string> = {
  registered: 'Registered.',
  awaiting_supplement: 'Registered; more information is needed from the reporter.',
  pending_acceptance: 'Registered; awaiting the decision to accept it.',
  handling: 'Accepted; being handled by the responsible unit.',
  under_review: 'The responsible unit reported its result; the result is being reviewed.',
  callback: 'The result was approved; the reporter is being called back.',
  closed: 'Closed.',
  review_requested: 'A review by the next level was requested.',
  archived: 'Closed.',
};

export function statusNotesFor(status: string, closure: string | null, mergedInto: string | null): string {
  if (closure && closure in closureNotes) {
    const note = closureNotes[closure as Closure];
    return mergedInto ? `${note} See request ${mergedInto}.` : note;
  }
  return statusNotes[status as CaseStatus] ?? '';
}

/** FixMyStreet's update statuses that this system emits. */
export type UpdateStatus =
  | 'OPEN'
  | 'IN_PROGRESS'
  | 'INVESTIGATING'
  | 'FIXED'
  | 'CLOSED'
  | 'DUPLICATE'
  | 'NOT_COUNCILS_RESPONSIBILITY'
  | 'NO_FURTHER_ACTION'
  | 'REOPEN';

const closureUpdates: Record<Closure, UpdateStatus> = {
  resolved: 'FIXED',
  resolved_dissatisfied: 'FIXED',
  unreachable: 'FIXED',
  no_callback: 'FIXED',
  insufficient: 'NO_FURTHER_ACTION',
  forwarded: 'NOT_COUNCILS_RESPONSIBILITY',
  duplicate: 'DUPLICATE',
  recurrence: 'DUPLICATE',
};

/**
 * The case events published on the updates feed, with their status and public text. Internal
 * events (deadline warnings, escalations, callback attempts, extension requests) are not published.
 */
const eventUpdates: Record<string, { status: UpdateStatus; description: string }> = {
  registered: { status: 'OPEN', description: 'Registered.' },
  supplement_requested: { status: 'OPEN', description: 'More information is needed from the reporter.' },
  supplemented: { status: 'OPEN', description: 'The missing information was supplied.' },
  registered_for_acceptance: { status: 'OPEN', description: 'Awaiting the decision to accept it.' },
  accepted: { status: 'IN_PROGRESS', description: 'Accepted and assigned to the responsible unit.' },
  transferred: { status: 'IN_PROGRESS', description: 'Transferred to another responsible unit.' },
  extension_approved: { status: 'IN_PROGRESS', description: 'The handling period was extended.' },
  result_submitted: { status: 'INVESTIGATING', description: 'The responsible unit reported its result; it is being reviewed.' },
  result_returned: { status: 'IN_PROGRESS', description: 'The result was returned to the responsible unit for rework.' },
  result_approved: { status: 'INVESTIGATING', description: 'The result was approved.' },
  returned_after_callback: { status: 'IN_PROGRESS', description: 'Returned to the responsible unit after the callback.' },
  review_requested: { status: 'INVESTIGATING', description: 'A review by the next level was requested.' },
  review_upheld: { status: 'CLOSED', description: 'The review upheld the handling.' },
  reopened: { status: 'REOPEN', description: 'Reopened.' },
};

export const publishedEventTypes: string[] = [...Object.keys(eventUpdates), 'closed'];

export function updateFor(type: string, data: Record<string, unknown> | null): { status: UpdateStatus; description: string } | undefined {
  if (type === 'closed') {
    const closure = data?.closure as Closure | undefined;
    if (!closure || !(closure in closureUpdates)) return { status: 'CLOSED', description: 'Closed.' };
    return { status: closureUpdates[closure], description: closureNotes[closure] };
  }
  return eventUpdates[type];
}

/** An instant as ISO 8601 in a fixed offset from UTC (the calendar's), e.g. 2026-03-02T09:30:00+08:00. */
export function open311DateTime(ms: number, utcOffsetMinutes: number): string {
  const local = new Date(ms + utcOffsetMinutes * 60_000).toISOString().slice(0, 19);
  const sign = utcOffsetMinutes < 0 ? '-' : '+';
  const abs = Math.abs(utcOffsetMinutes);
  return `${local}${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
}
