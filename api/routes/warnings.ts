import { createHash } from 'node:crypto';
import { Router } from 'express';
import { z } from 'zod';
import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import type { Pool } from 'pg';
import { getWarning, linkWarningCampaign, listWarnings, type WarningView } from '../../db/warnings';
import { durationMs } from '../../domain/calendar';
import { categories, type Policy } from '../../domain/policy';
import { warningKinds } from '../../domain/warning-window';
import { campaignWorkflow, campaignWorkflowId } from '../../workflows/campaign';
import { actorOf, authenticate, coversDivision, requireRole, type Principal, type PrincipalRole } from '../auth';
import { HttpProblem, forbidden, notFound } from '../problem';
import { csvOf, validate } from '../validate';

/**
 * `/v1/warnings`: early warnings raised by the watchers (workflows/warning-watcher.ts), newest
 * first, and starting a campaign (workflows/campaign.ts) against the problem a warning names.
 * A supervisor sees the warnings of the divisions it covers.
 */

export interface WarningRoutesDeps {
  client: Client;
  pool: Pool;
  policy: () => Policy;
  taskQueue: string;
  jwtSecret: string;
}

const readers: readonly PrincipalRole[] = ['clerk', 'supervisor', 'inspector', 'analyst'];

const listQuery = z.strictObject({
  kind: z.enum(warningKinds).optional(),
  category: csvOf(categories).optional(),
  division: z.string().regex(/^\d{2,6}$/).optional(),
  from: z.iso.datetime({ offset: true }).optional(),
  to: z.iso.datetime({ offset: true }).optional(),
  page: z.coerce.number().int().min(1).max(100_000).default(1),
  pageSize: z.coerce.number().int().min(1).max(200).default(50),
});
const warningParams = z.strictObject({ warningId: z.string().regex(/^W-[MR]-[A-Za-z0-9-]{1,100}$/, 'a warning id like W-M-EC-2026-0000001') });
const campaignBody = z.strictObject({
  name: z.string().trim().min(1).max(200).optional(),
  /** When the campaign ends. */
  to: z.iso.datetime({ offset: true }),
  /** Words a case's title or description must contain to be tagged (none: every case of the category in the divisions). */
  keywords: z.array(z.string().trim().min(1).max(100)).max(50).default([]),
});

/** The divisions a principal may filter on: a supervisor only its own. */
function divisionScope(p: Principal, requested: string | undefined): string[] | undefined {
  if (p.role !== 'supervisor') return requested ? [requested] : undefined;
  const covered = p.divisions ?? [];
  if (!requested) return covered;
  const scope = covered.flatMap((d) => (requested.startsWith(d) ? [requested] : d.startsWith(requested) ? [d] : []));
  if (!scope.length) throw forbidden('A supervisor sees the divisions it covers only.');
  return scope;
}

function visible(p: Principal, w: WarningView): boolean {
  return p.role !== 'supervisor' || w.divisionCodes.some((d) => coversDivision(p, d));
}

/** One campaign per warning: its id is derived from the warning's, so a repeated request starts nothing new. */
export function campaignIdFor(warningId: string): string {
  return `CP-${createHash('sha256').update(`warning:${warningId}`).digest('hex').slice(0, 12)}`;
}

export function warningRoutes(deps: WarningRoutesDeps): Router {
  const router = Router();
  router.use(authenticate(deps.jwtSecret));

  router.get('/', requireRole(...readers), validate({ query: listQuery }), async (req, res) => {
    const q = res.locals.query as z.infer<typeof listQuery>;
    const page = await listWarnings(deps.pool, {
      kind: q.kind,
      category: q.category,
      divisionPrefixes: divisionScope(req.principal!, q.division),
      raisedFrom: q.from,
      raisedTo: q.to,
      limit: q.pageSize,
      offset: (q.page - 1) * q.pageSize,
    });
    res.json({ page: q.page, pageSize: q.pageSize, total: page.total, items: page.items });
  });

  router.get('/:warningId', requireRole(...readers), validate({ params: warningParams }), async (req, res) => {
    const { warningId } = res.locals.params as z.infer<typeof warningParams>;
    const w = await getWarning(deps.pool, warningId);
    if (!w || !visible(req.principal!, w)) throw notFound(`No warning ${warningId}.`);
    res.json(w);
  });

  router.post('/:warningId/campaign', requireRole('supervisor'), validate({ params: warningParams, body: campaignBody }), async (req, res) => {
    const { warningId } = res.locals.params as z.infer<typeof warningParams>;
    const body = res.locals.body as z.infer<typeof campaignBody>;
    const p = req.principal!;
    const w = await getWarning(deps.pool, warningId);
    if (!w || !visible(p, w)) throw notFound(`No warning ${warningId}.`);
    if (p.role === 'supervisor' && !w.divisionCodes.every((d) => coversDivision(p, d))) {
      throw forbidden('A supervisor runs campaigns in the divisions it covers only.');
    }
    const campaignId = campaignIdFor(warningId);
    const workflowId = campaignWorkflowId(campaignId);
    if (w.campaignId) {
      res.status(200).location(`/v1/governance/campaigns/${w.campaignId}`).json({ campaignId: w.campaignId, workflowId: campaignWorkflowId(w.campaignId), created: false });
      return;
    }
    const policy = deps.policy();
    const campaigns = policy.governance.campaigns;
    const from = Date.now();
    const to = Date.parse(body.to);
    const refuse = (detail: string) => new HttpProblem(422, 'Unprocessable Content', detail);
    if (to <= from) throw refuse('The campaign must end in the future.');
    if (to - from > durationMs(campaigns.maxPeriod)) throw refuse(`A campaign may last at most ${campaigns.maxPeriod.amount} ${campaigns.maxPeriod.unit} (policy).`);
    let created = true;
    try {
      await deps.client.workflow.start(campaignWorkflow, {
        taskQueue: deps.taskQueue,
        workflowId,
        args: [
          {
            campaignId,
            definition: {
              name: body.name ?? `${w.category.replace(/_/g, ' ')} at ${w.area.label} (warning ${warningId})`,
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
  });

  return router;
}
