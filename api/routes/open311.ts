import { createHash, randomBytes } from 'node:crypto';
import { Router, type ErrorRequestHandler, type RequestHandler, type Response } from 'express';
import { rateLimit } from 'express-rate-limit';
import { XMLBuilder } from 'fast-xml-parser';
import { z, ZodError } from 'zod';
import type { Pool } from 'pg';
import type { Actor, Reporter } from '../../domain/case';
import { intakeSchema, text, textProblem } from '../../domain/schemas/case';
import {
  CONTACT,
  KEY_SERVICE,
  SPECIFICATION_URL,
  attributeProblems,
  describeAnswers,
  isServiceCode,
  open311DateTime,
  open311Status,
  publishedEventTypes,
  readLimits,
  serviceList,
  services,
  servicesChangeset,
  statusNotesFor,
  statusesFor,
  updateFor,
  type AttributeAnswers,
  type ServiceDefinition,
} from '../../domain/open311-services';
import { divisionCodeSchema } from '../../domain/schemas/divisions';
import { casePolicy, categories, type Policy } from '../../domain/policy';
import { claimToken, findEvents, findPublicCases, resolveToken, setTokenCase, type PublicCaseRow } from '../../db/open311';
import { DEVELOPMENT_OPEN311_API_KEY, loadConfig, type Config } from '../../runtime/config';
import type { KeyRing } from '../../runtime/encryption';
import type { Logger } from '../../runtime/logger';
import { isoTime } from '../fields';
import { HttpProblem, toProblem } from '../problem';
import { registerComplaint } from '../registration';
import type { TemporalGateway } from '../temporal-gateway';
import { mountRoutes, route, type ErrorFormat, type Route } from '../validate';

/**
 * Open311 GeoReport v2 (../shared/OPEN311.md) under /open311/v2: discovery, services and their
 * definitions, form-encoded `POST /requests` with an api_key answering with a batch token, the token
 * lookup, public reads of requests, and FixMyStreet's updates feed. `.json` and `.xml`. Errors are
 * Open311 error lists, not problem documents. Reads never show the reporter. One table, mounted by
 * the router and described in the OpenAPI document (with its own media types and error format).
 */

export interface Open311Settings {
  /** api_key -> the client (reporting app) it belongs to. */
  apiKeys: Array<{ key: string; client: string }>;
  rateLimitPerMinute: number;
  /** Division code of requests that give no jurisdiction_id; unset: jurisdiction_id is required. */
  jurisdictionId?: string;
  /** Discovery's endpoint type. */
  environment: 'production' | 'test';
}

export const DEFAULT_RATE_LIMIT_PER_MINUTE = 300;

export function open311Settings(config: Config): Open311Settings {
  const spec = config.OPEN311_API_KEYS ?? (config.NODE_ENV === 'production' ? '' : `${DEVELOPMENT_OPEN311_API_KEY}:development`);
  return {
    apiKeys: spec
      .split(',')
      .filter(Boolean)
      .map((pair) => {
        const at = pair.lastIndexOf(':');
        return { key: pair.slice(0, at), client: pair.slice(at + 1) };
      }),
    rateLimitPerMinute: config.OPEN311_RATE_LIMIT_PER_MINUTE ?? DEFAULT_RATE_LIMIT_PER_MINUTE,
    jurisdictionId: config.OPEN311_JURISDICTION_ID,
    environment: config.NODE_ENV === 'production' ? 'production' : 'test',
  };
}

export interface Open311Deps {
  /** Registration starts the case workflow through it (api/registration.ts). */
  temporal: TemporalGateway;
  pool: Pool;
  policy: () => Policy;
  log: Logger;
  /** Seals the reporter's identity at registration (api/registration.ts). */
  reporterKeys: KeyRing;
  /** Unset: read from the environment through runtime/config.ts. */
  open311?: Open311Settings;
}

// ---- Errors and formats ----

/** An Open311 failure: its HTTP status and one description per error. */
export class Open311Error extends Error {
  constructor(
    readonly status: number,
    readonly descriptions: string[],
  ) {
    super(descriptions.join('; '));
  }
}
const badRequest = (...descriptions: string[]) => new Open311Error(400, descriptions);
const notFound = (description: string) => new Open311Error(404, [description]);

const formats = ['json', 'xml'] as const;
type Format = (typeof formats)[number];

/** Element names of array items in XML, by the array's own name. */
const xmlItemNames: Record<string, string> = { endpoints: 'endpoint', formats: 'format', attributes: 'attribute', values: 'value' };
const xmlBuilder = new XMLBuilder({ ignoreAttributes: false, suppressEmptyNode: false, processEntities: true });
// Characters XML 1.0 cannot carry at all.
// eslint-disable-next-line no-control-regex
const invalidXmlChars = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g;

function xmlTree(value: unknown): unknown {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string') return value.replace(invalidXmlChars, '');
  if (typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    out[k] = Array.isArray(v) ? { [xmlItemNames[k] ?? 'item']: v.map(xmlTree) } : xmlTree(v);
  }
  return out;
}

/** XML shapes per the spec: a root element, and the element of each item when the body is a list. */
interface XmlShape {
  root: string;
  item?: string;
}
const REQUESTS: XmlShape = { root: 'service_requests', item: 'request' };

function send(res: Response, format: Format, status: number, body: unknown, xml: XmlShape): void {
  res.status(status);
  if (format === 'json') {
    res.json(body);
    return;
  }
  const content = xml.item ? { [xml.item]: (body as unknown[]).map(xmlTree) } : xmlTree(body);
  res
    .type('text/xml; charset=utf-8')
    .send(xmlBuilder.build({ '?xml': { '@_version': '1.0', '@_encoding': 'utf-8' }, [xml.root]: content }));
}

/** The Open311 error list, for the OpenAPI document. */
export const open311ErrorFormat: ErrorFormat = {
  name: 'Open311Errors',
  schema: z.array(z.object({ code: z.string(), description: z.string() })).describe('Open311 GeoReport v2 errors'),
  mediaTypes: ['application/json', 'text/xml'],
};

/** Each invalid input of a 400 from the route table, as Open311 describes it: `field: message`. */
function inputErrors(problem: HttpProblem): string[] | undefined {
  const errors = problem.extra.errors as Array<{ path: string; message: string }> | undefined;
  return errors?.map((e) => `${e.path || 'request'}: ${e.message}`);
}

function asOpen311Error(err: unknown): Open311Error {
  if (err instanceof Open311Error) return err;
  if (err instanceof ZodError) {
    return badRequest(...err.issues.map((i) => `${i.path.map(String).join('.') || 'request'}: ${i.message}`));
  }
  const problem = toProblem(err);
  const description = problem.detail ?? problem.title;
  if (problem.status === 401 || problem.status === 403) return new Open311Error(403, [description]);
  if ([404, 405, 429].includes(problem.status) || problem.status >= 500) return new Open311Error(problem.status, [description]);
  return badRequest(...(inputErrors(problem) ?? [description]));
}

function open311ErrorHandler(log: Logger): ErrorRequestHandler {
  return (err, req, res, _next) => {
    const failure = asOpen311Error(err);
    if (failure.status >= 500) log.error({ err }, 'unexpected error on an Open311 route');
    if (failure.status === 503) res.setHeader('Retry-After', '5');
    if (err instanceof HttpProblem) res.set(err.headers); // Allow, on a 405
    const format: Format = /\.xml$/i.test(req.path) ? 'xml' : 'json';
    const errors = failure.descriptions.map((description) => ({ code: String(failure.status), description }));
    send(res, format, failure.status, errors, { root: 'errors', item: 'error' });
  };
}

// ---- Inputs ----

const divisionCode = divisionCodeSchema;
const caseId = z.string().regex(/^EC-\d{4}-\d{7}$/, 'a service request id like EC-2026-0000001');
const decimal = (min: number, max: number) =>
  z
    .string()
    .regex(/^-?\d{1,3}(\.\d{1,15})?$/, 'a decimal number')
    .transform(Number)
    .pipe(z.number().min(min).max(max));
const datetime = z.iso
  .datetime({ offset: true, message: 'an ISO 8601 datetime with a time zone' })
  .refine((v) => Date.parse(v) >= 0, 'a datetime from 1970 on')
  .transform((v) => new Date(v));
const keyRule = '8 to 200 printable ASCII characters without spaces';
const idempotencyKey = z
  .string()
  .min(8, keyRule)
  .max(200, keyRule)
  .regex(/^[\x21-\x7e]+$/, keyRule);
const csv = <T extends string>(item: z.ZodType<T, string>) =>
  z
    .string()
    .max(4000)
    .transform((v) =>
      v
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
    )
    .pipe(z.array(item).min(1).max(readLimits.maxListItems));

const requestFields = {
  jurisdiction_id: divisionCode.optional(),
  service_code: z.string().max(100),
  lat: decimal(-90, 90).optional(),
  long: decimal(-180, 180).optional(),
  address_string: text(500).optional(),
  address_id: text(200).optional(),
  email: z.email().max(320).optional(),
  device_id: text(200).optional(),
  account_id: text(200).optional(),
  first_name: text(100).optional(),
  last_name: text(100).optional(),
  phone: text(50).optional(),
  description: text(4000).optional(),
  media_url: z
    .url({ protocol: /^https?$/ })
    .max(2000)
    .optional(),
};
type RequestForm = z.infer<z.ZodObject<typeof requestFields>>;

/** An attribute's answer: text as every field takes it (an empty item of a list is no answer). */
const answerText = z
  .string()
  .max(1000)
  .superRefine((s, ctx) => {
    const problem = textProblem(s);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  });
const ATTRIBUTE_FIELD = /^attribute\[/;

/**
 * The form of `POST /requests`: the api_key, the request's fields, and its `attribute[CODE]` or
 * `attribute[CODE][]` answers (checked against the service's definition by the handler). Any other
 * field is refused (400 naming it), not dropped.
 */
const requestBody = z
  .object({ api_key: z.string().max(200).describe("the client's API key"), ...requestFields })
  .catchall(z.union([answerText, z.array(answerText).max(100)]).describe('attribute[CODE] or attribute[CODE][]: an answer'))
  .superRefine((f, ctx) => {
    const unknown = Object.keys(f).filter((k) => k !== 'api_key' && !(k in requestFields) && !ATTRIBUTE_FIELD.test(k));
    if (unknown.length)
      ctx.addIssue({
        code: 'unrecognized_keys',
        keys: unknown.map((k) => k.slice(0, 80)),
        input: f,
        message: `unknown fields: ${unknown.map((k) => k.slice(0, 80)).join(', ')}`,
      });
    if ((f.lat === undefined) !== (f.long === undefined)) {
      ctx.addIssue({ code: 'custom', path: [f.lat === undefined ? 'lat' : 'long'], message: 'lat and long are given together' });
    } else if (f.lat === undefined && !f.address_string && !f.address_id) {
      ctx.addIssue({ code: 'custom', path: ['location'], message: 'a location is required: lat and long, address_string, or address_id' });
    }
  });
const requestHeaders = z.object({
  'idempotency-key': idempotencyKey.optional().describe('a retried POST with the same key and form answers the same token'),
});

const jurisdictionQuery = z.object({ jurisdiction_id: divisionCode.optional() });
const pageQuery = {
  page: z.coerce.number().int().min(1).max(100_000).default(1),
  page_size: z.coerce.number().int().min(1).max(readLimits.maxPageSize).default(readLimits.defaultPageSize),
};
const windowQuery = { start_date: datetime.optional(), end_date: datetime.optional() };
const requestsQuery = jurisdictionQuery.extend({
  service_request_id: csv(caseId).optional(),
  service_code: csv(z.enum(categories)).optional(),
  status: csv(z.enum(['open', 'closed'])).optional(),
  ...windowQuery,
  ...pageQuery,
});
const updatesQuery = jurisdictionQuery.extend({ ...windowQuery, ...pageQuery });

/** The date window of a read: the last 90 days by default; never longer than that. */
function windowOf(q: { start_date?: Date; end_date?: Date }): { from: Date; to: Date } {
  const windowMs = readLimits.windowDays * 86_400_000;
  const to = q.end_date ?? new Date();
  const from = q.start_date ?? new Date(to.getTime() - windowMs);
  if (from > to) throw badRequest('start_date: after end_date');
  if (to.getTime() - from.getTime() > windowMs)
    throw badRequest(`start_date, end_date: may not span more than ${readLimits.windowDays} days`);
  return { from, to };
}

/** "37" for a province's code 370000, "3701" for a city's 370100, the whole code for a county. */
function divisionPrefix(code: string | undefined): string | undefined {
  if (!code) return undefined;
  return /^\d{2}0000$/.test(code) ? code.slice(0, 2) : /^\d{4}00$/.test(code) ? code.slice(0, 4) : code;
}

/**
 * Split the parsed form into the request's own fields (in their schema's order; the api_key and
 * unknown fields left out) and its `attribute[CODE]` / `attribute[CODE][]` answers.
 */
function readForm(body: Record<string, unknown>): { form: RequestForm; answers: AttributeAnswers } {
  const answers: AttributeAnswers = Object.create(null);
  for (const [key, value] of Object.entries(body)) {
    const attribute = /^attribute\[([A-Za-z0-9_-]{1,64})\](\[\])?$/.exec(key);
    if (attribute) {
      const values = ([] as string[]).concat(value as string | string[]);
      answers[attribute[1]] = attribute[2] ? values.filter((v) => v !== '') : (value as string);
    } else if (key.startsWith('attribute')) {
      throw badRequest(`${key.slice(0, 80)}: not an attribute[CODE] field`);
    }
  }
  const form = Object.fromEntries(Object.keys(requestFields).flatMap((k) => (body[k] === undefined ? [] : [[k, body[k]]])));
  return { form: form as RequestForm, answers };
}

function sha256(value: string): string {
  return createHash('sha256').update(value).digest('hex');
}

function formatDuration(d: { amount: number; unit: string }): string {
  return `${d.amount} ${d.unit.replace('_', ' ')}`;
}

// ---- The routes ----

/** What the handlers use: the dependencies, and the settings read once when the router is built. */
export interface Open311RouteDeps extends Open311Deps {
  settings: Open311Settings;
}

const BASE = '/open311/v2';
const TAG = 'open311';
const formatParam = { format: z.enum(formats, { error: 'use .json or .xml' }).describe('the answer format: json or xml') };
const formatParams = z.object(formatParam);
const open311Types = ['application/json', 'text/xml'] as const;

/** What every route of the table shares: public (but the POST), failing with Open311 error lists. */
const open311Spec = { tag: TAG, access: 'public', errorFormat: open311ErrorFormat, problems: [400, 429, 503] } as const;

/** A service request as GET /requests and GET /requests/{id} answer it (GeoReport v2). */
const serviceRequestSchema = z.object({
  service_request_id: z.string(),
  status: z.enum(['open', 'closed']),
  status_notes: z.string(),
  service_name: z.string(),
  service_code: z.string(),
  description: z.string().nullable().describe('only what was filed through Open311'),
  agency_responsible: z.string().nullable(),
  service_notice: z.null(),
  requested_datetime: isoTime,
  updated_datetime: isoTime,
  expected_datetime: isoTime.nullable(),
  address: z.string().nullable(),
  address_id: z.string().nullable(),
  zipcode: z.null(),
  lat: z.number().nullable(),
  long: z.number().nullable(),
  media_url: z.string().nullable(),
});
const serviceSchema = z.object({
  service_code: z.string(),
  service_name: z.string(),
  description: z.string(),
  metadata: z.boolean(),
  type: z.literal('batch'),
  keywords: z.string(),
  group: z.string(),
});
const receiptSchema = z.object({ token: z.string(), service_notice: z.string(), account_id: z.string().nullable() });
const tokenSchema = z.object({
  service_request_id: z.string().nullable().describe('null until the request is registered'),
  token: z.string(),
});
const updateSchema = z.object({
  update_id: z.string(),
  service_request_id: z.string(),
  status: z.string(),
  updated_datetime: isoTime,
  description: z.string(),
  media_url: z.null(),
});

function toRequest(row: PublicCaseRow, offsetMinutes: number): z.input<typeof serviceRequestSchema> {
  const dt = (d: Date) => open311DateTime(d.getTime(), offsetMinutes);
  return {
    service_request_id: row.caseId,
    status: open311Status(row.status),
    status_notes: statusNotesFor(row.status, row.closure, row.mergedInto),
    service_name: isServiceCode(row.category) ? services[row.category].name : row.category,
    service_code: row.category,
    // Only what the reporter filed through Open311 is published: on every other channel the
    // complainant never chose to publish their words, which may identify them.
    description: row.channel === 'open311' ? row.description : null,
    agency_responsible: row.unitId,
    service_notice: null,
    requested_datetime: dt(row.receivedAt),
    updated_datetime: dt(row.updatedAt),
    expected_datetime: row.deadlineAt && dt(row.deadlineAt),
    address: row.address,
    address_id: row.siteId,
    zipcode: null,
    lat: row.lat,
    long: row.lon,
    media_url: row.mediaUrl,
  };
}

const offsetOf = (deps: Open311RouteDeps) => deps.policy().calendar.utcOffsetMinutes;

export const open311RouteTable: Route<Open311RouteDeps>[] = [
  route(
    {
      ...open311Spec,
      operationId: 'open311Discovery',
      method: 'get',
      path: `${BASE}/discovery.{format}`,
      summary: 'Open311 discovery: the GeoReport v2 endpoint, its formats and contact',
      params: formatParams,
      response: { status: 200, description: 'The discovery document', schema: z.record(z.string(), z.unknown()), mediaTypes: open311Types },
    },
    async (deps, { params: { format } }, req, res) => {
      const url = `${req.protocol}://${req.get('host')}${BASE}`;
      const { environment } = deps.settings;
      send(
        res,
        format,
        200,
        {
          changeset: servicesChangeset,
          contact: CONTACT,
          key_service: KEY_SERVICE,
          endpoints: [
            { specification: SPECIFICATION_URL, url, changeset: servicesChangeset, type: environment, formats: [...open311Types] },
          ],
        },
        { root: 'discovery' },
      );
    },
  ),
  route(
    {
      ...open311Spec,
      operationId: 'open311Services',
      method: 'get',
      path: `${BASE}/services.{format}`,
      summary: 'Open311 services: the complaint categories',
      params: formatParams,
      query: jurisdictionQuery,
      response: { status: 200, description: 'The services', schema: z.array(serviceSchema), mediaTypes: open311Types },
    },
    async (_deps, { params: { format } }, _req, res) => {
      const list = serviceList.map((s) => ({
        service_code: s.code,
        service_name: s.name,
        description: s.description,
        metadata: s.attributes.length > 0,
        type: 'batch',
        keywords: s.keywords.join(', '),
        group: s.group,
      }));
      send(res, format, 200, list, { root: 'services', item: 'service' });
    },
  ),
  route(
    {
      ...open311Spec,
      operationId: 'open311ServiceDefinition',
      method: 'get',
      path: `${BASE}/services/{code}.{format}`,
      summary: "Open311 service definition: a service's attributes",
      params: z.object({ code: z.string().describe('a service_code'), ...formatParam }),
      query: jurisdictionQuery,
      response: { status: 200, description: 'The service definition', schema: z.record(z.string(), z.unknown()), mediaTypes: open311Types },
      problems: [400, 404, 429, 503],
    },
    async (_deps, { params: { code, format } }, _req, res) => {
      if (!isServiceCode(code)) throw notFound(`No service '${code.slice(0, 100)}'.`);
      const service = services[code];
      send(
        res,
        format,
        200,
        {
          service_code: service.code,
          attributes: service.attributes.map((a, i) => ({
            variable: true,
            code: a.code,
            datatype: a.datatype,
            required: a.required,
            datatype_description: a.datatypeDescription ?? null,
            order: i + 1,
            description: a.description,
            ...(a.values && { values: a.values }),
          })),
        },
        { root: 'service_definition' },
      );
    },
  ),
  route(
    {
      ...open311Spec,
      operationId: 'open311CreateRequest',
      method: 'post',
      path: `${BASE}/requests.{format}`,
      summary: 'Open311 service request: file a complaint (answers a token)',
      description: "Form-encoded, with the client's api_key. With an Idempotency-Key, a retried post answers the same token.",
      access: 'apiKey',
      params: formatParams,
      headers: requestHeaders,
      body: requestBody,
      requestType: 'application/x-www-form-urlencoded',
      response: {
        status: 201,
        description: 'Received',
        schema: z.array(receiptSchema),
        mediaTypes: open311Types,
        otherStatuses: { 200: 'A repeated request: the request it repeats' },
      },
      problems: [400, 403, 429, 503],
    },
    async (deps, { params: { format }, headers, body }, _req, res) => {
      const client = res.locals.apiClient as string;
      const key = headers['idempotency-key'];
      const { form, answers } = readForm(body);
      if (!isServiceCode(form.service_code)) throw badRequest(`service_code: no service '${form.service_code}'`);
      const service = services[form.service_code];
      const problems = attributeProblems(service, answers);
      if (problems.length) throw badRequest(...problems);
      const jurisdiction = form.jurisdiction_id ?? deps.settings.jurisdictionId;
      if (!jurisdiction) throw badRequest('jurisdiction_id: required (a six-digit administrative division code)');

      const owner: Actor = { id: `open311:${client}`, role: 'clerk' };
      const intake = intakeSchema.parse(toIntake(service, form, answers, jurisdiction));
      const claimed = await claimToken(deps.pool, {
        token: randomBytes(16).toString('hex'),
        client,
        idempotencyKey: key,
        requestHash: key && sha256(JSON.stringify({ form, answers })),
        address: form.address_string,
        mediaUrl: form.media_url,
      });
      if (key && claimed.requestHash !== sha256(JSON.stringify({ form, answers }))) {
        throw badRequest('Idempotency-Key: was used for a different request');
      }
      const registration = await registerComplaint(deps, intake, owner, `open311:${claimed.token}`);
      await setTokenCase(deps.pool, claimed.token, registration.caseId);

      const accept = casePolicy(deps.policy(), intake.category, intake.urgency).limits.accept;
      send(
        res,
        format,
        registration.created ? 201 : 200,
        [
          {
            token: claimed.token,
            service_notice:
              `Received. Whether it is accepted is decided within ${formatDuration(accept)}. ` +
              `GET /tokens/${claimed.token}.${format} gives its service_request_id once it is registered.`,
            account_id: form.account_id ?? null,
          },
        ],
        REQUESTS,
      );
    },
  ),
  route(
    {
      ...open311Spec,
      operationId: 'open311Token',
      method: 'get',
      path: `${BASE}/tokens/{token}.{format}`,
      summary: 'Open311 token: the service_request_id a posted request got',
      params: z.object({ token: z.string().describe('the token POST /requests answered'), ...formatParam }),
      query: jurisdictionQuery,
      response: { status: 200, description: 'The request id', schema: z.array(tokenSchema), mediaTypes: open311Types },
      problems: [400, 404, 429, 503],
    },
    async (deps, { params: { token: asked, format } }, _req, res) => {
      const token = /^[0-9a-f]{32}$/.test(asked) ? await resolveToken(deps.pool, asked) : undefined;
      if (!token) throw notFound(`No token '${asked.slice(0, 100)}'.`);
      send(res, format, 200, [{ service_request_id: token.caseId, token: token.token }], REQUESTS);
    },
  ),
  route(
    {
      ...open311Spec,
      operationId: 'open311Requests',
      method: 'get',
      path: `${BASE}/requests.{format}`,
      summary: 'Open311 service requests: the public cases, without the reporter',
      params: formatParams,
      query: requestsQuery,
      response: { status: 200, description: 'The requests', schema: z.array(serviceRequestSchema), mediaTypes: open311Types },
    },
    async (deps, { params: { format }, query: q }, _req, res) => {
      const window = q.service_request_id ? undefined : windowOf(q);
      const rows = await findPublicCases(deps.pool, {
        ids: q.service_request_id,
        categories: q.service_code,
        statuses: q.status?.flatMap(statusesFor),
        receivedFrom: window?.from,
        receivedTo: window?.to,
        divisionPrefix: divisionPrefix(q.jurisdiction_id),
        limit: q.page_size,
        offset: (q.page - 1) * q.page_size,
      });
      send(
        res,
        format,
        200,
        rows.map((r) => toRequest(r, offsetOf(deps))),
        REQUESTS,
      );
    },
  ),
  route(
    {
      ...open311Spec,
      operationId: 'open311Request',
      method: 'get',
      path: `${BASE}/requests/{id}.{format}`,
      summary: 'Open311 service request: one public case, without the reporter',
      params: z.object({ id: z.string().describe('a service_request_id like EC-2026-0000001'), ...formatParam }),
      query: jurisdictionQuery,
      response: {
        status: 200,
        description: 'The request, as a list of one',
        schema: z.array(serviceRequestSchema),
        mediaTypes: open311Types,
      },
      problems: [400, 404, 429, 503],
    },
    async (deps, { params: { id, format }, query: q }, _req, res) => {
      const rows = caseId.safeParse(id).success
        ? await findPublicCases(deps.pool, { ids: [id], divisionPrefix: divisionPrefix(q.jurisdiction_id), limit: 1, offset: 0 })
        : [];
      if (!rows.length) throw notFound(`No service request '${id.slice(0, 100)}'.`);
      send(
        res,
        format,
        200,
        rows.map((r) => toRequest(r, offsetOf(deps))),
        REQUESTS,
      );
    },
  ),
  route(
    {
      ...open311Spec,
      operationId: 'open311Updates',
      method: 'get',
      path: `${BASE}/servicerequestupdates.{format}`,
      summary: "Open311 service request updates (FixMyStreet's feed)",
      params: formatParams,
      query: updatesQuery,
      response: { status: 200, description: 'The updates', schema: z.array(updateSchema), mediaTypes: open311Types },
    },
    async (deps, { params: { format }, query: q }, _req, res) => {
      const { from, to } = windowOf(q);
      const events = await findEvents(deps.pool, {
        types: publishedEventTypes,
        from,
        to,
        divisionPrefix: divisionPrefix(q.jurisdiction_id),
        limit: q.page_size,
        offset: (q.page - 1) * q.page_size,
      });
      const updates = events.flatMap((e) => {
        const update = updateFor(e.type, e.data);
        if (!update) return [];
        return [
          {
            update_id: `${e.caseId}-${e.seq}`,
            service_request_id: e.caseId,
            status: update.status,
            updated_datetime: open311DateTime(e.at.getTime(), offsetOf(deps)),
            description: update.description,
            media_url: null,
          },
        ];
      });
      send(res, format, 200, updates, { root: 'service_request_updates', item: 'request_update' });
    },
  ),
];

/** The api_key of the form: the client it belongs to goes on as `res.locals.apiClient`; 403 otherwise. */
function apiKeyCheck(settings: Open311Settings): RequestHandler {
  const clientsByKeyHash = new Map(settings.apiKeys.map((k) => [sha256(k.key), k.client]));
  return (req, res, next) => {
    const apiKey = (req.body as Record<string, unknown> | undefined)?.api_key;
    const client = typeof apiKey === 'string' ? clientsByKeyHash.get(sha256(apiKey)) : undefined;
    if (!client) return next(new Open311Error(403, [apiKey === undefined ? 'api_key is required.' : 'Invalid api_key.']));
    res.locals.apiClient = client;
    next();
  };
}

/** The router: the rate limit, the table, a 404 for any other path under /open311/v2, and the Open311 error lists. */
export function open311Routes(deps: Open311Deps): Router {
  const settings = deps.open311 ?? open311Settings(loadConfig());
  const router = Router();
  router.use(
    BASE,
    rateLimit({
      windowMs: 60_000,
      limit: settings.rateLimitPerMinute,
      standardHeaders: 'draft-8',
      legacyHeaders: false,
      handler: (_req, _res, next) => next(new Open311Error(429, ['Too many requests; retry after the time in Retry-After.'])),
    }),
  );
  mountRoutes(router, open311RouteTable, { ...deps, settings }, { apiKey: apiKeyCheck(settings) });
  router.use(BASE, (req, _res, next) => next(notFound(`No Open311 resource ${req.method} ${req.path.slice(0, 200)}.`)));
  router.use(BASE, open311ErrorHandler(deps.log));
  return router;
}

/** The complaint an Open311 request registers; the reporter fields become the (protected) reporter. */
function toIntake(service: ServiceDefinition, form: RequestForm, answers: AttributeAnswers, divisionCode: string) {
  const extra = [...describeAnswers(service, answers), ...(form.media_url ? [`Media: ${form.media_url}`] : [])].join('\n');
  const words = (form.description ?? service.name).slice(0, 4000 - extra.length - 2);
  const description = extra ? `${words}\n\n${extra}` : words;
  const name = [form.first_name, form.last_name].filter(Boolean).join(' ') || undefined;
  const identified = Boolean(name || form.email || form.phone);
  const reporter: Reporter = identified
    ? { anonymous: false, name, email: form.email, phone: form.phone, consentToShareWithUnit: false }
    : { anonymous: true, consentToShareWithUnit: false };
  const firstLine = form.description?.split('\n')[0].trim();
  return {
    channel: 'open311' as const,
    category: service.code,
    urgency: 'normal' as const,
    divisionCode,
    title: (firstLine ? `${service.name}: ${firstLine}` : service.name).slice(0, 200),
    description,
    location: { lat: form.lat, lon: form.long, address: form.address_string, siteId: form.address_id },
    reporter,
    missing: [],
  };
}
