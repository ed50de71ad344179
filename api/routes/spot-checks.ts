import { z } from 'zod';
import type { Pool } from 'pg';
import type { Principal, PrincipalRole } from '../auth';
import { getStoredDraw, listDraws, type StoredDraw } from '../../db/spot-checks';
import { verifyDraw } from '../../domain/sampling';
import type { SpotCheckKindSpec } from '../../domain/spot-check';
import { periodSchemas } from '../../domain/schemas/supervision-periods';
import { caseIdField, commonProblems, isoTime, noQuery, pageAnswer, pageFields, pageSchema, pageWindow } from '../fields';
import { notFound } from '../problem';
import { route, type Route, type RouteSpec } from '../validate';
import { idempotencyHeaders } from './complaints';

/**
 * The routes desk checks and re-inspections share, built once from a description of the kind:
 * the listing of draws, one draw with what its checkers found, and the re-run of a draw from its
 * seed. Mounted through the supervision route table (api/routes/supervision.ts).
 */

export const tag = 'supervision';
/** Who reads draws and their results. */
const readers: readonly PrincipalRole[] = ['inspector', 'supervisor', 'analyst', 'ops', 'admin'];

const pageQuery = z.strictObject(pageFields);

/** `{id}/…/{caseId}` in the path: one drawn case of a period's draw. */
const drawnCaseParams = (kind: SpotCheckKindSpec) => z.object({ id: periodSchemas[kind.kind], caseId: caseIdField });

const drawFields = {
  id: z.string(),
  seed: z.string(),
  share: z.number(),
  minPerDivision: z.number().int(),
};

/** A draw in a listing: its rules, its instants, and the counts of what its checkers found. */
export function drawSummarySchema(instants: Record<string, z.ZodType>, tally: { key: string; counts: readonly string[] }) {
  return z.object({
    ...drawFields,
    policyVersion: z.string(),
    population: z.number().int(),
    drawn: z.number().int(),
    ...instants,
    workflowId: z.string(),
    [tally.key]: z.object(Object.fromEntries(tally.counts.map((c) => [c, z.number().int()]))),
  });
}

/** A stored draw with its rules and sample (its frame counted), as one draw's answer starts. */
export const drawHead = {
  ...drawFields,
  closures: z.array(z.string()),
  policyVersion: z.string(),
  periodFrom: isoTime,
  periodTo: isoTime,
  population: z.number().int().describe('cases in the sampling frame'),
  drawn: z.array(z.string()).describe('the sample, sorted'),
  workflowId: z.string(),
  createdAt: isoTime,
};

const rulesSchema = z.object({
  share: z.number(),
  minPerDivision: z.number().int(),
  closures: z.array(z.string()),
  policyVersion: z.string(),
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

/** A checker's decision about one drawn case (a review, a finding), as its route receives it. */
export interface DecisionInput<B> {
  /** The period of the draw. */
  id: string;
  caseId: string;
  body: B;
  principal: Principal;
  /** From the Idempotency-Key: the same key applies the decision once. */
  updateId?: string;
}

/** Where the kinds differ most: who decides about a drawn case, and what the decision does. */
export interface DecisionRoute<D> {
  operationId: string;
  /** Below `{id}`: the drawn case and the decision, e.g. `items/{caseId}/review`. */
  path: string;
  summary: string;
  description: string;
  access: readonly PrincipalRole[];
  body: z.ZodType;
  response: { description: string; schema: z.ZodType };
  /** Prefixes the Idempotency-Key in the update id. */
  updatePrefix: string;
  /** Check that the caller may decide, apply the decision through the check's workflow, and answer with the result. */
  decide(deps: D, input: DecisionInput<unknown>): Promise<unknown>;
}

/** How the routes of one kind read and describe it. */
export interface SpotCheckRoutesOf<D> {
  kind: SpotCheckKindSpec;
  /** In operation ids: `list${name}s`, `get${name}`, `verify${name}`. */
  name: string;
  /** The path segment under /v1/supervision. */
  path: string;
  /** What the path's `{id}` is. */
  periodDescription: string;
  summaries: { list: string; get: string };
  summarySchema: z.ZodType;
  detailSchema: z.ZodType;
  /** What one draw's answer adds to its stored head: what its checkers found. */
  details(pool: Pool, id: string): Promise<Record<string, unknown>>;
  decision: DecisionRoute<D>;
}

async function storedDraw(pool: Pool, of: SpotCheckRoutesOf<unknown>, id: string): Promise<StoredDraw> {
  const stored = await getStoredDraw(pool, of.kind.kind, id);
  if (!stored) throw notFound(`No ${of.kind.name} ${id}.`);
  return stored;
}

/** The listing, one draw, its verification, and the decision about a drawn case, for one kind. */
export function spotCheckRoutes<D extends { pool: Pool }>(of: SpotCheckRoutesOf<D>): Route<D>[] {
  const base = `/v1/supervision/${of.path}`;
  const params = z.object({ id: periodSchemas[of.kind.kind].describe(of.periodDescription) });
  const many = `${of.kind.name}s`;
  return [
    route(
      {
        operationId: `list${of.name}s`,
        method: 'get',
        path: base,
        tag,
        summary: of.summaries.list,
        access: readers,
        query: pageQuery,
        response: { status: 200, description: `One page of ${many}`, schema: pageSchema(of.summarySchema) },
        problems: commonProblems,
      },
      async (deps: D, { query: q }, _req, res) => {
        const page = await listDraws(deps.pool, of.kind.kind, pageWindow(q));
        res.json(pageAnswer(q, page.items, page.total));
      },
    ),
    route(
      {
        operationId: `get${of.name}`,
        method: 'get',
        path: `${base}/{id}`,
        tag,
        summary: of.summaries.get,
        access: readers,
        params,
        query: noQuery,
        response: { status: 200, description: `The ${of.kind.name}`, schema: of.detailSchema },
        problems: [...commonProblems, 404],
      },
      async (deps: D, { params: p }, _req, res) => {
        const { population, ...head } = await storedDraw(deps.pool, of, p.id);
        res.json({ ...head, population: population.length, ...(await of.details(deps.pool, p.id)) });
      },
    ),
    route(
      {
        operationId: `verify${of.name}`,
        method: 'get',
        path: `${base}/{id}/verify`,
        tag,
        summary: `Re-run a ${of.kind.slug} draw from its seed and compare it with the stored sample`,
        access: readers,
        params,
        query: noQuery,
        response: { status: 200, description: 'The comparison', schema: verificationSchema },
        problems: [...commonProblems, 404],
      },
      async (deps: D, { params: p }, _req, res) => {
        const stored = await storedDraw(deps.pool, of, p.id);
        const { share, minPerDivision, closures, policyVersion } = stored;
        res.json({
          id: p.id,
          seed: stored.seed,
          rules: { share, minPerDivision, closures, policyVersion },
          period: { from: stored.periodFrom, to: stored.periodTo },
          population: stored.population.length,
          stored: stored.drawn,
          ...verifyDraw(stored),
        });
      },
    ),
    decisionRoute(of),
  ];
}

/** The route of a checker's decision: the drawn case is in the path, the Idempotency-Key makes the update id. */
function decisionRoute<D>(of: SpotCheckRoutesOf<D>): Route<D> {
  const d = of.decision;
  const spec: RouteSpec = {
    operationId: d.operationId,
    method: 'post',
    path: `/v1/supervision/${of.path}/{id}/${d.path}`,
    tag,
    summary: d.summary,
    description: d.description,
    access: d.access,
    params: drawnCaseParams(of.kind),
    query: noQuery,
    headers: idempotencyHeaders,
    body: d.body,
    response: { status: 200, ...d.response },
    problems: [...commonProblems, 404, 409, 415, 422],
  };
  return route<D, RouteSpec>(spec, async (deps, { params, headers, body }, req, res) => {
    const { id, caseId } = params as { id: string; caseId: string };
    const key = (headers as { 'idempotency-key'?: string })['idempotency-key'];
    const updateId = key && `${d.updatePrefix}:${key}`;
    res.json(await d.decide(deps, { id, caseId, body, principal: req.principal!, updateId }));
  });
}
