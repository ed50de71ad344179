import { randomBytes } from 'node:crypto';
import { Router, type Request } from 'express';
import { z } from 'zod';
import { text } from '../../domain/schemas/case';
import type { Pool } from 'pg';
import { countCampaignCases, getCampaign, listCampaignMembers, listCampaigns, type CampaignRow } from '../../db/campaigns';
import { divisionPrefixSchema } from '../../domain/schemas/divisions';
import { campaignLimitBreach } from '../../domain/governance';
import { campaignCriteriaSchema, tightenBodySchema } from '../../domain/schemas/governance';
import type { Policy } from '../../domain/policy';
import {
  CAMPAIGN_WORKFLOW,
  campaignProgressQuery,
  campaignWorkflowId,
  pauseCampaignSignal,
  resumeCampaignSignal,
  tightenCampaignUpdate,
  type CampaignProgress,
  type CampaignWorkflow,
} from '../../workflows/contracts/campaign';
import { actorOf, coversDivision, type Principal, type PrincipalRole } from '../auth';
import { commonProblems, instantField, isoTime, noQuery, pageAnswer, pageFields, pageSchema, pageWindow } from '../fields';
import { HttpProblem, conflict, forbidden, notFound } from '../problem';
import type { TemporalGateway } from '../temporal-gateway';
import { mountRoutes, route, type Route } from '../validate';
import { campaignSummary } from '../../domain/workflow-summaries';

/**
 * Campaigns against a recurring problem (集中治理) under `/v1/governance/campaigns`: started by a
 * supervisor of every division they cover, read by supervisors and analysts, paused, resumed and
 * tightened while they run, and compared before/after once they end.
 */

export interface CampaignRoutesDeps {
  pool: Pool;
  policy: () => Policy;
  jwtSecret: string;
  temporal: TemporalGateway;
}

const campaignParams = z.strictObject({ campaignId: z.string().regex(/^CP-[0-9a-f]{12}$/, 'a campaign id like CP-0123456789ab') });

const campaignStartSchema = z
  .strictObject({
    name: text(200),
    criteria: campaignCriteriaSchema.extend({ divisions: z.array(divisionPrefixSchema).min(1).max(200) }).strict(),
    period: z.strictObject({ from: instantField, to: instantField }),
    tighten: z
      .strictObject({ factor: z.number().gt(0).max(1).optional(), dueBy: isoTime.optional(), reason: text(2000) })
      .refine((t) => (t.factor === undefined) !== (t.dueBy === undefined), { message: 'give either factor or dueBy' })
      .optional(),
  })
  .refine((b) => Date.parse(b.period.from) < Date.parse(b.period.to), { path: ['period', 'to'], message: "must be after 'from'" });
const campaignMemberSchema = z.object({
  caseId: z.string(),
  matchedAs: z.enum(['open', 'new']).describe('open when the campaign started, or received since'),
  taggedAt: isoTime,
  tightenedAt: isoTime.nullable(),
  status: z.string().nullable(),
  title: z.string().nullable(),
  divisionCode: z.string().nullable(),
  unitId: z.string().nullable(),
  deadlineAt: isoTime.nullable(),
});
const campaignResultSchema = z.object({
  campaignId: z.string(),
  before: z.object({ from: isoTime, to: isoTime, count: z.number().int() }),
  during: z.object({ from: isoTime, to: isoTime, count: z.number().int() }),
  change: z.number().nullable(),
  tagged: z.number().int(),
  tightened: z.number().int(),
});

/** A campaign in the list: its definition and counts (its result: GET .../result). */
const campaignListItemSchema = z.object({
  campaignId: z.string(),
  name: z.string(),
  status: z.enum(['running', 'paused', 'finished']),
  criteria: campaignCriteriaSchema,
  period: z.object({ from: isoTime.nullable(), to: isoTime.nullable() }),
  tagged: z.number().int(),
  tightened: z.number().int(),
  startedAt: isoTime.nullable(),
  finishedAt: isoTime.nullable(),
});
// The list's items are the rows without their result: this fails to compile when they drift apart.
const _rowFitsSchema = (r: Omit<CampaignRow, 'result'>): z.input<typeof campaignListItemSchema> => r;
void _rowFitsSchema;

/** The campaign's workflow, as it answers (`campaignProgressQuery`, `tightenCampaignUpdate`). */
const campaignWorkflowViewSchema = z.object({
  campaignId: z.string(),
  name: z.string(),
  status: z.enum(['running', 'paused', 'finished']),
  criteria: campaignCriteriaSchema,
  period: z.object({ from: isoTime, to: isoTime }),
  tagged: z.number().int(),
  tightened: z.number().int(),
  tightening: z.object({ key: z.string(), factor: z.number().optional(), dueBy: isoTime.optional(), reason: z.string() }).optional(),
  scans: z.number().int(),
  lastScanAt: isoTime.optional(),
  nextScanAt: isoTime.optional(),
  lastControl: z.object({ action: z.enum(['paused', 'resumed']), by: z.string(), at: isoTime, reason: z.string().optional() }).optional(),
  runs: z.number().int().describe('how many workflow runs the campaign has spanned (continue-as-new)'),
  scanning: z.boolean().describe('a scan is under way (a pause takes effect after it)'),
  result: campaignResultSchema.optional(),
});
// The schema describes the view the workflow returns: this fails to compile when they drift apart.
const _progressFitsSchema = (v: CampaignProgress): z.input<typeof campaignWorkflowViewSchema> => v;
void _progressFitsSchema;
/** The progress, with the tagged cases counted from the read model. */
const campaignProgressSchema = campaignWorkflowViewSchema.extend({
  cases: z.object({ open: z.number().int(), new: z.number().int(), closed: z.number().int() }),
});

const campaignReaders: readonly PrincipalRole[] = ['supervisor', 'analyst'];

/** A supervisor controls (and sees) the campaigns whose every division it covers. */
function controls(p: Principal, campaign: Pick<CampaignRow, 'criteria'>): boolean {
  return p.role !== 'supervisor' || campaign.criteria.divisions.every((d) => coversDivision(p, d));
}

/** The campaign as the principal may see it; 404 otherwise. */
async function visibleCampaign(deps: CampaignRoutesDeps, req: Request, campaignId: string): Promise<CampaignRow> {
  const campaign = await getCampaign(deps.pool, campaignId);
  if (!campaign || !controls(req.principal!, campaign)) throw notFound(`No campaign ${campaignId}.`);
  return campaign;
}

export const campaignRouteTable: Route<CampaignRoutesDeps>[] = [
  route(
    {
      operationId: 'startCampaign',
      method: 'post',
      path: '/v1/governance/campaigns',
      tag: 'campaigns',
      summary: 'Start a campaign against a recurring problem',
      description:
        "Tags the open cases matching the criteria, and new ones as they arrive, until the period ends; optionally tightens their deadlines (a factor within the policy's limits, or a date). Ends with a before/after comparison of complaint volume.",
      access: ['supervisor'],
      body: campaignStartSchema,
      response: { status: 201, description: 'Started', schema: z.object({ campaignId: z.string(), workflowId: z.string() }) },
      problems: [...commonProblems, 415, 422],
    },
    async (deps, { body }, req, res) => {
      const p = req.principal!;
      if (!controls(p, body)) throw forbidden('A supervisor runs campaigns in the divisions it covers only.');
      const policy = deps.policy();
      const campaigns = policy.governance.campaigns;
      const period = { from: Date.parse(body.period.from), to: Date.parse(body.period.to) };
      const dueBy = body.tighten?.dueBy === undefined ? undefined : Date.parse(body.tighten.dueBy);
      const breach = campaignLimitBreach(campaigns, { period, factor: body.tighten?.factor, dueBy }, Date.now());
      if (breach) throw new HttpProblem(422, 'Unprocessable Content', breach);
      const campaignId = `CP-${randomBytes(6).toString('hex')}`;
      const workflowId = campaignWorkflowId(campaignId);
      await deps.temporal.start<CampaignWorkflow>(CAMPAIGN_WORKFLOW, {
        workflowId,
        staticSummary: campaignSummary({ campaignId, name: body.name, categories: body.criteria.categories }),
        args: [
          {
            campaignId,
            definition: { name: body.name, criteria: body.criteria, period },
            policy: campaigns,
            calendar: policy.calendar,
            startedBy: actorOf(p),
            ...(body.tighten && { tighten: body.tighten }),
          },
        ],
      });
      res.status(201).location(`/v1/governance/campaigns/${campaignId}`).json({ campaignId, workflowId });
    },
  ),
  route(
    {
      operationId: 'listCampaigns',
      method: 'get',
      path: '/v1/governance/campaigns',
      tag: 'campaigns',
      summary: 'Campaigns, newest first',
      access: campaignReaders,
      query: z.strictObject({ ...pageFields }),
      response: {
        status: 200,
        description: 'One page of campaigns',
        schema: pageSchema(campaignListItemSchema),
      },
      problems: commonProblems,
    },
    async (deps, { query }, req, res) => {
      const visible = (await listCampaigns(deps.pool)).filter((c) => controls(req.principal!, c));
      const items = visible.slice((query.page - 1) * query.pageSize, query.page * query.pageSize).map(({ result: _result, ...c }) => c);
      res.json(pageAnswer(query, items, visible.length));
    },
  ),
  route(
    {
      operationId: 'campaignProgress',
      method: 'get',
      path: '/v1/governance/campaigns/{campaignId}',
      tag: 'campaigns',
      summary: 'A campaign’s progress',
      description: 'Its state (running, paused, finished), what it tagged and tightened, and how many of its cases are closed.',
      access: campaignReaders,
      params: campaignParams,
      query: noQuery,
      response: { status: 200, description: 'Progress', schema: campaignProgressSchema },
      problems: [...commonProblems, 404],
    },
    async (deps, { params }, req, res) => {
      await visibleCampaign(deps, req, params.campaignId);
      const workflowId = campaignWorkflowId(params.campaignId);
      const progress = await deps.temporal.query(workflowId, campaignProgressQuery, `campaign ${params.campaignId}`);
      res.json({ ...progress, cases: await countCampaignCases(deps.pool, params.campaignId) });
    },
  ),
  route(
    {
      operationId: 'listCampaignMembers',
      method: 'get',
      path: '/v1/governance/campaigns/{campaignId}/cases',
      tag: 'campaigns',
      summary: 'The cases a campaign tagged',
      description:
        'In the order the campaign tagged them: whether each was open at the start or came in since, when its deadline was tightened, and where it stands now. A supervisor sees those in its divisions.',
      access: campaignReaders,
      params: campaignParams,
      query: z.strictObject({ ...pageFields }),
      response: { status: 200, description: 'One page of the tagged cases', schema: pageSchema(campaignMemberSchema) },
      problems: [...commonProblems, 404],
    },
    async (deps, { params, query }, req, res) => {
      await visibleCampaign(deps, req, params.campaignId);
      const p = req.principal!;
      const page = await listCampaignMembers(deps.pool, params.campaignId, {
        ...pageWindow(query),
        ...(p.role === 'supervisor' && { divisionPrefixes: p.divisions ?? [] }),
      });
      res.json(pageAnswer(query, page.items, page.total));
    },
  ),
  ...(['pause', 'resume'] as const).map((action) =>
    route(
      {
        operationId: `${action}Campaign`,
        method: 'post',
        path: `/v1/governance/campaigns/{campaignId}/${action}`,
        tag: 'campaigns',
        summary:
          action === 'pause' ? 'Pause a campaign (it stops tagging and tightening)' : 'Resume a paused campaign (it catches up at once)',
        access: ['supervisor'],
        params: campaignParams,
        query: noQuery,
        body: z.strictObject({ reason: text(2000).optional() }),
        response: { status: 202, description: 'Sent to the campaign', schema: z.object({ campaignId: z.string(), requested: z.string() }) },
        problems: [...commonProblems, 404, 415],
      },
      async (deps: CampaignRoutesDeps, { params, body }, req, res) => {
        await visibleCampaign(deps, req, params.campaignId);
        const workflowId = campaignWorkflowId(params.campaignId);
        const actor = actorOf(req.principal!);
        const what = `running campaign ${params.campaignId}`;
        if (action === 'pause') {
          await deps.temporal.signal(workflowId, pauseCampaignSignal, [{ actor, ...(body.reason && { reason: body.reason }) }], what);
        } else {
          await deps.temporal.signal(workflowId, resumeCampaignSignal, [{ actor }], what);
        }
        res.status(202).json({ campaignId: params.campaignId, requested: action });
      },
    ),
  ),
  route(
    {
      operationId: 'tightenCampaign',
      method: 'post',
      path: '/v1/governance/campaigns/{campaignId}/tighten',
      tag: 'campaigns',
      summary: "Tighten the deadlines of the campaign's cases",
      description: "A factor within the policy's limits, or a date; applied to every tagged case being handled, now and as they come.",
      access: ['supervisor'],
      params: campaignParams,
      query: noQuery,
      body: tightenBodySchema,
      response: { status: 200, description: 'Progress after the change', schema: campaignWorkflowViewSchema },
      problems: [...commonProblems, 404, 409, 415],
    },
    async (deps, { params, body }, req, res) => {
      await visibleCampaign(deps, req, params.campaignId);
      const progress = await deps.temporal.update(
        campaignWorkflowId(params.campaignId),
        tightenCampaignUpdate,
        [{ ...body, actor: actorOf(req.principal!) }],
        `running campaign ${params.campaignId}`,
      );
      res.json(progress);
    },
  ),
  route(
    {
      operationId: 'campaignResult',
      method: 'get',
      path: '/v1/governance/campaigns/{campaignId}/result',
      tag: 'campaigns',
      summary: 'The before/after comparison of a finished campaign',
      access: campaignReaders,
      params: campaignParams,
      query: noQuery,
      response: { status: 200, description: 'Complaint volume before and during the campaign', schema: campaignResultSchema },
      problems: [...commonProblems, 404, 409],
    },
    async (deps, { params }, req, res) => {
      const campaign = await visibleCampaign(deps, req, params.campaignId);
      if (!campaign.result) {
        throw conflict(`Campaign ${params.campaignId} is '${campaign.status}'; its result comes when it ends.`, {
          currentState: campaign.status,
        });
      }
      res.json(campaign.result);
    },
  ),
];

export function campaignRoutes(deps: CampaignRoutesDeps): Router {
  const router = Router();
  mountRoutes(router, campaignRouteTable, deps, { jwtSecret: deps.jwtSecret });
  return router;
}
