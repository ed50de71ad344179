import { Router, type Request } from 'express';
import { z } from 'zod';
import type { UpdateDefinition } from '@temporalio/common';
import type { Pool } from 'pg';
import * as c from '../../domain/case';
import { categories, categorySchema, urgencySchema } from '../../domain/policy';
import type { Policy } from '../../domain/policy';
import { getCase, getReporter, getTimeline, listCases } from '../../db/cases';
import type { KeyRing } from '../../runtime/encryption';
import { sealReporterFields } from '../../runtime/reporter-seal';
import * as wf from '../../workflows/contracts/complaint';
import { actorOf, canSeeCase, canSeeReporter, type PrincipalRole } from '../auth';
import { caseParams, commonProblems, isoTime, noQuery, pageAnswer, pageFields, pageSchema, pageWindow } from '../fields';
import { forbidden, notFound } from '../problem';
import { registerComplaint } from '../registration';
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

/** Unknown parameters are refused (400), so that a misspelt filter never silently lists everything. */
export const listQuery = z
  .strictObject({
    status: csvOf(c.caseStatuses).optional(),
    category: csvOf(categories).optional(),
    /** Division code or prefix: "37" a province, "3701" a city, "370102" a county. */
    division: z
      .string()
      .regex(/^\d{2,6}$/)
      .optional()
      .describe('division code or prefix (2 to 6 digits)'),
    unit: z.string().min(1).max(100).optional().describe('the handling unit'),
    overdue: z
      .enum(['true', 'false'])
      .transform((v) => v === 'true')
      .optional()
      .describe('the running deadline has passed'),
    from: z.iso.datetime({ offset: true }).optional().describe('received at or after'),
    to: z.iso.datetime({ offset: true }).optional().describe('received before'),
    q: z.string().trim().min(1).max(200).optional().describe('free text in the case number, title or description'),
    ...pageFields,
  })
  .refine((q) => !q.from || !q.to || Date.parse(q.from) <= Date.parse(q.to), { path: ['to'], message: "must not be before 'from'" });

// ---- Answers (for the OpenAPI document; the handlers send what the workflow and the projection give) ----

const clockKinds = ['supplement', 'accept', 'handle', 'rework', 'callback', 'review'] as const;
const timelineEntrySchema = z.object({
  seq: z.number().int(),
  type: z.string(),
  at: isoTime,
  actor: c.actorSchema,
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
  channel: c.channelSchema,
  divisionCode: z.string(),
  title: z.string(),
  owner: c.actorSchema,
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
  location: z.object({ lat: z.number().nullable(), lon: z.number().nullable(), siteId: z.string().nullable() }).optional(),
  reporter: c.reporterSchema.optional().describe("clerks, the division's supervisors, and the unit with the reporter's consent only"),
});
const casePageSchema = pageSchema(caseViewSchema);
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
}

/** The decision bodies are strict: an unknown field is refused, not ignored. The actor comes from the token. */
const withoutActor = (s: z.ZodObject) => s.omit({ actor: true }).strict();
const reviewBody = z.discriminatedUnion('decision', [withoutActor(c.reviewSchema.options[0]), withoutActor(c.reviewSchema.options[1])]);

export const decisions: Decision[] = [
  {
    path: 'supplement',
    operationId: 'supplementComplaint',
    summary: 'Record the key information the complainant supplemented',
    roles: ['clerk'],
    body: withoutActor(c.supplementSchema),
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
    body: withoutActor(c.acceptSchema),
    update: wf.acceptUpdate,
  },
  {
    path: 'forward',
    operationId: 'forwardComplaint',
    summary: 'Forward a case outside our scope to the competent body',
    roles: ['clerk'],
    body: withoutActor(c.forwardSchema),
    update: wf.forwardUpdate,
  },
  {
    path: 'transfer',
    operationId: 'transferComplaint',
    summary: 'Transfer the case to another handling unit',
    roles: ['clerk', 'supervisor'],
    body: withoutActor(c.transferSchema),
    update: wf.transferUpdate,
  },
  {
    path: 'extension-request',
    operationId: 'requestExtension',
    summary: 'Ask for more time to handle the case',
    roles: ['unit'],
    body: withoutActor(c.extensionRequestSchema),
    update: wf.requestExtensionUpdate,
  },
  {
    path: 'extension-decision',
    operationId: 'decideExtension',
    summary: 'Approve or deny the pending extension request',
    roles: ['supervisor'],
    body: withoutActor(c.extensionDecisionSchema),
    update: wf.decideExtensionUpdate,
  },
  {
    path: 'result',
    operationId: 'submitResult',
    summary: "Submit the unit's handling result and reply",
    roles: ['unit'],
    body: withoutActor(c.resultSchema),
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
    body: withoutActor(c.callbackSchema),
    update: wf.recordCallbackUpdate,
  },
  {
    path: 'review-request',
    operationId: 'requestReview',
    summary: "Record the complainant's request for a review by the next level",
    roles: ['clerk'],
    body: withoutActor(c.reviewRequestSchema),
    update: wf.requestReviewUpdate,
  },
  {
    path: 'review-decision',
    operationId: 'decideReview',
    summary: 'Uphold the handling, or overturn it and reopen the case',
    roles: ['supervisor'],
    body: withoutActor(c.reviewDecisionSchema),
    update: wf.decideReviewUpdate,
  },
  {
    path: 'escalation',
    operationId: 'escalateComplaint',
    summary: 'Escalate the case (supervision, city, provincial)',
    roles: ['supervisor'],
    body: withoutActor(c.escalateSchema),
    update: wf.escalateUpdate,
  },
  {
    path: 'reopen',
    operationId: 'reopenComplaint',
    summary: 'Reopen a closed case (spot check, re-inspection, supervision)',
    roles: ['supervisor', 'inspector'],
    body: withoutActor(c.reopenSchema),
    update: wf.reopenUpdate,
  },
];

// ---- Handlers ----

/** Every role that reads cases (each within its scope). */
const readers: readonly PrincipalRole[] = ['clerk', 'unit', 'supervisor', 'inspector', 'analyst', 'ops', 'admin'];

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
      const key = headers['idempotency-key'];
      const args = { ...(d.seal ? d.seal(deps, params.caseId, body as never) : (body as object)), actor: actorOf(req.principal!) };
      // A projected case whose workflow has finished (archived) takes no decision: 404.
      const running = `running case ${params.caseId}`;
      const view = await deps.temporal.update(wf.workflowIdFor(params.caseId), d.update, [args], running, key && `${d.path}:${key}`);
      res.json(view);
    },
  );
}

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
      body: c.intakeSchema.strict(),
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
      if (p.role === 'unit' && q.unit && q.unit !== p.unitId) throw forbidden('A unit sees its own cases only.');
      const result = await listCases(deps.pool, {
        status: q.status,
        category: q.category,
        divisionPrefixes: divisionScope(p, q.division),
        unitId: p.role === 'unit' ? p.unitId : q.unit,
        overdue: q.overdue,
        receivedFrom: q.from,
        receivedTo: q.to,
        q: q.q,
        ...pageWindow(q),
      });
      res.json(pageAnswer(q, result.items, result.total));
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
      res.json({
        ...record.view,
        ...(record.description !== undefined && { description: record.description }),
        ...(record.location && { location: record.location }),
        timeline: timeline.length ? timeline : record.view.timeline,
        ...(reporter && { reporter }),
      });
    },
  ),
  ...decisions.map(decisionRoute),
];

export function complaintRoutes(deps: ComplaintRoutesDeps): Router {
  const router = Router();
  mountRoutes(router, complaintRouteTable, deps, { jwtSecret: deps.jwtSecret });
  return router;
}
