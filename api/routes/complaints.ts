import { Router, type Request } from 'express';
import { z } from 'zod';
import type { Client } from '@temporalio/client';
import type { UpdateDefinition } from '@temporalio/common';
import type { Pool } from 'pg';
import * as c from '../../domain/case';
import { categories } from '../../domain/policy';
import type { Policy } from '../../domain/policy';
import { getCase, getReporter, getTimeline, listCases } from '../../db/cases';
import * as wf from '../../workflows/complaint';
import { actorOf, canSeeCase, canSeeReporter, requireRole, type Principal } from '../auth';
import { forbidden, notFound } from '../problem';
import { registerComplaint } from '../registration';
import { validate } from '../validate';

export interface ComplaintRoutesDeps {
  client: Client;
  pool: Pool;
  policy: () => Policy;
  taskQueue: string;
}

export const caseIdParams = z.object({ caseId: z.string().regex(/^EC-\d{4}-\d{7}$/, 'a case number like EC-2026-0000001') });
const idempotencyKey = z.string().min(8).max(200).regex(/^[\x21-\x7e]+$/, 'printable ASCII without spaces');

const csv = <const V extends readonly [string, ...string[]]>(values: V) =>
  z
    .string()
    .max(500)
    .transform((v) => v.split(',').filter(Boolean))
    .pipe(z.array(z.enum(values)).max(20));

export const listQuery = z.object({
  status: csv(c.caseStatuses).optional(),
  category: csv(categories).optional(),
  division: z.string().regex(/^\d{2,6}$/).optional(),
  unit: z.string().min(1).max(100).optional(),
  overdue: z.enum(['true', 'false']).transform((v) => v === 'true').optional(),
  from: z.iso.datetime({ offset: true }).optional(),
  to: z.iso.datetime({ offset: true }).optional(),
  q: z.string().trim().min(1).max(200).optional(),
  page: z.coerce.number().int().min(1).max(100_000).default(1),
  pageSize: z.coerce.number().int().min(1).max(200).default(50),
});

/** One decision endpoint: its path, who may take it, its body (without actor), and its update. */
interface Decision {
  path: string;
  roles: Principal['role'][];
  body: z.ZodObject;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  update: UpdateDefinition<c.CaseView, [any]>;
}

const withoutActor = <S extends z.ZodObject>(s: S) => s.omit({ actor: true } as never) as unknown as z.ZodObject;

export const decisions: Decision[] = [
  { path: 'supplement', roles: ['clerk'], body: withoutActor(c.supplementSchema), update: wf.supplementUpdate },
  { path: 'accept', roles: ['clerk'], body: withoutActor(c.acceptSchema), update: wf.acceptUpdate },
  { path: 'forward', roles: ['clerk'], body: withoutActor(c.forwardSchema), update: wf.forwardUpdate },
  { path: 'transfer', roles: ['clerk', 'supervisor'], body: withoutActor(c.transferSchema), update: wf.transferUpdate },
  { path: 'extension-request', roles: ['unit'], body: withoutActor(c.extensionRequestSchema), update: wf.requestExtensionUpdate },
  { path: 'extension-decision', roles: ['supervisor'], body: withoutActor(c.extensionDecisionSchema), update: wf.decideExtensionUpdate },
  { path: 'result', roles: ['unit'], body: withoutActor(c.resultSchema), update: wf.submitResultUpdate },
  { path: 'review', roles: ['clerk', 'supervisor'], body: z.object({}).passthrough() as unknown as z.ZodObject, update: wf.reviewUpdate },
  { path: 'callback', roles: ['clerk'], body: withoutActor(c.callbackSchema), update: wf.recordCallbackUpdate },
  { path: 'review-request', roles: ['clerk'], body: withoutActor(c.reviewRequestSchema), update: wf.requestReviewUpdate },
  { path: 'review-decision', roles: ['supervisor'], body: withoutActor(c.reviewDecisionSchema), update: wf.decideReviewUpdate },
  { path: 'escalation', roles: ['supervisor'], body: withoutActor(c.escalateSchema), update: wf.escalateUpdate },
  { path: 'reopen', roles: ['supervisor', 'inspector'], body: withoutActor(c.reopenSchema), update: wf.reopenUpdate },
];

/** The review body is a discriminated union; validate it with the actor added. */
function parseDecisionBody(d: Decision, req: Request): unknown {
  const actor = actorOf(req.principal!);
  if (d.path === 'review') return c.reviewSchema.parse({ ...(req.body ?? {}), actor });
  return { ...d.body.strict().parse(req.body ?? {}), actor };
}

export function complaintRoutes(deps: ComplaintRoutesDeps): Router {
  const router = Router();

  /** The case as this principal may see it; 404 (not 403) when it may not, so case numbers do not leak. */
  async function loadVisible(req: Request, caseId: string) {
    const record = await getCase(deps.pool, caseId);
    if (record) {
      if (!canSeeCase(req.principal!, { unitId: record.unitId, divisionCode: record.divisionCode })) {
        throw notFound(`No case ${caseId}.`);
      }
      return record;
    }
    // Not projected yet (just registered): ask the workflow itself.
    try {
      const view = await deps.client.workflow.getHandle(c.workflowIdFor(caseId)).query(wf.statusQuery);
      if (!canSeeCase(req.principal!, { unitId: view.unitId, divisionCode: view.divisionCode })) throw notFound(`No case ${caseId}.`);
      return { view, unitId: view.unitId ?? null, divisionCode: view.divisionCode, reporterConsent: view.reporterConsent };
    } catch (err) {
      if ((err as Error).name === 'WorkflowNotFoundError') throw notFound(`No case ${caseId}.`);
      throw err;
    }
  }

  router.post('/', requireRole('clerk'), validate({ body: c.intakeSchema }), async (req, res) => {
    const key = req.get('idempotency-key');
    const parsedKey = key === undefined ? undefined : idempotencyKey.parse(key);
    const reg = await registerComplaint(deps, res.locals.body, actorOf(req.principal!), parsedKey);
    res
      .status(reg.created ? 201 : 200)
      .location(`/v1/complaints/${reg.caseId}`)
      .json({ caseId: reg.caseId, created: reg.created, links: { self: `/v1/complaints/${reg.caseId}` } });
  });

  router.get('/', requireRole('clerk', 'unit', 'supervisor', 'inspector', 'analyst', 'ops'), validate({ query: listQuery }), async (req, res) => {
    const q = res.locals.query as z.infer<typeof listQuery>;
    const p = req.principal!;
    const divisionPrefixes =
      p.role === 'supervisor' ? (q.division ? (p.divisions ?? []).filter((d) => q.division!.startsWith(d)).length ? [q.division] : [] : p.divisions ?? []) : q.division ? [q.division] : undefined;
    if (p.role === 'unit' && q.unit && q.unit !== p.unitId) throw forbidden('A unit sees its own cases only.');
    const result = await listCases(deps.pool, {
      status: q.status,
      category: q.category,
      divisionPrefixes,
      unitId: p.role === 'unit' ? p.unitId : q.unit,
      overdue: q.overdue,
      receivedFrom: q.from,
      receivedTo: q.to,
      q: q.q,
      limit: q.pageSize,
      offset: (q.page - 1) * q.pageSize,
    });
    res.json({ page: q.page, pageSize: q.pageSize, total: result.total, items: result.items });
  });

  router.get('/:caseId', validate({ params: caseIdParams }), requireRole('clerk', 'unit', 'supervisor', 'inspector', 'analyst', 'ops'), async (req, res) => {
    const { caseId } = res.locals.params as z.infer<typeof caseIdParams>;
    const record = await loadVisible(req, caseId);
    const timeline = await getTimeline(deps.pool, caseId);
    const reporter = canSeeReporter(req.principal!, record) ? await getReporter(deps.pool, caseId) : undefined;
    res.json({ ...record.view, timeline: timeline.length ? timeline : record.view.timeline, ...(reporter && { reporter }) });
  });

  for (const d of decisions) {
    router.post(`/:caseId/${d.path}`, validate({ params: caseIdParams }), requireRole(...d.roles), async (req, res) => {
      const { caseId } = res.locals.params as z.infer<typeof caseIdParams>;
      const args = parseDecisionBody(d, req);
      const p = req.principal!;
      const record = await loadVisible(req, caseId);
      if (p.role === 'unit' && record.unitId !== p.unitId) throw forbidden('The case is assigned to another unit.');
      const key = req.get('idempotency-key');
      const view = await deps.client.workflow.getHandle(c.workflowIdFor(caseId)).executeUpdate(d.update, {
        args: [args as never],
        ...(key && { updateId: `${d.path}:${idempotencyKey.parse(key)}` }),
      });
      res.json(view);
    });
  }

  return router;
}
