import { Router } from 'express';
import { z } from 'zod';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import type { Pool } from 'pg';
import { activeListingYear, countBacklogByStatus, listBacklog, listingsOfCase } from '../../db/backlog';
import { divisionPrefixSchema } from '../../domain/schemas/divisions';
import { backlogStatuses } from '../../domain/governance';
import { assignLeadersBodySchema } from '../../domain/schemas/governance';
import type { Policy } from '../../domain/policy';
import { localDate } from '../../domain/supervision-periods';
import {
  BACKLOG_SWEEP_WORKFLOW,
  assignLeadersUpdate,
  backlogWorkflowId,
  manualSweepWorkflowId,
  type BacklogCaseView,
  type BacklogSweepResult,
  type BacklogSweepWorkflow,
} from '../../workflows/contracts/backlog';
import { actorOf, type PrincipalRole } from '../auth';
import { caseParams, commonProblems, isoTime, noQuery, pageAnswer, pageFields, pageSchema } from '../fields';
import { notFound } from '../problem';
import { accepted } from '../respond';
import { divisionScope, visibleCase } from '../scope';
import type { TemporalGateway } from '../temporal-gateway';
import { mountRoutes, route, type Route } from '../validate';
import { backlogSweepSummary } from '../../domain/workflow-summaries';

const leaderViewSchema = z.object({ id: z.string(), name: z.string(), organisation: z.string() });
/** A backlog case's workflow, as it answers. */
const backlogCaseViewSchema = z.object({
  caseId: z.string(),
  year: z.number().int(),
  status: z.enum(backlogStatuses),
  systemLeader: leaderViewSchema.optional(),
  territorialLeader: leaderViewSchema.optional(),
  assignedAt: isoTime.optional(),
  clearingDueAt: isoTime.optional(),
  reminded: z.boolean(),
  clearedAt: isoTime.optional(),
});
// The schema describes the view the workflow returns: this fails to compile when they drift apart.
const _viewFitsSchema = (v: BacklogCaseView): z.input<typeof backlogCaseViewSchema> => v;
void _viewFitsSchema;

/**
 * Backlog cases (积案) under `/v1/governance/backlog`: the listings of a year and their progress,
 * a case's listings, the assignment of its two leaders, and sweeps run on request (202, polled).
 */

export interface BacklogRoutesDeps {
  pool: Pool;
  policy: () => Policy;
  jwtSecret: string;
  temporal: TemporalGateway;
}

const leaderSchema = z.object({ id: z.string(), name: z.string(), organisation: z.string() });
const backlogRowSchema = z.object({
  caseId: z.string(),
  year: z.number().int(),
  reasons: z.array(z.string()),
  status: z.enum(backlogStatuses),
  divisionCode: z.string(),
  category: z.string(),
  receivedAt: isoTime,
  listedAt: isoTime,
  previousYear: z.number().int().nullable(),
  systemLeader: leaderSchema.nullable(),
  territorialLeader: leaderSchema.nullable(),
  assignedAt: isoTime.nullable(),
  clearingDueAt: isoTime.nullable(),
  remindedAt: isoTime.nullable(),
  overdueAt: isoTime.nullable(),
  clearedAt: isoTime.nullable(),
});
const sweepResultSchema = z.object({
  year: z.number().int(),
  listed: z.number().int(),
  relisted: z.number().int(),
  agedOut: z.number().int(),
  started: z.number().int(),
});
const sweepParams = z.strictObject({
  sweepId: z.string().regex(/^backlog-(scan|yearly)-manual-\d{4}-\d{2}-\d{2}$/, 'a sweep id like backlog-scan-manual-2026-01-31'),
});
const division = divisionPrefixSchema;
const year = z.coerce.number().int().min(2000).max(2100);

const backlogReaders: readonly PrincipalRole[] = ['clerk', 'supervisor', 'analyst'];
const sweepers: readonly PrincipalRole[] = ['supervisor', 'ops'];

type SweepStatus = { status: 'running' } | { status: 'completed'; result: BacklogSweepResult } | { status: 'failed' };

/** Where a sweep started on request stands; 404 when there is no such sweep. */
async function sweepStatus(temporal: TemporalGateway, sweepId: string): Promise<SweepStatus> {
  const run = await temporal.outcome<BacklogSweepResult>(sweepId, `backlog sweep ${sweepId}`);
  if (run.status === 'running') return { status: 'running' };
  if (run.status !== 'completed') return { status: 'failed' };
  return { status: 'completed', result: run.result! };
}

export const backlogRouteTable: Route<BacklogRoutesDeps>[] = [
  route(
    {
      operationId: 'listBacklog',
      method: 'get',
      path: '/v1/governance/backlog',
      tag: 'backlog',
      summary: 'Backlog cases of a year',
      access: backlogReaders,
      query: z.strictObject({
        year: year.optional(),
        status: z.enum(backlogStatuses).optional(),
        division: division.optional(),
        ...pageFields,
      }),
      response: {
        status: 200,
        description: 'One page of listings',
        schema: pageSchema(backlogRowSchema),
      },
      problems: commonProblems,
    },
    async (deps, { query }, req, res) => {
      const page = await listBacklog(deps.pool, {
        year: query.year,
        status: query.status,
        divisionPrefixes: divisionScope(req.principal!, query.division),
        limit: query.pageSize,
        offset: (query.page - 1) * query.pageSize,
      });
      res.json(pageAnswer(query, page.items, page.total));
    },
  ),
  route(
    {
      operationId: 'backlogProgress',
      method: 'get',
      path: '/v1/governance/backlog/progress',
      tag: 'backlog',
      summary: 'Progress of clearing a year’s backlog',
      access: backlogReaders,
      query: z.strictObject({ year, division: division.optional() }),
      response: {
        status: 200,
        description: 'Counts by status',
        schema: z.object({
          year: z.number().int(),
          listed: z.number().int(),
          byStatus: z.record(z.string(), z.number().int()),
          cleared: z.number().int(),
          clearedShare: z.number().nullable(),
        }),
      },
      problems: commonProblems,
    },
    async (deps, { query }, req, res) => {
      const byStatus = await countBacklogByStatus(deps.pool, query.year, divisionScope(req.principal!, query.division) ?? ['']);
      const listed = Object.values(byStatus).reduce((a, b) => a + b, 0);
      const cleared = byStatus.cleared;
      res.json({
        year: query.year,
        listed,
        byStatus,
        cleared,
        clearedShare: listed ? Math.round((cleared / listed) * 10_000) / 10_000 : null,
      });
    },
  ),
  route(
    {
      operationId: 'runBacklogSweep',
      method: 'post',
      path: '/v1/governance/backlog/sweeps',
      tag: 'backlog',
      summary: 'Run the backlog scan or the yearly sort now',
      description:
        'What the Schedules run (daily scan, yearly sort); for a missed run or a backfill. Starts the sweep and answers at once: ' +
        'poll `Location` for its result. One sweep of each kind per day: a repeated request points to the sweep already started.',
      access: sweepers,
      body: z.strictObject({ kind: z.enum(['scan', 'yearly']) }),
      response: {
        status: 202,
        description: 'Started (or already started earlier today); `Location` reports its status and result',
        schema: z.object({ sweepId: z.string(), kind: z.enum(['scan', 'yearly']), links: z.object({ status: z.string() }) }),
      },
      problems: [...commonProblems, 415],
    },
    async (deps, { body }, _req, res) => {
      const policy = deps.policy();
      const sweepId = manualSweepWorkflowId(body.kind, localDate(Date.now(), policy.calendar.utcOffsetMinutes));
      try {
        await deps.temporal.start<BacklogSweepWorkflow>(BACKLOG_SWEEP_WORKFLOW, {
          workflowId: sweepId,
          // One sweep of a kind a day; one that failed may be run again.
          workflowIdReusePolicy: 'ALLOW_DUPLICATE_FAILED_ONLY',
          staticSummary: backlogSweepSummary(body.kind, localDate(Date.now(), policy.calendar.utcOffsetMinutes)),
          args: [{ kind: body.kind, settings: { backlog: policy.governance.backlog, calendar: policy.calendar } }],
        });
      } catch (err) {
        if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
      }
      accepted(res, `/v1/governance/backlog/sweeps/${sweepId}`, { sweepId, kind: body.kind });
    },
  ),
  route(
    {
      operationId: 'getBacklogSweep',
      method: 'get',
      path: '/v1/governance/backlog/sweeps/{sweepId}',
      tag: 'backlog',
      summary: 'A sweep run on request: its status, and once completed what it listed',
      access: sweepers,
      params: sweepParams,
      query: noQuery,
      response: {
        status: 200,
        description: 'The sweep',
        schema: z.object({ sweepId: z.string(), status: z.enum(['running', 'completed', 'failed']), result: sweepResultSchema.optional() }),
      },
      problems: [...commonProblems, 404],
    },
    async (deps, { params }, _req, res) => {
      res.json({ sweepId: params.sweepId, ...(await sweepStatus(deps.temporal, params.sweepId)) });
    },
  ),
  route(
    {
      operationId: 'getBacklogCase',
      method: 'get',
      path: '/v1/governance/backlog/{caseId}',
      tag: 'backlog',
      summary: 'The backlog listings of a case, newest first',
      access: backlogReaders,
      params: caseParams,
      query: noQuery,
      response: { status: 200, description: 'Its listings', schema: z.object({ caseId: z.string(), listings: z.array(backlogRowSchema) }) },
      problems: [...commonProblems, 404],
    },
    async (deps, { params }, req, res) => {
      await visibleCase(deps.pool, req, params.caseId);
      const listings = await listingsOfCase(deps.pool, params.caseId);
      if (!listings.length) throw notFound(`Case ${params.caseId} is not backlog.`);
      res.json({ caseId: params.caseId, listings });
    },
  ),
  route(
    {
      operationId: 'assignBacklogLeaders',
      method: 'post',
      path: '/v1/governance/backlog/{caseId}/leaders',
      tag: 'backlog',
      summary: 'Assign the two leaders of a backlog case and its clearing deadline',
      description:
        "One leader from the environment system, one from the local government (双包案). The clearing deadline defaults to the policy's from now; the leaders are reminded before it.",
      access: ['supervisor'],
      params: caseParams,
      query: noQuery,
      body: assignLeadersBodySchema,
      response: {
        status: 200,
        description: 'The listing after the assignment',
        schema: backlogCaseViewSchema,
      },
      problems: [...commonProblems, 404, 409, 415],
    },
    async (deps, { params, body }, req, res) => {
      await visibleCase(deps.pool, req, params.caseId);
      const listedIn = await activeListingYear(deps.pool, params.caseId);
      if (listedIn === undefined) throw notFound(`Case ${params.caseId} has no active backlog listing.`);
      const view = await deps.temporal.update(
        backlogWorkflowId(params.caseId, listedIn),
        assignLeadersUpdate,
        [{ ...body, actor: actorOf(req.principal!) }],
        `backlog workflow for case ${params.caseId}`,
      );
      res.json(view);
    },
  ),
];

export function backlogRoutes(deps: BacklogRoutesDeps): Router {
  const router = Router();
  mountRoutes(router, backlogRouteTable, deps, { jwtSecret: deps.jwtSecret });
  return router;
}
