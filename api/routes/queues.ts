import { Router } from 'express';
import { z } from 'zod';
import type { Pool } from 'pg';
import { queueKinds, readQueue, type QueueItem, type QueueKind, type QueueRole } from '../../db/queues';
import { commonProblems, pageFields, pageWindow } from '../fields';
import { mountRoutes, route, type Route } from '../validate';

/**
 * `/v1/queues/<role>`: each role's inbox, one endpoint per role, its person's own (the token says
 * whose). Every item names the decision it awaits (the operationId in /openapi.json) and links to it
 * (the route to call), soonest deadline first; the answer counts the items of each kind.
 */

export interface QueueRoutesDeps {
  pool: Pool;
  jwtSecret: string;
}

/** The decision each kind of item awaits: its operationId and the route that takes it. */
const awaited: Record<QueueKind, { operationId: string; href: (i: QueueItem) => string }> = {
  handle: { operationId: 'submitResult', href: (i) => `/v1/complaints/${i.caseId}/result` },
  rework: { operationId: 'submitResult', href: (i) => `/v1/complaints/${i.caseId}/result` },
  supplement: { operationId: 'supplementComplaint', href: (i) => `/v1/complaints/${i.caseId}/supplement` },
  acceptance: { operationId: 'acceptComplaint', href: (i) => `/v1/complaints/${i.caseId}/accept` },
  declined_assignment: { operationId: 'acceptComplaint', href: (i) => `/v1/complaints/${i.caseId}/accept` },
  result_review: { operationId: 'reviewResult', href: (i) => `/v1/complaints/${i.caseId}/review` },
  callback: { operationId: 'recordCallback', href: (i) => `/v1/complaints/${i.caseId}/callback` },
  extension_request: { operationId: 'decideExtension', href: (i) => `/v1/complaints/${i.caseId}/extension-decision` },
  review_request: { operationId: 'decideReview', href: (i) => `/v1/complaints/${i.caseId}/review-decision` },
  exhausted_callback: { operationId: 'reopenComplaint', href: (i) => `/v1/complaints/${i.caseId}/reopen` },
  overdue: { operationId: 'escalateComplaint', href: (i) => `/v1/complaints/${i.caseId}/escalation` },
  desk_check_item: {
    operationId: 'reviewDeskCheckItem',
    href: (i) => `/v1/supervision/desk-checks/${i.drawId}/items/${i.caseId}/review`,
  },
  reward_approval: {
    operationId: 'approveRewardPayment',
    href: (i) => `/v1/governance/rewards/${i.caseId}/payments/${i.paymentSeq}/approval`,
  },
  re_inspection: {
    operationId: 'recordInspectionFinding',
    href: (i) => `/v1/supervision/re-inspections/${i.drawId}/inspections/${i.caseId}/finding`,
  },
};

const queueItemSchema = z.object({
  kind: z.string(),
  caseId: z.string(),
  dueAt: z.iso.datetime({ offset: true }).nullable(),
  title: z.string().nullable(),
  status: z.string().nullable(),
  divisionCode: z.string(),
  unitId: z.string().nullable(),
  escalationLevel: z.number().int().nullable(),
  drawId: z.string().nullable(),
  paymentSeq: z.number().int().nullable().describe('the reward payment a `reward_approval` awaits the decision on'),
  awaits: z.object({ operationId: z.string(), method: z.literal('POST'), href: z.string() }),
});

const queueSchema = (role: QueueRole) =>
  z.object({
    role: z.literal(role),
    page: z.number().int(),
    pageSize: z.number().int(),
    total: z.number().int(),
    counts: z.partialRecord(z.enum(queueKinds[role]), z.number().int()),
    ...(role === 'supervisor' && {
      overdueByLevel: z.record(z.string(), z.number().int()).describe('overdue cases by escalation level (0 none … 3 provincial)'),
    }),
    items: z.array(queueItemSchema),
  });

const described: Record<QueueRole, { operationId: string; summary: string; description: string }> = {
  unit: {
    operationId: 'unitQueue',
    summary: "A unit's inbox: its cases, by deadline",
    description: 'The cases assigned to the unit of the token that it is handling or reworking, the nearest deadline first.',
  },
  clerk: {
    operationId: 'clerkQueue',
    summary: "A clerk's inbox: what waits for the clerk who owns the case",
    description:
      "The clerk's own cases: supplements due, cases to accept (those a unit declined apart, as `declined_assignment`), results to review and callbacks due.",
  },
  supervisor: {
    operationId: 'supervisorQueue',
    summary: "A supervisor's inbox: everything that waits for a supervisor in the divisions covered",
    description:
      'Extension requests, review requests, callbacks that found no one (closed unreachable: reopen them or let them be), overdue cases (counted by escalation level), desk-check items to review, and reward payments awaiting approval (`reward_approval`, no due date; not those whose finding the supervisor made, which they may not approve).',
  },
  inspector: {
    operationId: 'inspectorQueue',
    summary: "An inspector's inbox: the re-inspections assigned to the inspector",
    description: 'Assigned, started and overdue on-site re-inspections of the token subject, the nearest deadline first.',
  },
};

function queueRoute(role: QueueRole): Route<QueueRoutesDeps> {
  return route(
    {
      ...described[role],
      method: 'get',
      path: `/v1/queues/${role}`,
      tag: 'queues',
      access: [role],
      query: z.strictObject(pageFields),
      response: { status: 200, description: 'One page of the inbox, with the counts of all of it', schema: queueSchema(role) },
      problems: commonProblems,
    },
    async (deps: QueueRoutesDeps, { query }, req, res) => {
      const p = req.principal!;
      const queue = await readQueue(deps.pool, role, p, pageWindow(query));
      res.json({
        role,
        page: query.page,
        pageSize: query.pageSize,
        ...queue,
        items: queue.items.map((i) => ({
          ...i,
          awaits: { operationId: awaited[i.kind].operationId, method: 'POST', href: awaited[i.kind].href(i) },
        })),
      });
    },
  );
}

export const queueRouteTable: Route<QueueRoutesDeps>[] = (Object.keys(queueKinds) as QueueRole[]).map(queueRoute);

export function queueRoutes(deps: QueueRoutesDeps): Router {
  const router = Router();
  mountRoutes(router, queueRouteTable, deps, { jwtSecret: deps.jwtSecret });
  return router;
}
