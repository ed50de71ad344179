import { Router, type Request } from 'express';
import { z } from 'zod';
import { WorkflowNotFoundError } from '@temporalio/client';
import type { UpdateDefinition } from '@temporalio/common';
import type { Pool } from 'pg';
import { getReporter } from '../../db/cases';
import { insertPayee, listLedger, listRewardCases, updatePayeeMethod, type PayeeMethod } from '../../db/rewards';
import { confirmationBodySchema, paymentApprovalBodySchema, preliminaryCheckBodySchema } from '../../domain/schemas/governance';
import { violationSeveritySchema } from '../../domain/schemas/governance-policy';
import { hashClaimCode, newClaimCode, newPayeeRef } from '../../domain/governance-payees';
import type { Policy } from '../../domain/policy';
import type { KeyRing } from '../../runtime/encryption';
import {
  REWARD_WORKFLOW,
  approvePaymentUpdate,
  confirmViolationUpdate,
  recordPreliminaryCheckUpdate,
  rewardStatusQuery,
  rewardWorkflowId,
  type RewardView,
  type RewardWorkflow,
} from '../../workflows/contracts/reward';
import { actorOf, type PrincipalRole } from '../auth';
import { caseIdField, caseParams, commonProblems, isoTime, noQuery, pageAnswer, pageFields, pageSchema, pageWindow } from '../fields';
import { HttpProblem, conflict } from '../problem';
import { divisionScope, visibleCase } from '../scope';
import type { TemporalGateway } from '../temporal-gateway';
import { mountRoutes, route, type Route } from '../validate';
import { idempotencyHeaders } from './complaints';
import { rewardSummary } from '../../domain/workflow-summaries';

/**
 * Rewards for reporting, under `/v1/governance/rewards`: for clerks (who open them), inspectors and
 * supervisors (who record the findings), supervisors (who approve payments) and analysts (the
 * ledger). Handling units never reach these endpoints (403): they see neither rewards nor who
 * reported. The reward workflow itself carries only a payee reference; the reporter's contact is
 * read in the payment activity.
 */

export interface RewardRoutesDeps {
  pool: Pool;
  policy: () => Policy;
  /** Opens the reporter's identity at rest (the reporter ring: runtime/reporter-seal.ts). */
  reporterKeys: KeyRing;
  jwtSecret: string;
  temporal: TemporalGateway;
}

const paymentParams = z.strictObject({ caseId: caseIdField, seq: z.coerce.number().int().min(1).max(1000) });

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
  idempotencyKey: z.string(),
  decisionNote: z.string().optional(),
  gatewayRef: z.string().optional(),
  failure: z.string().optional(),
});
const rewardViewSchema = z.object({
  caseId: z.string(),
  status: z.enum(['awaiting_preliminary_check', 'awaiting_confirmation', 'settling', 'completed', 'rejected']),
  currency: z.string(),
  preliminaryCheck: z.object({ passed: z.boolean(), by: z.string(), at: isoTime, note: z.string().optional() }).optional(),
  confirmation: z
    .object({
      confirmed: z.boolean(),
      severity: violationSeveritySchema.optional(),
      penaltyAmount: z.number().optional(),
      by: z.string(),
      at: isoTime,
      note: z.string().optional(),
      expired: z.boolean().optional(),
    })
    .optional(),
  decisionDueAt: isoTime.optional().describe('when the finding now awaited is due; after it the reward ends with what was found'),
  payments: z.array(paymentSchema),
  totalPaid: z.number(),
});
// The schema describes the view the workflow returns: this fails to compile when they drift apart.
const _viewFitsSchema = (v: RewardView): z.input<typeof rewardViewSchema> => v;
void _viewFitsSchema;
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

const rewardReaders: readonly PrincipalRole[] = ['clerk', 'inspector', 'supervisor', 'analyst'];
const findingTakers: readonly PrincipalRole[] = ['inspector', 'supervisor'];

/** Closures that make a report ineligible for a reward: it was handled elsewhere or never substantiated. */
const INELIGIBLE_CLOSURES = new Set(['duplicate', 'forwarded', 'insufficient']);

/**
 * A decision on a case's reward, sent to its workflow as an update once the case is in the caller's
 * scope. `updateId` (from the request's Idempotency-Key) makes a retried request apply once.
 */
async function rewardDecision<A>(
  deps: RewardRoutesDeps,
  req: Request,
  caseId: string,
  update: UpdateDefinition<RewardView, [A]>,
  arg: A,
  updateId: string | undefined,
): Promise<RewardView> {
  await visibleCase(deps.pool, req, caseId);
  return deps.temporal.update(rewardWorkflowId(caseId), update, [arg], `reward for case ${caseId}`, updateId);
}

/**
 * The payee of a new reward, written before its workflow starts. When the case has one already,
 * either its reward exists (409) or an earlier request stopped between the payee and the workflow:
 * then the payee is reused with the new method.
 */
async function payeeForNewReward(
  deps: RewardRoutesDeps,
  p: { caseId: string; method: PayeeMethod; claimCode?: string; createdBy: string },
): Promise<string> {
  const claimCodeHash = p.claimCode && hashClaimCode(p.claimCode);
  const payee = { payeeRef: newPayeeRef(), caseId: p.caseId, method: p.method, claimCodeHash, createdBy: p.createdBy };
  const inserted = await insertPayee(deps.pool, payee);
  if (inserted) return inserted;
  let running = true;
  try {
    await deps.temporal.call((c) => c.workflow.getHandle(rewardWorkflowId(p.caseId)).describe());
  } catch (err) {
    if (!(err instanceof WorkflowNotFoundError)) throw err;
    running = false;
  }
  if (running) throw conflict(`A reward already exists for case ${p.caseId}.`, { links: { reward: `/v1/governance/rewards/${p.caseId}` } });
  return updatePayeeMethod(deps.pool, { caseId: p.caseId, method: p.method, claimCodeHash });
}

export const rewardRouteTable: Route<RewardRoutesDeps>[] = [
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
      body: z.strictObject({ caseId: caseIdField }),
      response: {
        status: 201,
        description: 'Opened',
        schema: z.object({
          caseId: z.string(),
          workflowId: z.string(),
          payeeMethod: z.enum(['reporter_contact', 'claim_code']),
          claimCode: z.string().optional(),
        }),
      },
      problems: [...commonProblems, 404, 409, 415, 422],
    },
    async (deps, { body }, req, res) => {
      const record = await visibleCase(deps.pool, req, body.caseId);
      if (record.view.closure && INELIGIBLE_CLOSURES.has(record.view.closure)) {
        throw new HttpProblem(422, 'Unprocessable Content', `A case closed as '${record.view.closure}' is not eligible for a reward.`);
      }
      const reporter = await getReporter(deps.pool, deps.reporterKeys, body.caseId);
      const method: PayeeMethod = reporter && !reporter.anonymous && (reporter.phone || reporter.email) ? 'reporter_contact' : 'claim_code';
      const claimCode = method === 'claim_code' ? newClaimCode() : undefined;
      const payeeRef = await payeeForNewReward(deps, { caseId: body.caseId, method, claimCode, createdBy: req.principal!.sub });
      const workflowId = rewardWorkflowId(body.caseId);
      const policy = deps.policy();
      await deps.temporal.start<RewardWorkflow>(REWARD_WORKFLOW, {
        workflowId,
        workflowIdReusePolicy: 'REJECT_DUPLICATE',
        staticSummary: rewardSummary(body.caseId),
        args: [
          {
            caseId: body.caseId,
            payeeRef,
            policy: policy.governance.rewards,
            calendar: policy.calendar,
            createdBy: actorOf(req.principal!),
          },
        ],
      });
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
      query: z.strictObject({ caseId: caseIdField.optional(), ...pageFields }),
      response: {
        status: 200,
        description: 'One page of the ledger',
        schema: pageSchema(ledgerRowSchema),
      },
      problems: commonProblems,
    },
    async (deps, { query }, _req, res) => {
      const ledger = await listLedger(deps.pool, {
        caseId: query.caseId,
        limit: query.pageSize,
        offset: (query.page - 1) * query.pageSize,
      });
      res.json(pageAnswer(query, ledger.items, ledger.total));
    },
  ),
  route(
    {
      operationId: 'listRewards',
      method: 'get',
      path: '/v1/governance/rewards',
      tag: 'rewards',
      summary: 'Rewards, newest first: findings, payments and their approvals',
      description:
        'Each reward as its workflow tells it (as `getReward`), one page at a time (at most 50). A supervisor sees the rewards of its divisions.',
      access: rewardReaders,
      query: z.strictObject({ ...pageFields, pageSize: z.coerce.number().int().min(1).max(50).default(50) }),
      response: { status: 200, description: 'One page of rewards', schema: pageSchema(rewardViewSchema) },
      problems: commonProblems,
    },
    async (deps, { query }, req, res) => {
      const page = await listRewardCases(deps.pool, { ...pageWindow(query), divisionPrefixes: divisionScope(req.principal!, undefined) });
      const items = await Promise.all(
        page.items.map((r) => deps.temporal.query(rewardWorkflowId(r.caseId), rewardStatusQuery, `reward for case ${r.caseId}`)),
      );
      res.json(pageAnswer(query, items, page.total));
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
      problems: [...commonProblems, 404],
    },
    async (deps, { params }, req, res) => {
      await visibleCase(deps.pool, req, params.caseId);
      res.json(await deps.temporal.query(rewardWorkflowId(params.caseId), rewardStatusQuery, `reward for case ${params.caseId}`));
    },
  ),
  route(
    {
      operationId: 'recordPreliminaryCheck',
      method: 'post',
      path: '/v1/governance/rewards/{caseId}/preliminary-check',
      tag: 'rewards',
      summary: 'Record the preliminary check of the report',
      description:
        'Passed: the instant reward is requested (and waits for a supervisor’s approval). Not passed: the reward ends. With an `Idempotency-Key` header a retried request is applied once.',
      access: findingTakers,
      params: caseParams,
      query: noQuery,
      headers: idempotencyHeaders,
      body: preliminaryCheckBodySchema,
      response: { status: 200, description: 'The reward after the finding', schema: rewardViewSchema },
      problems: [...commonProblems, 404, 409, 415],
    },
    async (deps, { params, headers, body }, req, res) => {
      const key = headers['idempotency-key'];
      res.json(
        await rewardDecision(
          deps,
          req,
          params.caseId,
          recordPreliminaryCheckUpdate,
          { ...body, actor: actorOf(req.principal!) },
          key && `preliminary-check:${key}`,
        ),
      );
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
      problems: [...commonProblems, 404, 409, 415],
    },
    async (deps, { params, headers, body }, req, res) => {
      const key = headers['idempotency-key'];
      res.json(
        await rewardDecision(
          deps,
          req,
          params.caseId,
          confirmViolationUpdate,
          { ...body, actor: actorOf(req.principal!) },
          key && `confirmation:${key}`,
        ),
      );
    },
  ),
  route(
    {
      operationId: 'approveRewardPayment',
      method: 'post',
      path: '/v1/governance/rewards/{caseId}/payments/{seq}/approval',
      tag: 'rewards',
      summary: 'Approve or reject a reward payment',
      description:
        'Only then is it paid. Whoever made the finding that called for the payment may not approve it. With an `Idempotency-Key` header a retried request is applied once.',
      access: ['supervisor'],
      params: paymentParams,
      query: noQuery,
      headers: idempotencyHeaders,
      body: paymentApprovalBodySchema,
      response: { status: 200, description: 'The reward after the decision (the payment follows)', schema: rewardViewSchema },
      problems: [...commonProblems, 404, 409, 415],
    },
    async (deps, { params, headers, body }, req, res) => {
      const key = headers['idempotency-key'];
      res.json(
        await rewardDecision(
          deps,
          req,
          params.caseId,
          approvePaymentUpdate,
          { ...body, seq: params.seq, actor: actorOf(req.principal!) },
          key && `approval:${params.seq}:${key}`,
        ),
      );
    },
  ),
];

export function rewardRoutes(deps: RewardRoutesDeps): Router {
  const router = Router();
  mountRoutes(router, rewardRouteTable, deps, { jwtSecret: deps.jwtSecret });
  return router;
}
