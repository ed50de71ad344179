import { Router } from 'express';
import { z } from 'zod';
import { ScheduleNotFoundError, ScheduleOverlapPolicy, WorkflowNotFoundError } from '@temporalio/client';
import type { Pool } from 'pg';
import { getDeskCheckItems, getDeskCheckState } from '../../db/desk-checks';
import { getInspections, listAccountabilityRecords, listPublishedResults } from '../../db/re-inspections';
import { listFindings, listInspectors, upsertInspector } from '../../db/spot-checks';
import { divisionPrefixSchema } from '../../domain/schemas/divisions';
import { actorSchema, text } from '../../domain/schemas/case';
import { isoOrNull } from '../../domain/instant';
import type { Policy } from '../../domain/policy';
import {
  backfillWindow,
  deskCheckKind,
  reInspectionKind,
  scheduleIds,
  spotCheckKindOf,
  type SpotCheckKindSpec,
} from '../../domain/spot-check';
import { inspectionFindings } from '../../domain/supervision';
import { deskReviewBodySchema, findingBodySchema } from '../../domain/schemas/supervision';
import { periodSchemas, quarterSchema } from '../../domain/schemas/supervision-periods';
import { deskReviewUpdate } from '../../workflows/contracts/desk-check';
import { recordFindingUpdate } from '../../workflows/contracts/re-inspection';
import { actorOf, coversDivision } from '../auth';
import { commonProblems, isoTime, noQuery, pageAnswer, pageFields, pageSchema, pageWindow } from '../fields';
import { HttpProblem, conflict, forbidden, notFound } from '../problem';
import { divisionScope } from '../scope';
import type { TemporalGateway } from '../temporal-gateway';
import { mountRoutes, route, type Route } from '../validate';
import { drawHead, drawSummarySchema, spotCheckRoutes, tag, type DecisionInput, type SpotCheckRoutesOf } from './spot-checks';

/**
 * `/v1/supervision`: desk checks and re-inspections, their draws (re-run from the seed by anyone
 * with a token), the reviewers' and inspectors' results, backfills of missed runs through the
 * Schedules, the inspector pool, and the published results of re-inspections ("one public", no
 * token). One table, mounted by the router and described in the OpenAPI document. What both kinds
 * serve alike is built by api/routes/spot-checks.ts; this table adds where they differ: who checks
 * a drawn case, and what the finding does.
 */

export interface SupervisionRoutesDeps {
  temporal: TemporalGateway;
  pool: Pool;
  policy: () => Policy;
  jwtSecret: string;
  /** Prefix of the Schedule ids (domain/spot-check.ts); tests use their own. */
  schedulePrefix?: string;
}

// ---- Inputs ----

const inspectorParams = z.object({
  id: z
    .string()
    .min(1)
    .max(200)
    .regex(/^[\x21-\x7e]+$/, 'printable ASCII without spaces'),
});

const backfillOf = (kind: SpotCheckKindSpec) =>
  z.strictObject({ kind: z.literal(kind.kind), from: periodSchemas[kind.kind], to: periodSchemas[kind.kind] });
const backfillBody = z
  .discriminatedUnion('kind', [backfillOf(deskCheckKind), backfillOf(reInspectionKind)])
  .refine((b) => b.from <= b.to, { path: ['to'], message: "must not be before 'from'" });

const inspectorBody = z.strictObject({
  divisionCode: divisionPrefixSchema,
  name: text(200).optional(),
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

const reopenOutcomes = z.enum(['reopened', 'not_reopenable']);
const deskResults = ['compliant', 'non_compliant', 'missed'] as const;
const deskCheckItemSchema = z.object({
  caseId: z.string(),
  divisionCode: z.string(),
  unitId: z.string().nullable(),
  reviewerId: z.string().nullable(),
  result: z.enum(['compliant', 'non_compliant', 'missed']).nullable(),
  finding: z.string().nullable(),
  reviewedBy: z.string().nullable(),
  reviewedAt: isoTime.nullable(),
  returnOutcome: reopenOutcomes.nullable(),
});
const deskCheckDetailSchema = z.object({
  ...drawHead,
  completedAt: isoTime.nullable(),
  items: z.array(deskCheckItemSchema.extend({ returnDetail: z.string().nullable(), rectificationDueAt: isoTime.nullable() })),
});
const reminders = z.array(z.object({ n: z.number().int(), at: isoTime }));
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
  reminders,
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
  reminders,
  overdue: z.boolean(),
  finding: z.object({ actor: actorSchema, finding: z.enum(inspectionFindings), note: z.string().optional(), foundAt: isoTime }).optional(),
  reopen: z.object({ outcome: reopenOutcomes, detail: z.string().optional() }).optional(),
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

// ---- Where the kinds differ ----

/** A reviewer's result for a drawn case; a non-compliant one goes back to its unit. */
async function reviewDeskCheckItem(deps: SupervisionRoutesDeps, d: DecisionInput<z.output<typeof deskReviewBodySchema>>) {
  const p = d.principal;
  const [item] = await getDeskCheckItems(deps.pool, d.id, d.caseId);
  const state = await getDeskCheckState(deps.pool, d.id);
  if (!item || !state) throw notFound(`Case ${d.caseId} is not in the desk check ${d.id}.`);
  if (p.role === 'inspector' && item.reviewerId && item.reviewerId !== p.sub) throw forbidden('The case is assigned to another reviewer.');
  if (p.role === 'supervisor' && !coversDivision(p, item.divisionCode)) throw forbidden('The case is outside your divisions.');
  if (item.result) throw conflict(`Case ${d.caseId} has already been reviewed (${item.result}).`);
  if (state.completedAt) throw conflict(`The desk check ${d.id} is closed: its review deadline has passed.`);
  const review = { ...d.body, caseId: d.caseId, actor: actorOf(p) };
  const handle = deps.temporal.handle(state.workflowId);
  try {
    const options = { args: [review] as [typeof review], ...(d.updateId && { updateId: d.updateId }) };
    const reviewed = await deps.temporal.call(() => handle.executeUpdate(deskReviewUpdate, options));
    // The workflow keeps epoch milliseconds; every answer gives ISO 8601.
    return { ...reviewed, reviewedAt: isoOrNull(reviewed.reviewedAt) };
  } catch (err) {
    // The check's workflow ends at its review deadline: gone, the check is closed (409), not unknown.
    if (err instanceof WorkflowNotFoundError) throw conflict(`The desk check ${d.id} is closed.`);
    throw err;
  }
}

/** The assigned inspector's finding; not rectified or a false report reopens the case. */
async function recordInspectionFinding(deps: SupervisionRoutesDeps, d: DecisionInput<z.output<typeof findingBodySchema>>) {
  const [inspection] = await getInspections(deps.pool, d.id, d.caseId);
  if (!inspection) throw notFound(`Case ${d.caseId} is not in the re-inspection ${d.id}.`);
  if (inspection.inspectorId !== d.principal.sub) throw forbidden('Only the assigned inspector records the finding.');
  if (inspection.finding) throw conflict(`The finding is already recorded (${inspection.finding}).`);
  if (!inspection.workflowId) throw conflict('The inspection has not started yet.');
  const finding = { ...d.body, actor: actorOf(d.principal) };
  const handle = deps.temporal.handle(inspection.workflowId);
  const options = { args: [finding] as [typeof finding], ...(d.updateId && { updateId: d.updateId }) };
  return deps.temporal.call(() => handle.executeUpdate(recordFindingUpdate, options));
}

const deskChecks: SpotCheckRoutesOf<SupervisionRoutesDeps> = {
  kind: deskCheckKind,
  name: 'DeskCheck',
  path: 'desk-checks',
  periodDescription: 'the checked day',
  summaries: {
    list: 'Daily desk checks, newest first, with their results',
    get: "One day's desk check: its seed, rules and drawn cases with their reviews",
  },
  summarySchema: drawSummarySchema(
    { reviewDueAt: isoTime, completedAt: isoTime.nullable() },
    { key: 'results', counts: ['compliant', 'nonCompliant', 'missed', 'returned'] },
  ),
  detailSchema: deskCheckDetailSchema,
  details: async (pool, id) => {
    const state = await getDeskCheckState(pool, id);
    return { completedAt: state?.completedAt ?? null, items: await getDeskCheckItems(pool, id) };
  },
  decision: {
    operationId: 'reviewDeskCheckItem',
    path: 'items/{caseId}/review',
    summary: 'Record the review of a drawn case; a non-compliant one is returned to its unit',
    description:
      'An inspector reviews the cases assigned to it (or unassigned ones); a supervisor those in its divisions. ' +
      "A non-compliant case is reopened (source `spot_check`) with the policy's rectification deadline. " +
      '409 once reviewed or after the review deadline.',
    access: ['inspector', 'supervisor'],
    body: deskReviewBodySchema,
    response: { description: 'The reviewed item', schema: deskCheckItemSchema },
    updatePrefix: 'desk-review',
    decide: reviewDeskCheckItem,
  },
};

const reInspections: SpotCheckRoutesOf<SupervisionRoutesDeps> = {
  kind: reInspectionKind,
  name: 'ReInspection',
  path: 're-inspections',
  periodDescription: 'the re-inspected quarter',
  summaries: {
    list: 'Quarterly on-site re-inspections, newest first, with their findings',
    get: "One quarter's re-inspection: its seed, rules and inspections",
  },
  summarySchema: drawSummarySchema(
    { createdAt: isoTime },
    { key: 'findings', counts: ['rectified', 'notRectified', 'falseReport', 'overdue', 'unassigned'] },
  ),
  detailSchema: reInspectionDetailSchema,
  details: async (pool, id) => ({ inspections: await getInspections(pool, id) }),
  decision: {
    operationId: 'recordInspectionFinding',
    path: 'inspections/{caseId}/finding',
    summary: "The assigned inspector's finding; not rectified or a false report reopens the case",
    description:
      'Only the assigned inspector (403 otherwise). `not_rectified` or `false_report` needs a note and the responsible person: ' +
      'the case is reopened (source `re_inspection`, escalated per policy) and an accountability record is written. ' +
      'Every result is published.',
    access: ['inspector'],
    body: findingBodySchema,
    response: { description: 'The inspection after the finding', schema: inspectionViewSchema },
    updatePrefix: 'finding',
    decide: recordInspectionFinding,
  },
};

// ---- The table ----

const divisionFilter = z
  .string()
  .regex(/^\d{2,6}$/)
  .optional()
  .describe('division code or prefix (2 to 6 digits)');
const findingSchema = z.object({
  kind: z.enum(['desk_check', 're_inspection']),
  drawId: z.string().describe("the desk check's day or the re-inspection's quarter"),
  caseId: z.string(),
  divisionCode: z.string(),
  unitId: z.string().nullable(),
  result: z.enum([...deskResults, ...inspectionFindings]),
  finding: z.string().nullable(),
  by: z.string().nullable(),
  at: isoTime.nullable(),
  caseReopened: z.boolean(),
});
const accountabilitySchema = z.object({
  id: z.number().int(),
  inspectionId: z.string(),
  reInspectionId: z.string(),
  caseId: z.string(),
  divisionCode: z.string(),
  unitId: z.string().nullable(),
  responsiblePerson: z.string(),
  finding: z.string(),
  note: z.string().nullable(),
  createdAt: isoTime,
});

export const supervisionRouteTable: Route<SupervisionRoutesDeps>[] = [
  route(
    {
      operationId: 'listSpotCheckFindings',
      method: 'get',
      path: '/v1/supervision/findings',
      tag,
      summary: 'The results of desk checks and re-inspections, with their findings, newest first',
      description: 'Every drawn case that has a result, of both kinds; a supervisor sees its divisions.',
      access: ['supervisor', 'inspector', 'analyst'],
      query: z.strictObject({
        ...pageFields,
        kind: z.enum(['desk_check', 're_inspection']).optional(),
        result: z.enum([...deskResults, ...inspectionFindings]).optional(),
        division: divisionFilter,
      }),
      response: { status: 200, description: 'One page of results', schema: pageSchema(findingSchema) },
      problems: commonProblems,
    },
    async (deps, { query: q }, req, res) => {
      const page = await listFindings(deps.pool, {
        ...pageWindow(q),
        kind: q.kind,
        result: q.result,
        divisionPrefixes: divisionScope(req.principal!, q.division),
      });
      res.json(pageAnswer(q, page.items, page.total));
    },
  ),
  route(
    {
      operationId: 'listAccountabilityRecords',
      method: 'get',
      path: '/v1/supervision/accountability',
      tag,
      summary: 'Accountability records of re-inspections, newest first',
      description:
        'One per case a re-inspection found not rectified or falsely reported: who answers for it. A supervisor sees its divisions.',
      access: ['supervisor', 'analyst'],
      query: z.strictObject({ ...pageFields, division: divisionFilter, unit: z.string().min(1).max(100).optional() }),
      response: { status: 200, description: 'One page of records', schema: pageSchema(accountabilitySchema) },
      problems: commonProblems,
    },
    async (deps, { query: q }, req, res) => {
      const page = await listAccountabilityRecords(deps.pool, {
        ...pageWindow(q),
        unitId: q.unit,
        divisionPrefixes: divisionScope(req.principal!, q.division),
      });
      res.json(pageAnswer(q, page.items, page.total));
    },
  ),
  route(
    {
      operationId: 'listPublishedReInspectionResults',
      method: 'get',
      path: '/v1/supervision/public/results',
      tag,
      summary: 'Published results of on-site re-inspections ("one public")',
      description:
        'No token. The quarter, case number, division, handling unit and finding of every inspection, ' +
        'and whether the case was reopened; no personal data.',
      access: 'public',
      query: publicQuery,
      response: { status: 200, description: 'One page of results, newest first', schema: pageSchema(publicResultSchema) },
      problems: [400, 503],
    },
    async (deps, { query: q }, _req, res) => {
      const page = await listPublishedResults(deps.pool, { ...pageWindow(q), quarter: q.quarter, divisionPrefix: q.division });
      res.json(pageAnswer(q, page.items, page.total));
    },
  ),
  ...spotCheckRoutes<SupervisionRoutesDeps>(deskChecks),
  ...spotCheckRoutes<SupervisionRoutesDeps>(reInspections),
  route(
    {
      operationId: 'backfillSupervision',
      method: 'post',
      path: '/v1/supervision/backfills',
      tag,
      summary: 'Run missed desk checks (days) or re-inspections (quarters) through their Schedule',
      description:
        'Asks the Schedule to take the runs it would have taken for the periods `from`..`to` (inclusive); ' +
        "each run checks its period from the run's scheduled time. Only periods that have ended (422 otherwise). " +
        'A period already drawn keeps its stored draw.',
      access: ['supervisor', 'admin'],
      query: noQuery,
      body: backfillBody,
      response: { status: 202, description: 'The Schedule took the backfill', schema: backfillAcceptedSchema },
      problems: [...commonProblems, 404, 415, 422],
    },
    async (deps, { body: b }, _req, res) => {
      const offset = deps.policy().calendar.utcOffsetMinutes;
      if (spotCheckKindOf[b.kind].periodOf(b.to, offset).to > Date.now()) {
        throw new HttpProblem(422, 'Unprocessable Content', `${b.to} has not ended yet: only past periods can be backfilled.`);
      }
      const scheduleId = scheduleIds(deps.schedulePrefix)[b.kind];
      const window = backfillWindow(b.kind, b.from, b.to, offset);
      try {
        await deps.temporal.call((c) => c.schedule.getHandle(scheduleId).backfill({ ...window, overlap: ScheduleOverlapPolicy.ALLOW_ALL }));
      } catch (err) {
        if (err instanceof ScheduleNotFoundError) {
          throw notFound(`The Schedule ${scheduleId} does not exist: a worker creates it at start-up.`);
        }
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
      response: {
        status: 200,
        description: 'Every inspector',
        schema: z.object({ total: z.number().int(), items: z.array(inspectorSchema) }),
      },
      problems: commonProblems,
    },
    async (deps, _input, _req, res) => {
      const items = await listInspectors(deps.pool);
      res.json({ total: items.length, items });
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
