import { Router } from 'express';
import { z } from 'zod';
import type { Pool } from 'pg';
import { listCaseNumberGaps } from '../../db/registrations';
import { commonProblems, isoTime, pageAnswer, pageFields, pageSchema, pageWindow } from '../fields';
import { mountRoutes, route, type Route } from '../validate';

/**
 * `GET /v1/case-numbers/gaps`: the register of case numbers that are not cases. The numbering is
 * the register of every case: a replayed Idempotency-Key or a refused request draws no number, and
 * a number drawn for a registration whose workflow did not start is listed here with its reason
 * (db/registrations.ts, migration 010), so that clerks can account for every number.
 */

export interface CaseNumberRoutesDeps {
  pool: Pool;
  jwtSecret: string;
}

const gapSchema = z.object({
  caseId: z.string(),
  drawnAt: isoTime,
  status: z.enum(['gap', 'pending']).describe('gap: the registration failed; pending: it has not finished (under way, or interrupted)'),
  reason: z.string().nullable(),
  decidedAt: isoTime.nullable(),
});

export const caseNumberRouteTable: Route<CaseNumberRoutesDeps>[] = [
  route(
    {
      operationId: 'listCaseNumberGaps',
      method: 'get',
      path: '/v1/case-numbers/gaps',
      tag: 'complaints',
      summary: 'The case numbers drawn that are not cases, each with its reason',
      description:
        'Oldest first. A number whose registration failed (the workflow did not start) is a `gap` with the reason; ' +
        'a registration still under way, or interrupted, is `pending`. A retry with the same Idempotency-Key that ' +
        'starts the case takes the number off the list.',
      access: ['clerk', 'supervisor', 'ops', 'admin'],
      query: z.strictObject({ ...pageFields }),
      response: { status: 200, description: 'One page of the register', schema: pageSchema(gapSchema) },
      problems: commonProblems,
    },
    async (deps, { query }, _req, res) => {
      const { items, total } = await listCaseNumberGaps(deps.pool, pageWindow(query));
      res.json(pageAnswer(query, items, total));
    },
  ),
];

export function caseNumberRoutes(deps: CaseNumberRoutesDeps): Router {
  const router = Router();
  mountRoutes(router, caseNumberRouteTable, deps, { jwtSecret: deps.jwtSecret });
  return router;
}
