import { Router } from 'express';
import { z } from 'zod';
import { ScheduleNotFoundError, WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { Pool } from 'pg';
import { actorSchema } from '../../domain/case';
import type { Policy } from '../../domain/policy';
import { verifyDraw } from '../../domain/sampling';
import { deskReviewBodySchema, findingBodySchema, inspectionFindings } from '../../domain/supervision';
import { localDateSchema, localDayPeriod, quarterPeriod, quarterSchema } from '../../domain/supervision-periods';
import {
  getDeskCheckItems,
  getDeskCheckState,
  getInspections,
  getStoredDraw,
  listDeskChecks,
  listInspectors,
  listPublishedResults,
  listReInspections,
  upsertInspector,
  type DrawKind,
} from '../../db/supervision';
import { backfillFor, scheduleIds } from '../../worker/schedules';
import { deskReviewUpdate } from '../../workflows/desk-check';
import { recordFindingUpdate } from '../../workflows/re-inspection';
import { actorOf, coversDivision, type PrincipalRole } from '../auth';
import { HttpProblem, conflict, forbidden, notFound } from '../problem';
import { mountRoutes, route, type Route } from '../validate';
import { idempotencyHeaders } from './complaints';

/**
 * `/v1/supervision`: desk checks and re-inspections, their draws (re-run from the seed by anyone
 * with a token), the reviewers' and inspectors' results, backfills of missed runs through the
 * Schedules, the inspector pool, and the published results of re-inspections ("one public", no
 * token). One table, mounted by the router and described in the OpenAPI document.
 */

export interface SupervisionRoutesDeps {
  client: Client;
  pool: Pool;
  policy: () => Policy;
  jwtSecret: string;
  /** Prefix of the Schedule ids (worker/schedules.ts); tests use their own. */
  schedulePrefix?: string;
}

// ---- Inputs ----

const pageFields = {
  page: z.coerce.number().int().min(1).max(100_000).default(1),
  pageSize: z.coerce.number().int().min(1).max(200).default(50),
};
const pageQuery = z.strictObject(pageFields);
const noQuery = z.strictObject({});
const limits = (q: { page: number; pageSize: number }) => ({ limit: q.pageSize, offset: (q.page - 1) * q.pageSize });

const caseId = z.string().regex(/^EC-\d{4}-\d{7}$/, 'a case number like EC-2026-0000001');
const deskCheckParams = z.object({ id: localDateSchema.describe('the checked day') });
const deskItemParams = z.object({ id: localDateSchema, caseId });
const reInspectionParams = z.object({ id: quarterSchema.describe('the re-inspected quarter') });
const inspectionParams = z.object({ id: quarterSchema, caseId });
const inspectorParams = z.object({
  id: z
    .string()
    .min(1)
    .max(200)
    .regex(/^[\x21-\x7e]+$/, 'printable ASCII without spaces'),
});

const backfillBody = z
  .discriminatedUnion('kind', [
    z.strictObject({ kind: z.literal('desk_check'), from: localDateSchema, to: localDateSchema }),
    z.strictObject({ kind: z.literal('re_inspection'), from: quarterSchema, to: quarterSchema }),
  ])
  .refine((b) => b.from <= b.to, { path: ['to'], message: "must not be before 'from'" });

const inspectorBody = z.strictObject({
  divisionCode: z.string().regex(/^\d{2,6}$/, 'a division code or a prefix of one (2 to 6 digits)'),
  name: z.string().trim().min(1).max(200).optional(),
  active: z.boolean().default(true),
});

const publicQuery = z.strictObject({
  ...pageFields,
  quarter: quarterSchema.optional(),
  division: z
    .string()
    .regex(/^\d{2,6}$/)
    .optional()
    .describe('division code or prefix (2 to 6 digits)'),
});

// ---- Answers (for the OpenAPI document) ----

const isoTime = z.iso.datetime({ offset: true });
const rulesSchema = z.object({
  share: z.number(),
  minPerDivision: z.number().int(),
  closures: z.array(z.string()),
  policyVersion: z.string(),
});
const drawHead = {
  id: z.string(),
  seed: z.string(),
  share: z.number(),
  minPerDivision: z.number().int(),
  closures: z.array(z.string()),
  policyVersion: z.string(),
  periodFrom: isoTime,
  periodTo: isoTime,
  population: z.number().int().describe('cases in the sampling frame'),
  drawn: z.array(z.string()).describe('the sample, sorted'),
  workflowId: z.string(),
  createdAt: isoTime,
};
const deskCheckItemSchema = z.object({
  caseId: z.string(),
  divisionCode: z.string(),
  unitId: z.string().nullable(),
  reviewerId: z.string().nullable(),
  result: z.enum(['compliant', 'non_compliant', 'missed']).nullable(),
  finding: z.string().nullable(),
  reviewedBy: z.string().nullable(),
  reviewedAt: z.union([isoTime, z.number()]).nullable(),
  returnOutcome: z.enum(['reopened', 'not_reopenable']).nullable(),
});
const deskCheckSummarySchema = z.object({
  id: z.string(),
  seed: z.string(),
  share: z.number(),
  minPerDivision: z.number().int(),
  policyVersion: z.string(),
  population: z.number().int(),
  drawn: z.number().int(),
  reviewDueAt: isoTime,
  completedAt: isoTime.nullable(),
  workflowId: z.string(),
  results: z.object({ compliant: z.number().int(), nonCompliant: z.number().int(), missed: z.number().int(), returned: z.number().int() }),
});
const deskCheckDetailSchema = z.object({
  ...drawHead,
  completedAt: isoTime.nullable(),
  items: z.array(deskCheckItemSchema.extend({ returnDetail: z.string().nullable(), rectificationDueAt: isoTime.nullable() })),
});
const verificationSchema = z.object({
  id: z.string(),
  seed: z.string(),
  rules: rulesSchema,
  period: z.object({ from: isoTime, to: isoTime }),
  population: z.number().int(),
  stored: z.array(z.string()),
  recomputed: z.array(z.string()),
  matches: z.boolean().describe('the draw re-run from its seed over its sampling frame gives the stored sample'),
  orderIndependent: z.boolean().describe('the same draw over the frame in reverse order gives the same sample'),
});
const reInspectionSummarySchema = z.object({
  id: z.string(),
  seed: z.string(),
  share: z.number(),
  minPerDivision: z.number().int(),
  policyVersion: z.string(),
  population: z.number().int(),
  drawn: z.number().int(),
  createdAt: isoTime,
  workflowId: z.string(),
  findings: z.object({
    rectified: z.number().int(),
    notRectified: z.number().int(),
    falseReport: z.number().int(),
    overdue: z.number().int(),
    unassigned: z.number().int(),
  }),
});
const inspectionSchema = z.object({
  id: z.string(),
  reInspectionId: z.string(),
  caseId: z.string(),
  divisionCode: z.string(),
  unitId: z.string().nullable(),
  inspectorId: z.string().nullable(),
  status: z.enum(['unassigned', 'assigned', 'in_progress', 'overdue', 'done']),
  workflowId: z.string().nullable(),
  startedAt: isoTime.nullable(),
  dueAt: isoTime.nullable(),
  reminders: z.array(z.object({ n: z.number().int(), at: isoTime })),
  overdueAt: isoTime.nullable(),
  finding: z.enum(inspectionFindings).nullable(),
  note: z.string().nullable(),
  foundBy: z.string().nullable(),
  foundAt: isoTime.nullable(),
  reopenOutcome: z.string().nullable(),
  published: z.boolean(),
  publishedAt: isoTime.nullable(),
  accountability: z.object({ unitId: z.string().nullable(), responsiblePerson: z.string(), finding: z.string() }).nullable(),
});
const reInspectionDetailSchema = z.object({ ...drawHead, inspections: z.array(inspectionSchema) });
const inspectionViewSchema = z.object({
  inspectionId: z.string(),
  caseId: z.string(),
  inspectorId: z.string(),
  startedAt: isoTime,
  dueAt: isoTime,
  reminders: z.array(z.object({ n: z.number().int(), at: isoTime })),
  overdue: z.boolean(),
  finding: z.object({ actor: actorSchema, finding: z.enum(inspectionFindings), note: z.string().optional(), foundAt: isoTime }).optional(),
  reopen: z.object({ outcome: z.enum(['reopened', 'not_reopenable']), detail: z.string().optional() }).optional(),
  published: z.boolean(),
});
const publicResultSchema = z.object({
  quarter: z.string(),
  caseId: z.string(),
  divisionCode: z.string(),
  unitId: z.string().nullable(),
  finding: z.enum(inspectionFindings),
  caseReopened: z.boolean(),
  inspectedAt: isoTime.nullable(),
  publishedAt: isoTime.nullable(),
});
const inspectorSchema = z.object({ id: z.string(), name: z.string().nullish(), divisionCode: z.string(), active: z.boolean() });
const backfillAcceptedSchema = z.object({
  scheduleId: z.string(),
  kind: z.enum(['desk_check', 're_inspection']),
  from: z.string(),
  to: z.string(),
  window: z.object({ start: isoTime, end: isoTime }),
});
const pageOf = (item: z.ZodType) => z.object({ page: z.number().int(), pageSize: z.number().int(), items: z.array(item) });

// ---- The table ----

const readers: readonly PrincipalRole[] = ['inspector', 'supervisor', 'analyst', 'ops', 'admin'];
const commonProblems = [400, 401, 403, 503] as const;
const tag = 'supervision';

async function verify(deps: SupervisionRoutesDeps, kind: DrawKind, id: string) {
  const stored = await getStoredDraw(deps.pool, kind, id);
  if (!stored) throw notFound(`No ${kind === 'desk_check' ? 'desk check' : 're-inspection'} ${id}.`);
  const check = verifyDraw(stored);
  return {
    id,
    seed: stored.seed,
    rules: { share: stored.share, minPerDivision: stored.minPerDivision, closures: stored.closures, policyVersion: stored.policyVersion },
    period: { from: stored.periodFrom, to: stored.periodTo },
    population: stored.population.length,
    stored: stored.drawn,
    ...check,
  };
}

export const supervisionRouteTable: Route<SupervisionRoutesDeps>[] = [
  route(
    {
      operationId: 'listPublishedReInspectionResults',
      method: 'get',
      path: '/v1/supervision/public/results',
      tag,
      summary: 'Published results of on-site re-inspections ("one public")',
      description:
        'No token. The quarter, case number, division, handling unit and finding of every inspection, and whether the case was reopened; no personal data.',
      access: 'public',
      query: publicQuery,
      response: { status: 200, description: 'One page of results, newest first', schema: pageOf(publicResultSchema) },
      problems: [400, 503],
    },
    async (deps, { query: q }, _req, res) => {
      const items = await listPublishedResults(deps.pool, { ...limits(q), quarter: q.quarter, divisionPrefix: q.division });
      res.json({ page: q.page, pageSize: q.pageSize, items });
    },
  ),
  route(
    {
      operationId: 'listDeskChecks',
      method: 'get',
      path: '/v1/supervision/desk-checks',
      tag,
      summary: 'Daily desk checks, newest first, with their results',
      access: readers,
      query: pageQuery,
      response: { status: 200, description: 'One page of desk checks', schema: pageOf(deskCheckSummarySchema) },
      problems: commonProblems,
    },
    async (deps, { query: q }, _req, res) => {
      res.json({ page: q.page, pageSize: q.pageSize, items: await listDeskChecks(deps.pool, limits(q)) });
    },
  ),
  route(
    {
      operationId: 'getDeskCheck',
      method: 'get',
      path: '/v1/supervision/desk-checks/{id}',
      tag,
      summary: "One day's desk check: its seed, rules and drawn cases with their reviews",
      access: readers,
      params: deskCheckParams,
      query: noQuery,
      response: { status: 200, description: 'The desk check', schema: deskCheckDetailSchema },
      problems: [...commonProblems, 404],
    },
    async (deps, { params }, _req, res) => {
      const stored = await getStoredDraw(deps.pool, 'desk_check', params.id);
      if (!stored) throw notFound(`No desk check ${params.id}.`);
      const state = await getDeskCheckState(deps.pool, params.id);
      const { population, ...head } = stored;
      res.json({
        ...head,
        population: population.length,
        completedAt: state?.completedAt ?? null,
        items: await getDeskCheckItems(deps.pool, params.id),
      });
    },
  ),
  route(
    {
      operationId: 'verifyDeskCheck',
      method: 'get',
      path: '/v1/supervision/desk-checks/{id}/verify',
      tag,
      summary: 'Re-run a desk-check draw from its seed and compare it with the stored sample',
      access: readers,
      params: deskCheckParams,
      query: noQuery,
      response: { status: 200, description: 'The comparison', schema: verificationSchema },
      problems: [...commonProblems, 404],
    },
    async (deps, { params }, _req, res) => {
      res.json(await verify(deps, 'desk_check', params.id));
    },
  ),
  route(
    {
      operationId: 'reviewDeskCheckItem',
      method: 'post',
      path: '/v1/supervision/desk-checks/{id}/items/{caseId}/review',
      tag,
      summary: 'Record the review of a drawn case; a non-compliant one is returned to its unit',
      description:
        "An inspector reviews the cases assigned to it (or unassigned ones); a supervisor those in its divisions. A non-compliant case is reopened (source `spot_check`) with the policy's rectification deadline. 409 once reviewed or after the review deadline.",
      access: ['inspector', 'supervisor'],
      params: deskItemParams,
      query: noQuery,
      headers: idempotencyHeaders,
      body: deskReviewBodySchema,
      response: { status: 200, description: 'The reviewed item', schema: deskCheckItemSchema },
      problems: [...commonProblems, 404, 409, 415, 422],
    },
    async (deps, { params, headers, body }, req, res) => {
      const p = req.principal!;
      const [item] = await getDeskCheckItems(deps.pool, params.id, params.caseId);
      const state = await getDeskCheckState(deps.pool, params.id);
      if (!item || !state) throw notFound(`Case ${params.caseId} is not in the desk check ${params.id}.`);
      if (p.role === 'inspector' && item.reviewerId && item.reviewerId !== p.sub)
        throw forbidden('The case is assigned to another reviewer.');
      if (p.role === 'supervisor' && !coversDivision(p, item.divisionCode)) throw forbidden('The case is outside your divisions.');
      if (item.result) throw conflict(`Case ${params.caseId} has already been reviewed (${item.result}).`);
      if (state.completedAt) throw conflict(`The desk check ${params.id} is closed: its review deadline has passed.`);
      const key = headers['idempotency-key'];
      try {
        const result = await deps.client.workflow.getHandle(state.workflowId).executeUpdate(deskReviewUpdate, {
          args: [{ ...body, caseId: params.caseId, actor: actorOf(p) }],
          ...(key && { updateId: `desk-review:${key}` }),
        });
        res.json(result);
      } catch (err) {
        if (err instanceof WorkflowNotFoundError) throw conflict(`The desk check ${params.id} is closed.`);
        throw err;
      }
    },
  ),
  route(
    {
      operationId: 'listReInspections',
      method: 'get',
      path: '/v1/supervision/re-inspections',
      tag,
      summary: 'Quarterly on-site re-inspections, newest first, with their findings',
      access: readers,
      query: pageQuery,
      response: { status: 200, description: 'One page of re-inspections', schema: pageOf(reInspectionSummarySchema) },
      problems: commonProblems,
    },
    async (deps, { query: q }, _req, res) => {
      res.json({ page: q.page, pageSize: q.pageSize, items: await listReInspections(deps.pool, limits(q)) });
    },
  ),
  route(
    {
      operationId: 'getReInspection',
      method: 'get',
      path: '/v1/supervision/re-inspections/{id}',
      tag,
      summary: "One quarter's re-inspection: its seed, rules and inspections",
      access: readers,
      params: reInspectionParams,
      query: noQuery,
      response: { status: 200, description: 'The re-inspection', schema: reInspectionDetailSchema },
      problems: [...commonProblems, 404],
    },
    async (deps, { params }, _req, res) => {
      const stored = await getStoredDraw(deps.pool, 're_inspection', params.id);
      if (!stored) throw notFound(`No re-inspection ${params.id}.`);
      const { population, ...head } = stored;
      res.json({ ...head, population: population.length, inspections: await getInspections(deps.pool, params.id) });
    },
  ),
  route(
    {
      operationId: 'verifyReInspection',
      method: 'get',
      path: '/v1/supervision/re-inspections/{id}/verify',
      tag,
      summary: 'Re-run a re-inspection draw from its seed and compare it with the stored sample',
      access: readers,
      params: reInspectionParams,
      query: noQuery,
      response: { status: 200, description: 'The comparison', schema: verificationSchema },
      problems: [...commonProblems, 404],
    },
    async (deps, { params }, _req, res) => {
      res.json(await verify(deps, 're_inspection', params.id));
    },
  ),
  route(
    {
      operationId: 'recordInspectionFinding',
      method: 'post',
      path: '/v1/supervision/re-inspections/{id}/inspections/{caseId}/finding',
      tag,
      summary: "The assigned inspector's finding; not rectified or a false report reopens the case",
      description:
        'Only the assigned inspector (403 otherwise). `not_rectified` or `false_report` needs a note and the responsible person: the case is reopened (source `re_inspection`, escalated per policy) and an accountability record is written. Every result is published.',
      access: ['inspector'],
      params: inspectionParams,
      query: noQuery,
      headers: idempotencyHeaders,
      body: findingBodySchema,
      response: { status: 200, description: 'The inspection after the finding', schema: inspectionViewSchema },
      problems: [...commonProblems, 404, 409, 415, 422],
    },
    async (deps, { params, headers, body }, req, res) => {
      const p = req.principal!;
      const [inspection] = await getInspections(deps.pool, params.id, params.caseId);
      if (!inspection) throw notFound(`Case ${params.caseId} is not in the re-inspection ${params.id}.`);
      if (inspection.inspectorId !== p.sub) throw forbidden('Only the assigned inspector records the finding.');
      if (inspection.finding) throw conflict(`The finding is already recorded (${inspection.finding}).`);
      if (!inspection.workflowId) throw conflict('The inspection has not started yet.');
      const key = headers['idempotency-key'];
      const view = await deps.client.workflow.getHandle(inspection.workflowId).executeUpdate(recordFindingUpdate, {
        args: [{ ...body, actor: actorOf(p) }],
        ...(key && { updateId: `finding:${key}` }),
      });
      res.json(view);
    },
  ),
  route(
    {
      operationId: 'backfillSupervision',
      method: 'post',
      path: '/v1/supervision/backfills',
      tag,
      summary: 'Run missed desk checks (days) or re-inspections (quarters) through their Schedule',
      description:
        "Asks the Schedule to take the runs it would have taken for the periods `from`..`to` (inclusive); each run checks its period from the run's scheduled time. Only periods that have ended (422 otherwise). A period already drawn keeps its stored draw.",
      access: ['supervisor', 'admin'],
      query: noQuery,
      body: backfillBody,
      response: { status: 202, description: 'The Schedule took the backfill', schema: backfillAcceptedSchema },
      problems: [...commonProblems, 404, 415, 422],
    },
    async (deps, { body: b }, _req, res) => {
      const offset = deps.policy().calendar.utcOffsetMinutes;
      const lastEnds = b.kind === 'desk_check' ? localDayPeriod(b.to, offset).to : quarterPeriod(b.to, offset).to;
      if (lastEnds > Date.now()) {
        throw new HttpProblem(422, 'Unprocessable Content', `${b.to} has not ended yet: only past periods can be backfilled.`);
      }
      const scheduleId = scheduleIds(deps.schedulePrefix)[b.kind];
      const window = backfillFor(b.kind, b.from, b.to, offset);
      try {
        await deps.client.schedule.getHandle(scheduleId).backfill(window);
      } catch (err) {
        if (err instanceof ScheduleNotFoundError)
          throw notFound(`The Schedule ${scheduleId} does not exist: a worker creates it at start-up.`);
        throw err;
      }
      res.status(202).json({
        scheduleId,
        kind: b.kind,
        from: b.from,
        to: b.to,
        window: { start: window.start.toISOString(), end: window.end.toISOString() },
      });
    },
  ),
  route(
    {
      operationId: 'listInspectors',
      method: 'get',
      path: '/v1/supervision/inspectors',
      tag,
      summary: 'The inspector pool',
      access: ['supervisor', 'ops', 'admin'],
      query: noQuery,
      response: { status: 200, description: 'Every inspector', schema: z.object({ items: z.array(inspectorSchema) }) },
      problems: commonProblems,
    },
    async (deps, _input, _req, res) => {
      res.json({ items: await listInspectors(deps.pool) });
    },
  ),
  route(
    {
      operationId: 'putInspector',
      method: 'post',
      path: '/v1/supervision/inspectors/{id}',
      tag,
      summary: 'Add an inspector to the pool, or change one (division covered, active)',
      description: "The division code may be a prefix: '37' covers a province, '3701' a city. Inactive inspectors are not drawn.",
      access: ['supervisor', 'admin'],
      params: inspectorParams,
      query: noQuery,
      body: inspectorBody,
      response: { status: 200, description: 'The inspector', schema: inspectorSchema },
      problems: [...commonProblems, 415],
    },
    async (deps, { params, body }, _req, res) => {
      await upsertInspector(deps.pool, { id: params.id, ...body });
      res.json({ id: params.id, ...body });
    },
  ),
];

export function supervisionRoutes(deps: SupervisionRoutesDeps): Router {
  const router = Router();
  mountRoutes(router, supervisionRouteTable, deps, { jwtSecret: deps.jwtSecret });
  return router;
}
