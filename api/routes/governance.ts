import { randomBytes } from 'node:crypto';
import { Router, type Request } from 'express';
import { z } from 'zod';
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { UpdateDefinition } from '@temporalio/common';
import type { Pool } from 'pg';
import { getCase, getReporter } from '../../db/cases';
import { durationMs } from '../../domain/calendar';
import {
  assignLeadersBodySchema,
  backlogWorkflowId,
  campaignCriteriaSchema,
  confirmationBodySchema,
  paymentApprovalBodySchema,
  preliminaryCheckBodySchema,
  rewardWorkflowId,
  tightenBodySchema,
} from '../../domain/governance';
import type { Policy } from '../../domain/policy';
import { hashClaimCode, newPayeeRef } from '../../activities/payments';
import type { KeyRing } from '../../runtime/encryption';
import { assignLeadersUpdate, backlogSweepWorkflow } from '../../workflows/backlog';
import {
  campaignProgressQuery,
  campaignWorkflow,
  campaignWorkflowId,
  pauseCampaignSignal,
  resumeCampaignSignal,
  tightenCampaignUpdate,
  type CampaignProgress,
} from '../../workflows/campaign';
import { approvePaymentUpdate, confirmViolationUpdate, recordPreliminaryCheckUpdate, rewardStatusQuery, rewardWorkflow, type RewardView } from '../../workflows/reward';
import { actorOf, canSeeCase, coversDivision, type Principal, type PrincipalRole } from '../auth';
import { HttpProblem, conflict, forbidden, notFound } from '../problem';
import { mountRoutes, route, type Route } from '../validate';
import { idempotencyHeaders } from './complaints';

/**
 * Concentrated governance under `/v1/governance`: rewards for reporting, backlog cases, campaigns.
 *
 * Rewards are for clerks (who create them), inspectors and supervisors (who record the findings),
 * supervisors (who approve payments) and analysts (the ledger). Handling units never reach any of
 * these endpoints (403): they see neither rewards nor who reported. The reward workflow itself
 * carries only a payee reference; the reporter's contact is read in the payment activity.
 */

export interface GovernanceRoutesDeps {
  client: Client;
  pool: Pool;
  policy: () => Policy;
  taskQueue: string;
  keyRing: KeyRing;
  jwtSecret: string;
  /** How long to wait for Temporal before answering 503. */
  temporalTimeoutMs?: number;
}

const DEFAULT_TEMPORAL_TIMEOUT_MS = 10_000;

function temporal<T>(deps: GovernanceRoutesDeps, call: () => Promise<T>): Promise<T> {
  return deps.client.withDeadline(Date.now() + (deps.temporalTimeoutMs ?? DEFAULT_TEMPORAL_TIMEOUT_MS), call);
}

/** A workflow that is not there is an unknown resource (404), named as such. */
async function orNotFound<T>(what: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    if (err instanceof WorkflowNotFoundError || (err as Error).name === 'WorkflowNotFoundError') throw notFound(`No ${what}.`);
    throw err;
  }
}

/**
 * A decision on a case's reward, sent to its workflow as an update once the case is in the caller's
 * scope. `updateId` (from the request's Idempotency-Key) makes a retried request apply once.
 */
async function rewardDecision<A>(
  deps: GovernanceRoutesDeps,
  req: Request,
  caseId: string,
  update: UpdateDefinition<RewardView, [A]>,
  arg: A,
  updateId: string | undefined,
): Promise<RewardView> {
  await visibleCase(deps, req, caseId);
  return orNotFound(`reward for case ${caseId}`, () =>
    temporal(deps, () => deps.client.workflow.getHandle(rewardWorkflowId(caseId)).executeUpdate(update, { args: [arg], ...(updateId && { updateId }) })),
  );
}

// ---- Inputs and answers ----

const caseId = z.string().regex(/^EC-\d{4}-\d{7}$/, 'a case number like EC-2026-0000001');
const caseParams = z.strictObject({ caseId });
const paymentParams = z.strictObject({ caseId, seq: z.coerce.number().int().min(1).max(1000) });
const campaignParams = z.strictObject({ campaignId: z.string().regex(/^CP-[0-9a-f]{12}$/, 'a campaign id like CP-0123456789ab') });
const noQuery = z.strictObject({});
const isoTime = z.iso.datetime({ offset: true });
const page = { page: z.coerce.number().int().min(1).max(100_000).default(1), pageSize: z.coerce.number().int().min(1).max(200).default(50) };

const paymentSchema = z.object({
  seq: z.number().int(),
  kind: z.enum(['instant', 'tiered']),
  amount: z.number(),
  currency: z.string(),
  status: z.enum(['awaiting_approval', 'approved', 'paid', 'rejected', 'failed']),
  requestedAt: isoTime,
  requestedBy: z.string(),
  decidedBy: z.string().optional(),
  decidedAt: isoTime.optional(),
  paidAt: isoTime.optional(),
  claimable: z.boolean().optional(),
});
const rewardViewSchema = z.object({
  caseId: z.string(),
  status: z.enum(['awaiting_preliminary_check', 'awaiting_confirmation', 'settling', 'completed', 'rejected']),
  currency: z.string(),
  preliminaryCheck: z.object({ passed: z.boolean(), by: z.string(), at: isoTime }).optional(),
  confirmation: z.object({ confirmed: z.boolean(), by: z.string(), at: isoTime }).optional(),
  payments: z.array(paymentSchema),
  totalPaid: z.number(),
});
const ledgerRowSchema = z.object({
  caseId: z.string(),
  seq: z.number().int(),
  kind: z.enum(['instant', 'tiered']),
  amount: z.number(),
  currency: z.string(),
  status: z.enum(['initiated', 'paid']),
  approvedBy: z.string().nullable(),
  gatewayRef: z.string().nullable(),
  initiatedAt: isoTime,
  paidAt: isoTime.nullable(),
});
const backlogStatuses = ['listed', 'assigned', 'overdue', 'cleared', 'relisted', 'aged_out'] as const;
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
const campaignStartSchema = z
  .strictObject({
    name: z.string().trim().min(1).max(200),
    criteria: campaignCriteriaSchema.strict(),
    period: z.strictObject({ from: isoTime, to: isoTime }),
    tighten: z
      .strictObject({ factor: z.number().gt(0).max(1).optional(), dueBy: isoTime.optional(), reason: z.string().trim().min(1).max(2000) })
      .refine((t) => (t.factor === undefined) !== (t.dueBy === undefined), { message: 'give either factor or dueBy' })
      .optional(),
  })
  .refine((b) => Date.parse(b.period.from) < Date.parse(b.period.to), { path: ['period', 'to'], message: "must be after 'from'" });
const campaignProgressSchema = z.object({
  campaignId: z.string(),
  name: z.string(),
  status: z.enum(['running', 'paused', 'finished']),
  tagged: z.number().int(),
  tightened: z.number().int(),
  scans: z.number().int(),
  cases: z.object({ open: z.number().int(), new: z.number().int(), closed: z.number().int() }),
});
const campaignResultSchema = z.object({
  campaignId: z.string(),
  before: z.object({ from: isoTime, to: isoTime, count: z.number().int() }),
  during: z.object({ from: isoTime, to: isoTime, count: z.number().int() }),
  change: z.number().nullable(),
  tagged: z.number().int(),
  tightened: z.number().int(),
});

const common = [400, 401, 403, 503] as const;
const rewardReaders: readonly PrincipalRole[] = ['clerk', 'inspector', 'supervisor', 'analyst'];
const findingTakers: readonly PrincipalRole[] = ['inspector', 'supervisor'];
const backlogReaders: readonly PrincipalRole[] = ['clerk', 'supervisor', 'analyst'];
const campaignReaders: readonly PrincipalRole[] = ['supervisor', 'analyst'];

// ---- Scope ----

/** The case as the principal may see it (a supervisor: its divisions); 404 otherwise, so case numbers do not leak. */
async function visibleCase(deps: GovernanceRoutesDeps, req: Request, id: string) {
  const record = await getCase(deps.pool, id);
  if (!record || !canSeeCase(req.principal!, { unitId: record.unitId, divisionCode: record.divisionCode })) throw notFound(`No case ${id}.`);
  return record;
}

/** A supervisor lists the divisions it covers only. */
function divisionPrefixes(p: Principal, requested: string | undefined): string[] | undefined {
  if (p.role !== 'supervisor') return requested ? [requested] : undefined;
  const covered = p.divisions ?? [];
  if (!requested) return covered;
  const scope = covered.flatMap((d) => (requested.startsWith(d) ? [requested] : d.startsWith(requested) ? [d] : []));
  if (!scope.length) throw forbidden('A supervisor sees the divisions it covers only.');
  return scope;
}

/** A supervisor controls the campaigns whose every division it covers. */
async function visibleCampaign(deps: GovernanceRoutesDeps, req: Request, campaignId: string) {
  const { rows } = await deps.pool.query(`SELECT * FROM campaigns WHERE campaign_id = $1`, [campaignId]);
  const row = rows[0];
  const p = req.principal!;
  if (!row || (p.role === 'supervisor' && !(row.criteria.divisions as string[]).every((d) => coversDivision(p, d)))) {
    throw notFound(`No campaign ${campaignId}.`);
  }
  return row;
}

const iso = (d: Date | null | undefined) => (d ? d.toISOString() : null);

function backlogRow(r: Record<string, any>) {
  return {
    caseId: r.case_id,
    year: r.list_year,
    reasons: r.reasons,
    status: r.status,
    divisionCode: r.division_code,
    category: r.category,
    receivedAt: iso(r.received_at),
    listedAt: iso(r.listed_at),
    previousYear: r.previous_year,
    systemLeader: r.system_leader,
    territorialLeader: r.territorial_leader,
    assignedAt: iso(r.assigned_at),
    clearingDueAt: iso(r.clearing_due_at),
    remindedAt: iso(r.reminded_at),
    overdueAt: iso(r.overdue_at),
    clearedAt: iso(r.cleared_at),
  };
}

/** Closures that make a report ineligible for a reward: it was handled elsewhere or never substantiated. */
const INELIGIBLE_CLOSURES = new Set(['duplicate', 'forwarded', 'insufficient']);

export const governanceRouteTable: Route<GovernanceRoutesDeps>[] = [
  // ---- Rewards ----
  route(
    {
      operationId: 'createReward',
      method: 'post',
      path: '/v1/governance/rewards',
      tag: 'rewards',
      summary: 'Open the reward for a reported case',
      description:
        'Starts the reward workflow (`reward-<caseId>`, one per case). It carries only an opaque payee reference. An anonymous reporter (or one without a phone or e-mail) is paid through a claim code, returned here once, for the clerk to pass on to the reporter.',
      access: ['clerk'],
      body: z.strictObject({ caseId }),
      response: {
        status: 201,
        description: 'Opened',
        schema: z.object({ caseId: z.string(), workflowId: z.string(), payeeMethod: z.enum(['reporter_contact', 'claim_code']), claimCode: z.string().optional() }),
      },
      problems: [...common, 404, 409, 415, 422],
    },
    async (deps, { body }, req, res) => {
      const record = await visibleCase(deps, req, body.caseId);
      if (record.view.closure && INELIGIBLE_CLOSURES.has(record.view.closure)) {
        throw new HttpProblem(422, 'Unprocessable Content', `A case closed as '${record.view.closure}' is not eligible for a reward.`);
      }
      const reporter = await getReporter(deps.pool, deps.keyRing, body.caseId);
      const method = reporter && !reporter.anonymous && (reporter.phone || reporter.email) ? 'reporter_contact' : 'claim_code';
      const claimCode = method === 'claim_code' ? randomBytes(6).toString('hex').toUpperCase() : undefined;
      const workflowId = rewardWorkflowId(body.caseId);
      const inserted = await deps.pool.query<{ payee_ref: string }>(
        `INSERT INTO reward_payees (payee_ref, case_id, method, claim_code_hash, created_by) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (case_id) DO NOTHING RETURNING payee_ref`,
        [newPayeeRef(), body.caseId, method, claimCode && hashClaimCode(claimCode), req.principal!.sub],
      );
      let payeeRef = inserted.rows[0]?.payee_ref;
      if (!payeeRef) {
        // A reward exists, or an earlier request stopped between the payee and the workflow.
        const running = await temporal(deps, () => deps.client.workflow.getHandle(workflowId).describe()).then(
          () => true,
          (err) => (err instanceof WorkflowNotFoundError ? false : Promise.reject(err)),
        );
        if (running) throw conflict(`A reward already exists for case ${body.caseId}.`, { links: { reward: `/v1/governance/rewards/${body.caseId}` } });
        const { rows } = await deps.pool.query<{ payee_ref: string }>(
          `UPDATE reward_payees SET method = $2, claim_code_hash = $3 WHERE case_id = $1 RETURNING payee_ref`,
          [body.caseId, method, claimCode && hashClaimCode(claimCode)],
        );
        payeeRef = rows[0].payee_ref;
      }
      const policy = deps.policy();
      await temporal(deps, () =>
        deps.client.workflow.start(rewardWorkflow, {
          taskQueue: deps.taskQueue,
          workflowId,
          workflowIdReusePolicy: 'REJECT_DUPLICATE',
          args: [{ caseId: body.caseId, payeeRef, policy: policy.governance.rewards, calendar: policy.calendar, createdBy: actorOf(req.principal!) }],
        }),
      );
      res
        .status(201)
        .location(`/v1/governance/rewards/${body.caseId}`)
        .json({ caseId: body.caseId, workflowId, payeeMethod: method, ...(claimCode && { claimCode }) });
    },
  ),
  route(
    {
      operationId: 'rewardLedger',
      method: 'get',
      path: '/v1/governance/rewards/ledger',
      tag: 'rewards',
      summary: 'The reward ledger',
      description: 'Every reward payment, one row per idempotency key; no payee data.',
      access: ['analyst', 'supervisor'],
      query: z.strictObject({ caseId: caseId.optional(), ...page }),
      response: { status: 200, description: 'One page of the ledger', schema: z.object({ total: z.number().int(), items: z.array(ledgerRowSchema) }) },
      problems: common,
    },
    async (deps, { query }, _req, res) => {
      const where = query.caseId ? 'WHERE case_id = $3' : '';
      const params: unknown[] = [query.pageSize, (query.page - 1) * query.pageSize, ...(query.caseId ? [query.caseId] : [])];
      const { rows } = await deps.pool.query(
        `SELECT case_id, payment_seq, kind, amount, currency, status, approved_by, gateway_ref, initiated_at, paid_at, count(*) OVER () AS total
           FROM reward_ledger ${where} ORDER BY initiated_at DESC, id DESC LIMIT $1 OFFSET $2`,
        params,
      );
      res.json({
        page: query.page,
        pageSize: query.pageSize,
        total: rows.length ? Number(rows[0].total) : 0,
        items: rows.map((r) => ({
          caseId: r.case_id,
          seq: r.payment_seq,
          kind: r.kind,
          amount: Number(r.amount),
          currency: r.currency,
          status: r.status,
          approvedBy: r.approved_by,
          gatewayRef: r.gateway_ref,
          initiatedAt: iso(r.initiated_at),
          paidAt: iso(r.paid_at),
        })),
      });
    },
  ),
  route(
    {
      operationId: 'getReward',
      method: 'get',
      path: '/v1/governance/rewards/{caseId}',
      tag: 'rewards',
      summary: 'A reward: findings, payments and their approvals',
      access: rewardReaders,
      params: caseParams,
      query: noQuery,
      response: { status: 200, description: 'The reward', schema: rewardViewSchema },
      problems: [...common, 404],
    },
    async (deps, { params }, req, res) => {
      await visibleCase(deps, req, params.caseId);
      const view = await orNotFound(`reward for case ${params.caseId}`, () =>
        temporal(deps, () => deps.client.workflow.getHandle(rewardWorkflowId(params.caseId)).query(rewardStatusQuery)),
      );
      res.json(view);
    },
  ),
  route(
    {
      operationId: 'recordPreliminaryCheck',
      method: 'post',
      path: '/v1/governance/rewards/{caseId}/preliminary-check',
      tag: 'rewards',
      summary: 'Record the preliminary check of the report',
      description: 'Passed: the instant reward is requested (and waits for a supervisor’s approval). Not passed: the reward ends. With an `Idempotency-Key` header a retried request is applied once.',
      access: findingTakers,
      params: caseParams,
      query: noQuery,
      headers: idempotencyHeaders,
      body: preliminaryCheckBodySchema,
      response: { status: 200, description: 'The reward after the finding', schema: rewardViewSchema },
      problems: [...common, 404, 409, 415],
    },
    async (deps, { params, headers, body }, req, res) => {
      const key = headers['idempotency-key'];
      res.json(await rewardDecision(deps, req, params.caseId, recordPreliminaryCheckUpdate, { ...body, actor: actorOf(req.principal!) }, key && `preliminary-check:${key}`));
    },
  ),
  route(
    {
      operationId: 'confirmViolation',
      method: 'post',
      path: '/v1/governance/rewards/{caseId}/confirmation',
      tag: 'rewards',
      summary: 'Record whether a violation was confirmed, and how serious',
      description:
        "Confirmed: the tier of the severity pays its share of the penalty, at least its minimum, at most the policy's cap. With an `Idempotency-Key` header a retried request is applied once.",
      access: findingTakers,
      params: caseParams,
      query: noQuery,
      headers: idempotencyHeaders,
      body: confirmationBodySchema,
      response: { status: 200, description: 'The reward after the finding', schema: rewardViewSchema },
      problems: [...common, 404, 409, 415],
    },
    async (deps, { params, headers, body }, req, res) => {
      const key = headers['idempotency-key'];
      res.json(await rewardDecision(deps, req, params.caseId, confirmViolationUpdate, { ...body, actor: actorOf(req.principal!) }, key && `confirmation:${key}`));
    },
  ),
  route(
    {
      operationId: 'approveRewardPayment',
      method: 'post',
      path: '/v1/governance/rewards/{caseId}/payments/{seq}/approval',
      tag: 'rewards',
      summary: 'Approve or reject a reward payment',
      description: 'Only then is it paid. Whoever made the finding that called for the payment may not approve it. With an `Idempotency-Key` header a retried request is applied once.',
      access: ['supervisor'],
      params: paymentParams,
      query: noQuery,
      headers: idempotencyHeaders,
      body: paymentApprovalBodySchema,
      response: { status: 200, description: 'The reward after the decision (the payment follows)', schema: rewardViewSchema },
      problems: [...common, 404, 409, 415],
    },
    async (deps, { params, headers, body }, req, res) => {
      const key = headers['idempotency-key'];
      res.json(await rewardDecision(deps, req, params.caseId, approvePaymentUpdate, { ...body, seq: params.seq, actor: actorOf(req.principal!) }, key && `approval:${params.seq}:${key}`));
    },
  ),

  // ---- Backlog ----
  route(
    {
      operationId: 'listBacklog',
      method: 'get',
      path: '/v1/governance/backlog',
      tag: 'backlog',
      summary: 'Backlog cases of a year',
      access: backlogReaders,
      query: z.strictObject({
        year: z.coerce.number().int().min(2000).max(2100).optional(),
        status: z.enum(backlogStatuses).optional(),
        division: z.string().regex(/^\d{2,6}$/).optional(),
        ...page,
      }),
      response: { status: 200, description: 'One page of listings', schema: z.object({ total: z.number().int(), items: z.array(backlogRowSchema) }) },
      problems: common,
    },
    async (deps, { query }, req, res) => {
      const prefixes = divisionPrefixes(req.principal!, query.division);
      const where: string[] = [];
      const params: unknown[] = [];
      const add = (sql: (p: string) => string, v: unknown) => {
        params.push(v);
        where.push(sql(`$${params.length}`));
      };
      if (query.year) add((p) => `list_year = ${p}`, query.year);
      if (query.status) add((p) => `status = ${p}`, query.status);
      if (prefixes) add((p) => `division_code LIKE ANY(${p})`, prefixes.map((d) => `${d}%`));
      const clause = where.length ? `WHERE ${where.join(' AND ')}` : '';
      const { rows } = await deps.pool.query(
        `SELECT *, count(*) OVER () AS total FROM backlog_cases ${clause}
          ORDER BY list_year DESC, listed_at, case_id LIMIT ${query.pageSize} OFFSET ${(query.page - 1) * query.pageSize}`,
        params,
      );
      res.json({ page: query.page, pageSize: query.pageSize, total: rows.length ? Number(rows[0].total) : 0, items: rows.map(backlogRow) });
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
      query: z.strictObject({ year: z.coerce.number().int().min(2000).max(2100), division: z.string().regex(/^\d{2,6}$/).optional() }),
      response: {
        status: 200,
        description: 'Counts by status',
        schema: z.object({ year: z.number().int(), listed: z.number().int(), byStatus: z.record(z.string(), z.number().int()), cleared: z.number().int(), clearedShare: z.number().nullable() }),
      },
      problems: common,
    },
    async (deps, { query }, req, res) => {
      const prefixes = divisionPrefixes(req.principal!, query.division) ?? [''];
      const { rows } = await deps.pool.query<{ status: string; n: string }>(
        `SELECT status, count(*) AS n FROM backlog_cases WHERE list_year = $1 AND division_code LIKE ANY($2) GROUP BY status`,
        [query.year, prefixes.map((d) => `${d}%`)],
      );
      const byStatus = Object.fromEntries(backlogStatuses.map((st) => [st, 0])) as Record<string, number>;
      for (const r of rows) byStatus[r.status] = Number(r.n);
      const listed = Object.values(byStatus).reduce((a, b) => a + b, 0);
      const cleared = byStatus.cleared;
      res.json({ year: query.year, listed, byStatus, cleared, clearedShare: listed ? Math.round((cleared / listed) * 10_000) / 10_000 : null });
    },
  ),
  route(
    {
      operationId: 'runBacklogSweep',
      method: 'post',
      path: '/v1/governance/backlog/sweeps',
      tag: 'backlog',
      summary: 'Run the backlog scan or the yearly sort now',
      description: 'What the Schedules run (daily scan, yearly sort); for a missed run or a backfill. Answers once the sweep is done.',
      access: ['supervisor', 'ops'],
      body: z.strictObject({ kind: z.enum(['scan', 'yearly']) }),
      response: {
        status: 200,
        description: 'What the sweep listed',
        schema: z.object({ year: z.number().int(), listed: z.number().int(), relisted: z.number().int(), agedOut: z.number().int(), started: z.number().int() }),
      },
      problems: [...common, 415],
    },
    async (deps, { body }, _req, res) => {
      const policy = deps.policy();
      const result = await deps.client.workflow.execute(backlogSweepWorkflow, {
        taskQueue: deps.taskQueue,
        workflowId: `backlog-${body.kind}-manual-${randomBytes(6).toString('hex')}`,
        args: [{ kind: body.kind, settings: { backlog: policy.governance.backlog, calendar: policy.calendar } }],
      });
      res.json(result);
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
      problems: [...common, 404],
    },
    async (deps, { params }, req, res) => {
      await visibleCase(deps, req, params.caseId);
      const { rows } = await deps.pool.query(`SELECT * FROM backlog_cases WHERE case_id = $1 ORDER BY list_year DESC`, [params.caseId]);
      if (!rows.length) throw notFound(`Case ${params.caseId} is not backlog.`);
      res.json({ caseId: params.caseId, listings: rows.map(backlogRow) });
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
      response: { status: 200, description: 'The listing after the assignment', schema: z.object({ caseId: z.string(), year: z.number().int(), status: z.string() }) },
      problems: [...common, 404, 409, 415],
    },
    async (deps, { params, body }, req, res) => {
      await visibleCase(deps, req, params.caseId);
      const { rows } = await deps.pool.query<{ list_year: number }>(
        `SELECT list_year FROM backlog_cases WHERE case_id = $1 AND status IN ('listed', 'assigned', 'overdue')`,
        [params.caseId],
      );
      if (!rows[0]) throw notFound(`Case ${params.caseId} has no active backlog listing.`);
      const year = rows[0].list_year;
      const view = await orNotFound(`backlog workflow for case ${params.caseId}`, () =>
        temporal(deps, () =>
          deps.client.workflow.getHandle(backlogWorkflowId(params.caseId, year)).executeUpdate(assignLeadersUpdate, {
            args: [{ ...body, actor: actorOf(req.principal!) }],
          }),
        ),
      );
      res.json(view);
    },
  ),

  // ---- Campaigns ----
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
      problems: [...common, 415, 422],
    },
    async (deps, { body }, req, res) => {
      const p = req.principal!;
      if (!body.criteria.divisions.every((d) => coversDivision(p, d))) throw forbidden('A supervisor runs campaigns in the divisions it covers only.');
      const policy = deps.policy();
      const campaigns = policy.governance.campaigns;
      const from = Date.parse(body.period.from);
      const to = Date.parse(body.period.to);
      const refuse = (detail: string) => new HttpProblem(422, 'Unprocessable Content', detail);
      if (to <= Date.now()) throw refuse('The period must end in the future.');
      if (to - from > durationMs(campaigns.maxPeriod)) throw refuse(`The period may be at most ${campaigns.maxPeriod.amount} ${campaigns.maxPeriod.unit} (policy).`);
      const factor = body.tighten?.factor;
      if (factor !== undefined && (factor < campaigns.tightenFactor.min || factor > campaigns.tightenFactor.max)) {
        throw refuse(`The factor must be from ${campaigns.tightenFactor.min} to ${campaigns.tightenFactor.max} (policy).`);
      }
      if (body.tighten?.dueBy && Date.parse(body.tighten.dueBy) <= Date.now()) throw refuse('The tightened date must be in the future.');
      const campaignId = `CP-${randomBytes(6).toString('hex')}`;
      const workflowId = campaignWorkflowId(campaignId);
      await temporal(deps, () =>
        deps.client.workflow.start(campaignWorkflow, {
          taskQueue: deps.taskQueue,
          workflowId,
          args: [
            {
              campaignId,
              definition: { name: body.name, criteria: body.criteria, period: { from, to } },
              policy: campaigns,
              calendar: policy.calendar,
              startedBy: actorOf(p),
              ...(body.tighten && { tighten: body.tighten }),
            },
          ],
        }),
      );
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
      query: z.strictObject({ ...page }),
      response: { status: 200, description: 'One page of campaigns', schema: z.object({ total: z.number().int(), items: z.array(z.object({ campaignId: z.string() })) }) },
      problems: common,
    },
    async (deps, { query }, req, res) => {
      const p = req.principal!;
      const { rows } = await deps.pool.query(`SELECT * FROM campaigns ORDER BY started_at DESC, campaign_id`);
      const visible = rows.filter((r) => p.role !== 'supervisor' || (r.criteria.divisions as string[]).every((d) => coversDivision(p, d)));
      const items = visible.slice((query.page - 1) * query.pageSize, query.page * query.pageSize).map((r) => ({
        campaignId: r.campaign_id,
        name: r.name,
        status: r.status,
        criteria: r.criteria,
        period: { from: iso(r.period_from), to: iso(r.period_to) },
        tagged: r.tagged,
        tightened: r.tightened,
        startedAt: iso(r.started_at),
        finishedAt: iso(r.finished_at),
      }));
      res.json({ page: query.page, pageSize: query.pageSize, total: visible.length, items });
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
      problems: [...common, 404],
    },
    async (deps, { params }, req, res) => {
      await visibleCampaign(deps, req, params.campaignId);
      const progress: CampaignProgress = await orNotFound(`campaign ${params.campaignId}`, () =>
        temporal(deps, () => deps.client.workflow.getHandle(campaignWorkflowId(params.campaignId)).query(campaignProgressQuery)),
      );
      const { rows } = await deps.pool.query<{ open: string; new: string; closed: string }>(
        `SELECT count(*) FILTER (WHERE x.matched_as = 'open') AS open, count(*) FILTER (WHERE x.matched_as = 'new') AS new,
                count(*) FILTER (WHERE k.status IN ('closed', 'archived')) AS closed
           FROM campaign_cases x JOIN cases k ON k.case_id = x.case_id WHERE x.campaign_id = $1`,
        [params.campaignId],
      );
      res.json({ ...progress, cases: { open: Number(rows[0].open), new: Number(rows[0].new), closed: Number(rows[0].closed) } });
    },
  ),
  ...(['pause', 'resume'] as const).map((action) =>
    route(
      {
        operationId: `${action}Campaign`,
        method: 'post',
        path: `/v1/governance/campaigns/{campaignId}/${action}`,
        tag: 'campaigns',
        summary: action === 'pause' ? 'Pause a campaign (it stops tagging and tightening)' : 'Resume a paused campaign (it catches up at once)',
        access: ['supervisor'],
        params: campaignParams,
        query: noQuery,
        body: z.strictObject({ reason: z.string().trim().min(1).max(2000).optional() }),
        response: { status: 202, description: 'Sent to the campaign', schema: z.object({ campaignId: z.string(), requested: z.string() }) },
        problems: [...common, 404, 415],
      },
      async (deps: GovernanceRoutesDeps, { params, body }, req, res) => {
        await visibleCampaign(deps, req, params.campaignId);
        const handle = deps.client.workflow.getHandle(campaignWorkflowId(params.campaignId));
        const actor = actorOf(req.principal!);
        await orNotFound(`running campaign ${params.campaignId}`, () =>
          temporal(deps, () =>
            action === 'pause'
              ? handle.signal(pauseCampaignSignal, { actor, ...(body.reason && { reason: body.reason }) })
              : handle.signal(resumeCampaignSignal, { actor }),
          ),
        );
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
      response: { status: 200, description: 'Progress after the change', schema: campaignProgressSchema.omit({ cases: true }) },
      problems: [...common, 404, 409, 415],
    },
    async (deps, { params, body }, req, res) => {
      await visibleCampaign(deps, req, params.campaignId);
      const progress = await orNotFound(`running campaign ${params.campaignId}`, () =>
        temporal(deps, () =>
          deps.client.workflow
            .getHandle(campaignWorkflowId(params.campaignId))
            .executeUpdate(tightenCampaignUpdate, { args: [{ ...body, actor: actorOf(req.principal!) }] }),
        ),
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
      problems: [...common, 404, 409],
    },
    async (deps, { params }, req, res) => {
      const row = await visibleCampaign(deps, req, params.campaignId);
      if (!row.result) throw conflict(`Campaign ${params.campaignId} is '${row.status}'; its result comes when it ends.`, { currentState: row.status });
      res.json(row.result);
    },
  ),
];

export function governanceRoutes(deps: GovernanceRoutesDeps): Router {
  const router = Router();
  mountRoutes(router, governanceRouteTable, deps, { jwtSecret: deps.jwtSecret });
  return router;
}
