import { createHash } from 'node:crypto';
import { Router, type Request } from 'express';
import { z } from 'zod';
import type { UpdateDefinition } from '@temporalio/common';
import type { Pool } from 'pg';
import * as c from '../../domain/case';
import { checkUnlink } from '../../domain/complaint-lifecycle';
import { divisionCodeSchema, divisionPrefixSchema } from '../../domain/schemas/divisions';
import { categories } from '../../domain/policy';
import * as cs from '../../domain/schemas/case';
import { categorySchema, urgencySchema } from '../../domain/schemas/policy';
import type { Policy } from '../../domain/policy';
import { caseSorts, getCase, getReporter, getTimeline, isSortKey, listCases, type CaseSort, type ReporterMatch } from '../../db/cases';
import type { KeyRing } from '../../runtime/encryption';
import type { ReporterIndex } from '../../runtime/reporter-index';
import { sealReporterFields } from '../../runtime/reporter-seal';
import * as wf from '../../workflows/contracts/complaint';
import { actorOf, canSeeCase, canSeeReporter, type PrincipalRole } from '../auth';
import { caseParams, commonProblems, dateOrTime, instantOf, isoTime, noQuery, pageFields, pageWindow } from '../fields';
import { conflict, forbidden, HttpProblem, notFound, titleOf } from '../problem';
import { registerComplaint } from '../registration';
import { requireAssignableUnit } from '../unit-directory';
import { divisionScope } from '../scope';
import type { TemporalGateway } from '../temporal-gateway';
import { csvOf, mountRoutes, route, type Route } from '../validate';

/**
 * The complaint endpoints, as one table (`complaintRouteTable`): the router mounts it, and the
 * OpenAPI document (api/openapi.ts) and the authorization and fuzz tests read the same table.
 *
 * Authorization, in order: no or bad token 401; a role that may never take the action 403 (before
 * the case is looked up, so it reveals nothing); a case outside the principal's scope 404, for
 * reads and actions alike, so that case numbers do not leak (a unit: cases assigned to it; a
 * supervisor: the divisions it covers; other roles: every case).
 */

export interface ComplaintRoutesDeps {
  /** Every call to the case workflows, with a deadline (a timeout is a 503). */
  temporal: TemporalGateway;
  pool: Pool;
  policy: () => Policy;
  /** Seals the reporter's identity for the workflow and opens it at rest (db/cases.ts getReporter): the reporter ring. */
  reporterKeys: KeyRing;
  /** The reporter's blind index (runtime/reporter-index.ts): `reporterPhone=` and the like search by its digests. */
  reporterIndex: ReporterIndex;
  jwtSecret: string;
}

// ---- Inputs ----

const idempotencyKey = z
  .string()
  .min(8)
  .max(200)
  .regex(/^[\x21-\x7e]+$/, 'printable ASCII without spaces');
/** A retried request with the same key returns the first one's answer and changes nothing more. */
export const idempotencyHeaders = z.object({ 'idempotency-key': idempotencyKey.optional() });

/** Free text or a name as a filter: no control characters (a line break would match across the searched fields). */
const filterText = (max: number) =>
  z
    .string()
    .trim()
    .min(1)
    .max(max)
    .refine((v) => ![...v].some((ch) => ch.codePointAt(0)! < 32 || ch.codePointAt(0) === 127), 'no control characters');

/** Unknown parameters are refused (400), so that a misspelt filter never silently lists everything. */
export const listQuery = z.strictObject({
  status: csvOf(c.caseStatuses).optional(),
  category: csvOf(categories).optional(),
  /** Division code or prefix: "37" a province, "3701" a city, "370102" a county. */
  division: divisionPrefixSchema.optional().describe('division code or prefix (2 to 6 digits)'),
  unit: z.string().min(1).max(100).optional().describe("the handling unit; `me`: the unit of a unit's token"),
  owner: z.string().min(1).max(100).optional().describe('the clerk who owns the case (registered it); `me`: the caller'),
  overdue: z
    .enum(['true', 'false'])
    .transform((v) => v === 'true')
    .optional()
    .describe('the running deadline has passed'),
  dueBefore: dateOrTime.optional().describe('the running deadline falls before this instant, or before this local day (YYYY-MM-DD)'),
  from: dateOrTime.optional().describe('received at or after this instant, or from the start of this local day (YYYY-MM-DD)'),
  to: dateOrTime.optional().describe('received before this instant, or up to the end of this local day (YYYY-MM-DD)'),
  q: filterText(200)
    .optional()
    .describe('free text in the case number, title, description or address (any language; Chinese from one character)'),
  reporterPhone: z
    .string()
    .trim()
    .min(1)
    .max(50)
    .optional()
    .describe("the reporter's phone number, in any spelling (clerks and supervisors)"),
  reporterEmail: z.string().trim().min(1).max(320).optional().describe("the reporter's e-mail (clerks and supervisors)"),
  reporterName: filterText(200).optional().describe("the reporter's name (clerks and supervisors)"),
  sort: z
    .enum(caseSorts)
    .default('received')
    .describe('received (receipt time), due (the running deadline; none last), escalation (level, then receipt)'),
  order: z.enum(['asc', 'desc']).optional().describe('default: desc for received and escalation, asc for due'),
  cursor: z
    .string()
    .max(500)
    .regex(/^[A-Za-z0-9_-]+$/)
    .optional()
    .describe('the `nextCursor` of the previous page (keyset paging): the next page of the same query; instead of `page`'),
  ...pageFields,
});
type ListQuery = z.infer<typeof listQuery>;

/** The filters only clerks and supervisors may use: they find a case by its caller. */
const reporterFilters = { reporterPhone: 'phone', reporterEmail: 'email', reporterName: 'name' } as const;
const reporterSearchers: readonly PrincipalRole[] = ['clerk', 'supervisor'];

const badRequest = (detail: string) => new HttpProblem(400, titleOf(400), detail);

/**
 * The cursor of keyset paging: the sort, its direction, the sort key of the last item given, and a
 * fingerprint of the filters (not the reporter's, whose digest must not travel in URLs), so that a
 * cursor is refused for another query rather than silently paging through it.
 */
interface Cursor {
  s: CaseSort;
  o: 'asc' | 'desc';
  k: string[];
  f: string;
}

function filtersFingerprint(q: ListQuery): string {
  const { cursor: _c, page: _p, pageSize: _ps, reporterPhone: _rp, reporterEmail: _re, reporterName: _rn, ...rest } = q;
  const canonical = JSON.stringify(Object.entries(rest).sort(([a], [b]) => a.localeCompare(b)));
  return createHash('sha256').update(canonical).digest('base64url').slice(0, 12);
}

const encodeCursor = (c: Cursor) => Buffer.from(JSON.stringify(c), 'utf8').toString('base64url');

function decodeCursor(text: string, q: ListQuery, order: 'asc' | 'desc'): string[] {
  let c: Partial<Cursor> | undefined;
  try {
    c = JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) as Partial<Cursor>;
  } catch {
    c = undefined;
  }
  const keys = c?.k;
  const valid = Array.isArray(keys) && keys.every((k) => typeof k === 'string') && isSortKey(q.sort, keys);
  if (!c || !valid || c.s !== q.sort || c.o !== order || c.f !== filtersFingerprint(q)) {
    throw badRequest("The cursor is not one of this query's: start again without it, with the same filters, sort and order.");
  }
  return keys;
}

// ---- Answers (for the OpenAPI document; the handlers send what the workflow and the projection give) ----

const clockKinds = ['supplement', 'accept', 'handle', 'rework', 'callback', 'review'] as const;
const timelineEntrySchema = z.object({
  seq: z.number().int(),
  type: z.string(),
  at: isoTime,
  actor: cs.actorSchema,
  reason: z.string().nullish(),
  deadlineAt: isoTime.nullish(),
  data: z.record(z.string(), z.unknown()).nullish(),
  notify: z.array(z.string()).optional(),
});
export const caseViewSchema = z.object({
  caseId: z.string(),
  status: z.enum(c.caseStatuses),
  closure: z.enum(c.closures).optional(),
  category: categorySchema,
  urgency: urgencySchema,
  channel: cs.channelSchema,
  divisionCode: z.string(),
  title: z.string(),
  owner: cs.actorSchema,
  unitId: z.string().optional(),
  escalationLevel: z.number().int(),
  escalation: z.enum(c.escalationLevels),
  policyVersion: z.string(),
  receivedAt: isoTime,
  acceptedAt: isoTime.optional(),
  closedAt: isoTime.optional(),
  deadline: z.object({ kind: z.enum(clockKinds), dueAt: isoTime, warned: z.boolean(), overdue: z.boolean() }).optional(),
  reviewRequestUntil: isoTime.optional(),
  monitoringUntil: isoTime.optional(),
  extensionGranted: z.number(),
  pendingExtension: z.object({ amount: z.number(), reason: z.string() }).optional(),
  returns: z.number().int(),
  reopenCount: z.number().int(),
  callbackAttempts: z.number().int(),
  anonymous: z.boolean(),
  reporterConsent: z.boolean(),
  linkedCases: z.array(z.string()),
  mergedInto: z.string().optional(),
  timeline: z.array(timelineEntrySchema),
});
// The schema describes the view the workflow returns: this fails to compile when they drift apart.
const _viewFitsSchema = (v: c.CaseView): z.input<typeof caseViewSchema> => v;
void _viewFitsSchema;

const caseDetailSchema = caseViewSchema.extend({
  description: z.string().optional().describe('absent while the case is not in the read model yet (just registered)'),
  location: z
    .object({
      lat: z.number().nullable(),
      lon: z.number().nullable(),
      siteId: z.string().nullable(),
      address: z.string().nullable().optional().describe('the handling unit, clerks, supervisors and inspectors only'),
    })
    .optional(),
  reporter: cs.reporterSchema.optional().describe("clerks, the division's supervisors, and the unit with the reporter's consent only"),
});
/** A case in a list: the view without its timeline (GET /v1/complaints/{caseId} has it). */
export const caseListItemSchema = caseViewSchema.omit({ timeline: true });
const casePageSchema = z.object({
  page: z.number().int().optional().describe('with `page` paging only'),
  pageSize: z.number().int(),
  total: z.number().int().describe('every case the filters select; an estimate when `totalExact` is false'),
  totalExact: z
    .boolean()
    .describe("false only for a free text (`q`) matching more cases than are counted exactly: `total` is then PostgreSQL's estimate"),
  items: z.array(caseListItemSchema),
  nextCursor: z.string().optional().describe('the `cursor` of the next page; absent on the last'),
});
const registrationSchema = z.object({ caseId: z.string(), created: z.boolean(), links: z.object({ self: z.string() }) });

// ---- Decisions: one endpoint per update of the complaint workflow ----

/** One decision: its path segment, who may take it, its body (the workflow's argument without the actor), and its update. */
interface Decision {
  path: string;
  operationId: string;
  summary: string;
  roles: readonly PrincipalRole[];
  body: z.ZodType;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  update: UpdateDefinition<c.CaseView, [any]>;
  /** Seals what must not enter the workflow in clear (the reporter's identity) before the update is sent. */
  seal?: (deps: ComplaintRoutesDeps, caseId: string, body: never) => object;
  /** A clerk may take it on the cases it owns only (the clerk who registered a case owns it to the end). */
  ownerClerkOnly?: true;
  /** It hands the case to the body's `unitId`: an active unit of the unit directory inside the case's division. */
  assignsUnit?: true;
}

/** The decision bodies are strict: an unknown field is refused, not ignored. The actor comes from the token. */
const withoutActor = (s: z.ZodObject) => s.omit({ actor: true }).strict();
const reviewBody = z.discriminatedUnion('decision', [withoutActor(cs.reviewSchema.options[0]), withoutActor(cs.reviewSchema.options[1])]);

export const decisions: Decision[] = [
  {
    path: 'supplement',
    operationId: 'supplementComplaint',
    summary: 'Record the key information the complainant supplemented',
    roles: ['clerk'],
    body: withoutActor(cs.supplementSchema),
    update: wf.supplementUpdate,
    seal: (deps, caseId, body: Omit<c.Supplement, 'actor'>): Omit<c.SupplementDecision, 'actor'> => ({
      ...body,
      ...(body.reporter && { reporter: sealReporterFields(deps.reporterKeys, caseId, body.reporter) }),
    }),
  },
  {
    path: 'accept',
    operationId: 'acceptComplaint',
    summary: 'Accept the case and assign it to a handling unit',
    roles: ['clerk'],
    body: withoutActor(cs.acceptSchema),
    update: wf.acceptUpdate,
    assignsUnit: true,
  },
  {
    path: 'forward',
    operationId: 'forwardComplaint',
    summary: 'Forward a case outside our scope to the competent body',
    roles: ['clerk'],
    body: withoutActor(cs.forwardSchema),
    update: wf.forwardUpdate,
  },
  {
    path: 'transfer',
    operationId: 'transferComplaint',
    summary: 'Transfer the case to another handling unit',
    roles: ['clerk', 'supervisor'],
    body: withoutActor(cs.transferSchema),
    update: wf.transferUpdate,
    assignsUnit: true,
  },
  {
    path: 'extension-request',
    operationId: 'requestExtension',
    summary: 'Ask for more time to handle the case',
    roles: ['unit'],
    body: withoutActor(cs.extensionRequestSchema),
    update: wf.requestExtensionUpdate,
  },
  {
    path: 'extension-decision',
    operationId: 'decideExtension',
    summary: 'Approve or deny the pending extension request',
    roles: ['supervisor'],
    body: withoutActor(cs.extensionDecisionSchema),
    update: wf.decideExtensionUpdate,
  },
  {
    path: 'result',
    operationId: 'submitResult',
    summary: "Submit the unit's handling result and reply",
    roles: ['unit'],
    body: withoutActor(cs.resultSchema),
    update: wf.submitResultUpdate,
  },
  {
    path: 'review',
    operationId: 'reviewResult',
    summary: "Approve the unit's result, or return it for rework",
    roles: ['clerk', 'supervisor'],
    body: reviewBody,
    update: wf.reviewUpdate,
    ownerClerkOnly: true,
  },
  {
    path: 'callback',
    operationId: 'recordCallback',
    summary: 'Record the outcome of calling the complainant back',
    roles: ['clerk'],
    body: withoutActor(cs.callbackSchema),
    update: wf.recordCallbackUpdate,
  },
  {
    path: 'review-request',
    operationId: 'requestReview',
    summary: "Record the complainant's request for a review by the next level",
    roles: ['clerk'],
    body: withoutActor(cs.reviewRequestSchema),
    update: wf.requestReviewUpdate,
  },
  {
    path: 'review-decision',
    operationId: 'decideReview',
    summary: 'Uphold the handling, or overturn it and reopen the case',
    roles: ['supervisor'],
    body: withoutActor(cs.reviewDecisionSchema),
    update: wf.decideReviewUpdate,
  },
  {
    path: 'escalation',
    operationId: 'escalateComplaint',
    summary: 'Escalate the case (supervision, city, provincial)',
    roles: ['supervisor'],
    body: withoutActor(cs.escalateSchema),
    update: wf.escalateUpdate,
  },
  {
    path: 'decline',
    operationId: 'declineAssignment',
    summary: 'Decline an assignment that is not the unit’s: the case goes back to the clerk for reassignment',
    roles: ['unit'],
    body: withoutActor(cs.declineSchema),
    update: wf.declineAssignmentUpdate,
  },
  {
    path: 'reopen',
    operationId: 'reopenComplaint',
    summary: 'Reopen a closed case (spot check, re-inspection, supervision)',
    roles: ['supervisor', 'inspector'],
    body: withoutActor(cs.reopenSchema),
    update: wf.reopenUpdate,
  },
];

// ---- Handlers ----

/** Every role that reads cases (each within its scope). */
const readers: readonly PrincipalRole[] = ['clerk', 'unit', 'supervisor', 'inspector', 'analyst', 'ops', 'admin'];

/** Who sees a location's address: those who go to the site or answer for the case (never the public feed). */
const addressReaders: ReadonlySet<PrincipalRole> = new Set(['clerk', 'unit', 'supervisor', 'inspector']);

/** The case as this principal may see it; 404 (not 403) when it may not, so case numbers do not leak. */
async function loadVisible(deps: ComplaintRoutesDeps, req: Request, caseId: string) {
  const record = (await getCase(deps.pool, caseId)) ?? (await unprojectedCase(deps, caseId));
  if (!canSeeCase(req.principal!, record)) throw notFound(`No case ${caseId}.`);
  return record;
}

/** A case not projected yet (just registered), as its workflow tells; no workflow either: the same 404. */
async function unprojectedCase(deps: ComplaintRoutesDeps, caseId: string) {
  const view = await deps.temporal.query(wf.workflowIdFor(caseId), wf.statusQuery, `case ${caseId}`);
  const { unitId, divisionCode, reporterConsent } = view;
  return { view, unitId: unitId ?? null, divisionCode, reporterConsent, description: undefined, location: undefined };
}

/** One decision's endpoint: the update, sent once the case is known to be in the caller's scope. */
function decisionRoute(d: Decision): Route<ComplaintRoutesDeps> {
  return route(
    {
      operationId: d.operationId,
      method: 'post',
      path: `/v1/complaints/{caseId}/${d.path}`,
      tag: 'decisions',
      summary: d.summary,
      description:
        'Sent to the case workflow as an update: an impossible transition is refused (409, naming the current state) before anything is recorded. With an `Idempotency-Key` header a retried request is applied once.',
      access: d.roles,
      caseScoped: true,
      params: caseParams,
      query: noQuery,
      headers: idempotencyHeaders,
      body: d.body,
      response: { status: 200, description: 'The case after the decision, once it is in the read model', schema: caseViewSchema },
      problems: [...commonProblems, 404, 409, 413, 415, 422],
    },
    async (deps, { params, headers, body }, req, res) => {
      const record = await loadVisible(deps, req, params.caseId);
      const p = req.principal!;
      if (d.ownerClerkOnly && p.role === 'clerk' && record.view.owner.id !== p.sub) {
        throw forbidden(`Only the clerk who owns case ${params.caseId}, or a supervisor, may ${d.summary.toLowerCase()}.`);
      }
      if (d.assignsUnit) await requireAssignableUnit(deps.pool, (body as { unitId: string }).unitId, record.divisionCode);
      const key = headers['idempotency-key'];
      const args = { ...(d.seal ? d.seal(deps, params.caseId, body as never) : (body as object)), actor: actorOf(req.principal!) };
      // A projected case whose workflow has finished (archived) takes no decision: 404.
      const running = `running case ${params.caseId}`;
      const view = await deps.temporal.update(wf.workflowIdFor(params.caseId), d.update, [args], running, key && `${d.path}:${key}`);
      res.json(view);
    },
  );
}

/**
 * Undo a wrong automatic duplicate link. The duplicate's workflow finished when it was closed into
 * the other case, so it is started again (a new run of the same workflow id) from its last state with
 * `unlink`: the state machine makes it a case of its own and the workflow tells the other case.
 */
const unlinkRoute: Route<ComplaintRoutesDeps> = route(
  {
    operationId: 'unlinkDuplicate',
    method: 'post',
    path: '/v1/complaints/{caseId}/unlink',
    tag: 'decisions',
    summary: 'Unlink a case wrongly closed as a duplicate: it becomes a case of its own again',
    description:
      'The case (closed as a duplicate of another) is put up for acceptance on its own, and the case it was linked to drops it. 409 when the case is not a duplicate, or was unlinked already. Answers 202: the case shows as `pending_acceptance` once its workflow has taken the decision.',
    access: ['supervisor'],
    caseScoped: true,
    params: caseParams,
    query: noQuery,
    body: cs.unlinkSchema.omit({ actor: true }).strict(),
    response: {
      status: 202,
      description: 'Started again as a case of its own; poll the Location',
      schema: z.object({ caseId: z.string(), links: z.object({ self: z.string() }) }),
    },
    problems: [...commonProblems, 404, 409, 413, 415, 422],
  },
  async (deps: ComplaintRoutesDeps, { params, body }, req, res) => {
    const record = await loadVisible(deps, req, params.caseId);
    const workflowId = wf.workflowIdFor(params.caseId);
    const state = await deps.temporal.query(workflowId, wf.caseStateQuery, `case ${params.caseId}`);
    const refused = checkUnlink(state);
    const running = (await deps.temporal.describe(workflowId, `case ${params.caseId}`)).status.name === 'RUNNING';
    if (refused || running) {
      throw conflict(refused?.message ?? `Case ${params.caseId} is running: it was unlinked already.`, {
        currentState: record.view.status,
      });
    }
    // A new run, started by this code: lean, like a new case (domain/case.ts, LEAN_START).
    const input: wf.ComplaintWorkflowInput = {
      resume: state,
      unlink: { ...body, actor: actorOf(req.principal!) },
      writePath: wf.LEAN_START,
    };
    await deps.temporal.start<wf.ComplaintWorkflow>(wf.COMPLAINT_WORKFLOW, {
      workflowId,
      args: [input],
      workflowIdReusePolicy: 'ALLOW_DUPLICATE',
    });
    const self = `/v1/complaints/${params.caseId}`;
    res.status(202).location(self).json({ caseId: params.caseId, links: { self } });
  },
);

export const complaintRouteTable: Route<ComplaintRoutesDeps>[] = [
  route(
    {
      operationId: 'registerComplaint',
      method: 'post',
      path: '/v1/complaints',
      tag: 'complaints',
      summary: 'Register a complaint from any channel',
      description:
        'Numbers the case and starts its workflow. With an `Idempotency-Key` header, a retried request returns the same case (200, `created: false`), never a second one; the same key with a different request is refused (422).',
      access: ['clerk'],
      query: noQuery,
      headers: idempotencyHeaders,
      body: cs.intakeSchema.extend({ divisionCode: divisionCodeSchema }).strict(),
      response: {
        status: 201,
        description: 'Registered',
        otherStatuses: { 200: 'Registered by an earlier request with the same Idempotency-Key: its case' },
        schema: registrationSchema,
      },
      problems: [...commonProblems, 413, 415, 422],
    },
    async (deps, { headers, body }, req, res) => {
      const reg = await registerComplaint(deps, body, actorOf(req.principal!), headers['idempotency-key']);
      res
        .status(reg.created ? 201 : 200)
        .location(`/v1/complaints/${reg.caseId}`)
        .json({ caseId: reg.caseId, created: reg.created, links: { self: `/v1/complaints/${reg.caseId}` } });
    },
  ),
  route(
    {
      operationId: 'listComplaints',
      method: 'get',
      path: '/v1/complaints',
      tag: 'complaints',
      summary: 'List and search cases',
      description:
        'Filters combine with AND; newest first; paged. A unit lists its own cases only; a supervisor the divisions it covers (403 when the filter asks for others).',
      access: readers,
      query: listQuery,
      response: { status: 200, description: 'One page of cases', schema: casePageSchema },
      problems: commonProblems,
    },
    async (deps, { query: q }, req, res) => {
      const p = req.principal!;
      if (q.unit === 'me' && p.role !== 'unit') throw badRequest("unit=me is for a unit's token: name the unit.");
      const unit = q.unit === 'me' ? p.unitId : q.unit;
      if (p.role === 'unit' && unit && unit !== p.unitId) throw forbidden('A unit sees its own cases only.');
      const reporter: ReporterMatch[] = [];
      for (const [field, kind] of Object.entries(reporterFilters) as Array<[keyof typeof reporterFilters, ReporterMatch['kind']]>) {
        const value = q[field];
        if (value === undefined) continue;
        if (!reporterSearchers.includes(p.role)) throw forbidden('Only clerks and supervisors may find a case by its reporter.');
        const digests = deps.reporterIndex.searchDigests(kind, value);
        if (!digests) throw badRequest(`${field} holds nothing to search by.`);
        reporter.push({ kind, digests });
      }
      if (q.cursor && q.page > 1) throw badRequest('Give `cursor` or `page`, not both.');
      const order = q.order ?? (q.sort === 'due' ? 'asc' : 'desc');
      const offset = deps.policy().calendar.utcOffsetMinutes;
      const receivedFrom = q.from && instantOf(q.from, offset);
      const receivedTo = q.to && instantOf(q.to, offset, 'end');
      if (receivedFrom && receivedTo && receivedFrom > receivedTo) throw badRequest("'to' must not be before 'from'.");
      const result = await listCases(deps.pool, {
        status: q.status,
        category: q.category,
        divisionPrefixes: divisionScope(p, q.division),
        unitId: p.role === 'unit' ? p.unitId : unit,
        ownerId: q.owner === 'me' ? p.sub : q.owner,
        overdue: q.overdue,
        dueBefore: q.dueBefore && instantOf(q.dueBefore, offset),
        receivedFrom,
        receivedTo,
        q: q.q,
        reporter,
        sort: q.sort,
        order,
        ...(q.cursor ? { limit: q.pageSize, after: decodeCursor(q.cursor, q, order) } : pageWindow(q)),
      });
      res.json({
        ...(!q.cursor && { page: q.page }),
        pageSize: q.pageSize,
        total: result.total,
        totalExact: result.totalExact,
        items: result.items,
        ...(result.next && { nextCursor: encodeCursor({ s: q.sort, o: order, k: result.next, f: filtersFingerprint(q) }) }),
      });
    },
  ),
  route(
    {
      operationId: 'getComplaint',
      method: 'get',
      path: '/v1/complaints/{caseId}',
      tag: 'complaints',
      summary: 'One case with its timeline',
      description:
        "Every event with its actor, time, reason and the deadline in force. The reporter's identity only for those who may see it.",
      access: readers,
      caseScoped: true,
      params: caseParams,
      query: noQuery,
      response: { status: 200, description: 'The case', schema: caseDetailSchema },
      problems: [...commonProblems, 404],
    },
    async (deps, { params }, req, res) => {
      const record = await loadVisible(deps, req, params.caseId);
      const timeline = await getTimeline(deps.pool, params.caseId);
      const reporter = canSeeReporter(req.principal!, record) ? await getReporter(deps.pool, deps.reporterKeys, params.caseId) : undefined;
      const { address, ...point } = record.location ?? {};
      const location = record.location && (addressReaders.has(req.principal!.role) ? { ...point, address } : point);
      res.json({
        ...record.view,
        ...(record.description !== undefined && { description: record.description }),
        ...(location && { location }),
        timeline: timeline.length ? timeline : record.view.timeline,
        ...(reporter && { reporter }),
      });
    },
  ),
  ...decisions.map(decisionRoute),
  unlinkRoute,
];

export function complaintRoutes(deps: ComplaintRoutesDeps): Router {
  const router = Router();
  mountRoutes(router, complaintRouteTable, deps, { jwtSecret: deps.jwtSecret });
  return router;
}
