import { createHash } from 'node:crypto';
import { Router } from 'express';
import { z } from 'zod';
import { text } from '../../domain/schemas/case';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import type { Pool } from 'pg';
import { getWarning, linkWarningCampaign, listWarnings, type WarningView } from '../../db/warnings';
import { campaignLimitBreach } from '../../domain/governance';
import { categories, type Policy } from '../../domain/policy';
import { warningKinds } from '../../domain/warning-window';
import { CAMPAIGN_WORKFLOW, campaignWorkflowId, type CampaignWorkflow } from '../../workflows/contracts/campaign';
import { actorOf, coversDivision, type Principal, type PrincipalRole } from '../auth';
import { commonProblems, instantField, isoTime, pageAnswer, pageFields, pageSchema, pageWindow } from '../fields';
import { HttpProblem, forbidden, notFound } from '../problem';
import { divisionScope } from '../scope';
import type { TemporalGateway } from '../temporal-gateway';
import { csvOf, mountRoutes, route, type Route } from '../validate';
import { campaignSummary } from '../../domain/workflow-summaries';

/**
 * `/v1/warnings`: early warnings raised by the watchers (workflows/warning-watcher.ts), newest
 * first, and starting a campaign (workflows/campaign.ts) against the problem a warning names.
 * A supervisor sees the warnings of the divisions it covers. One table, mounted by the router and
 * described in the OpenAPI document.
 */

export interface WarningRoutesDeps {
  pool: Pool;
  policy: () => Policy;
  temporal: TemporalGateway;
  jwtSecret: string;
}

const readers: readonly PrincipalRole[] = ['clerk', 'supervisor', 'inspector', 'analyst'];
const TAG = 'warnings';

// ---- Inputs ----

const listQuery = z.strictObject({
  kind: z.enum(warningKinds).optional(),
  category: csvOf(categories).optional(),
  division: z
    .string()
    .regex(/^\d{2,6}$/)
    .optional(),
  from: instantField.optional(),
  to: instantField.optional(),
  ...pageFields,
});
const warningParams = z.strictObject({
  warningId: z.string().regex(/^W-[MR]-[A-Za-z0-9-]{1,100}$/, 'a warning id like W-M-EC-2026-0000001'),
});
const campaignBody = z.strictObject({
  name: text(200).optional(),
  /** When the campaign ends. */
  to: isoTime,
  /** Words a case's title or description must contain to be tagged (none: every case of the category in the divisions). */
  keywords: z.array(text(100)).max(50).default([]),
});

// ---- Answers (for the OpenAPI document) ----

const warningSchema = z.object({
  warningId: z.string(),
  kind: z.enum(warningKinds),
  category: z.string(),
  area: z.object({
    kind: z.enum(['cell', 'site']),
    key: z.string(),
    label: z.string(),
    lat: z.number().nullable(),
    lon: z.number().nullable(),
  }),
  divisionCodes: z.array(z.string()),
  threshold: z.number().int(),
  rule: z.unknown(),
  peak: z.number().int(),
  caseIds: z.array(z.string()),
  caseCount: z.number().int(),
  firstCaseAt: isoTime,
  lastCaseAt: isoTime,
  raisedAt: isoTime,
  updatedAt: isoTime,
  campaignId: z.string().nullable(),
});
const campaignStartedSchema = z.object({ campaignId: z.string(), workflowId: z.string(), created: z.boolean() });

function visible(p: Principal, w: WarningView): boolean {
  return p.role !== 'supervisor' || w.divisionCodes.some((d) => coversDivision(p, d));
}

/** One campaign per warning: its id is derived from the warning's, so a repeated request starts nothing new. */
export function campaignIdFor(warningId: string): string {
  return `CP-${createHash('sha256').update(`warning:${warningId}`).digest('hex').slice(0, 12)}`;
}

// ---- The table ----

export const warningRouteTable: Route<WarningRoutesDeps>[] = [
  route(
    {
      operationId: 'listWarnings',
      method: 'get',
      path: '/v1/warnings',
      summary: 'Early warnings, newest first',
      tag: TAG,
      access: readers,
      query: listQuery,
      response: {
        status: 200,
        description: 'A page of warnings',
        schema: pageSchema(warningSchema),
      },
      problems: commonProblems,
    },
    async (deps, { query: q }, req, res) => {
      const page = await listWarnings(deps.pool, {
        kind: q.kind,
        category: q.category,
        divisionPrefixes: divisionScope(req.principal!, q.division),
        raisedFrom: q.from,
        raisedTo: q.to,
        ...pageWindow(q),
      });
      res.json(pageAnswer(q, page.items, page.total));
    },
  ),
  route(
    {
      operationId: 'getWarning',
      method: 'get',
      path: '/v1/warnings/{warningId}',
      summary: 'One early warning',
      tag: TAG,
      access: readers,
      params: warningParams,
      response: { status: 200, description: 'The warning', schema: warningSchema },
      problems: [...commonProblems, 404],
    },
    async (deps, { params: { warningId } }, req, res) => {
      const w = await getWarning(deps.pool, warningId);
      if (!w || !visible(req.principal!, w)) throw notFound(`No warning ${warningId}.`);
      res.json(w);
    },
  ),
  route(
    {
      operationId: 'startWarningCampaign',
      method: 'post',
      path: '/v1/warnings/{warningId}/campaign',
      summary: 'Start a campaign against the problem a warning names (one per warning)',
      tag: TAG,
      access: ['supervisor'],
      params: warningParams,
      body: campaignBody,
      response: {
        status: 201,
        description: 'The campaign started',
        schema: campaignStartedSchema,
        otherStatuses: { 200: 'The campaign the warning already has' },
      },
      problems: [...commonProblems, 404, 415, 422],
    },
    async (deps, { params: { warningId }, body }, req, res) => {
      const p = req.principal!;
      const w = await getWarning(deps.pool, warningId);
      if (!w || !visible(p, w)) throw notFound(`No warning ${warningId}.`);
      if (p.role === 'supervisor' && !w.divisionCodes.every((d) => coversDivision(p, d))) {
        throw forbidden('A supervisor runs campaigns in the divisions it covers only.');
      }
      const campaignId = campaignIdFor(warningId);
      const workflowId = campaignWorkflowId(campaignId);
      if (w.campaignId) {
        res
          .status(200)
          .location(`/v1/governance/campaigns/${w.campaignId}`)
          .json({ campaignId: w.campaignId, workflowId: campaignWorkflowId(w.campaignId), created: false });
        return;
      }
      const policy = deps.policy();
      const campaigns = policy.governance.campaigns;
      const from = Date.now();
      const to = Date.parse(body.to);
      const breach = campaignLimitBreach(campaigns, { period: { from, to } }, from);
      if (breach) throw new HttpProblem(422, 'Unprocessable Content', breach);
      let created = true;
      const name = body.name ?? `${w.category.replace(/_/g, ' ')} at ${w.area.label} (warning ${warningId})`;
      try {
        await deps.temporal.start<CampaignWorkflow>(CAMPAIGN_WORKFLOW, {
          workflowId,
          staticSummary: campaignSummary({ campaignId, name, categories: [w.category] }),
          args: [
            {
              campaignId,
              definition: {
                name,
                criteria: { categories: [w.category as (typeof categories)[number]], divisions: w.divisionCodes, keywords: body.keywords },
                period: { from, to },
              },
              policy: campaigns,
              calendar: policy.calendar,
              startedBy: actorOf(p),
            },
          ],
        });
      } catch (err) {
        if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
        created = false;
      }
      const linked = await linkWarningCampaign(deps.pool, warningId, campaignId);
      res
        .status(created ? 201 : 200)
        .location(`/v1/governance/campaigns/${linked}`)
        .json({ campaignId: linked, workflowId: campaignWorkflowId(linked!), created });
    },
  ),
];

export function warningRoutes(deps: WarningRoutesDeps): Router {
  const router = Router();
  mountRoutes(router, warningRouteTable, deps, { jwtSecret: deps.jwtSecret });
  return router;
}
