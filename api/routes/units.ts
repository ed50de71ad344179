import { Router } from 'express';
import { z } from 'zod';
import type { Pool } from 'pg';
import { listCases } from '../../db/cases';
import { createUnit, deactivateUnit, getUnit, listUnits, renameUnit, unitEvents } from '../../db/units';
import type { CaseStatus } from '../../domain/case';
import { text } from '../../domain/schemas/case';
import { divisionName } from '../../domain/divisions';
import { divisionPrefixSchema } from '../../domain/schemas/divisions';
import { newUnitSchema, unitIdSchema } from '../../domain/schemas/units';
import { notifyChannels, unitEventTypes, type Unit } from '../../domain/units';
import { actorOf, type PrincipalRole } from '../auth';
import { commonProblems, isoTime, noQuery, pageAnswer, pageFields, pageSchema, pageWindow } from '../fields';
import { HttpProblem, conflict, notFound } from '../problem';
import { divisionScope } from '../scope';
import { mountRoutes, route, type Route } from '../validate';
import { caseListItemSchema } from './complaints';

/**
 * The unit directory under `/v1/units` (docs/directories.md): the handling units cases are accepted
 * or transferred to. Everyone who hands cases on reads it; only `admin` creates, renames and
 * deactivates a unit, each change an audited event (`GET /v1/units/{unitId}/events`). A deactivated
 * unit's open cases are listed for reassignment (`GET /v1/units/{unitId}/open-cases`).
 */

export interface UnitRoutesDeps {
  pool: Pool;
  jwtSecret: string;
}

const tag = 'units';
const unitParams = z.strictObject({ unitId: unitIdSchema });

const unitSchema = z.object({
  unitId: z.string(),
  name: z.string(),
  divisionCode: z.string(),
  divisionName: z.string().describe('from the division directory'),
  parentUnitId: z.string().nullable(),
  active: z.boolean(),
  notify: z.object({ channel: z.enum(notifyChannels), address: z.string().optional() }),
  createdAt: isoTime,
  updatedAt: isoTime,
});
const unitEventSchema = z.object({
  seq: z.number().int(),
  unitId: z.string(),
  type: z.enum(unitEventTypes),
  actor: z.object({ id: z.string(), role: z.string() }),
  at: isoTime,
  data: z.record(z.string(), z.unknown()).describe('what changed, and the unit after the change'),
});

const listQuery = z.strictObject({
  division: divisionPrefixSchema.optional().describe('units whose division starts with it ("37", "3701", "370102")'),
  active: z
    .enum(['true', 'false'])
    .transform((v) => v === 'true')
    .optional(),
  ...pageFields,
});

/** A case still to be handled: what a deactivated unit leaves for reassignment. */
const openStatuses: CaseStatus[] = ['handling', 'under_review', 'callback', 'review_requested'];

/** Who reads the directory: those who hand cases on, and those who watch them. */
const readers: readonly PrincipalRole[] = ['clerk', 'supervisor', 'inspector', 'analyst', 'ops', 'admin'];

const shown = (u: Unit) => ({ ...u, divisionName: divisionName(u.divisionCode) });

export const unitRouteTable: Route<UnitRoutesDeps>[] = [
  route(
    {
      operationId: 'listUnits',
      method: 'get',
      path: '/v1/units',
      tag,
      summary: 'List the handling units',
      access: readers,
      query: listQuery,
      response: { status: 200, description: 'One page of units', schema: pageSchema(unitSchema) },
      problems: commonProblems,
    },
    async (deps, { query: q }, _req, res) => {
      const result = await listUnits(deps.pool, { divisionPrefix: q.division, active: q.active, ...pageWindow(q) });
      res.json(pageAnswer(q, result.items.map(shown), result.total));
    },
  ),
  route(
    {
      operationId: 'createUnit',
      method: 'post',
      path: '/v1/units',
      tag,
      summary: 'Create a handling unit',
      description: 'Its division must be in the division directory; its parent unit must exist. Recorded as a `created` event.',
      access: ['admin'],
      query: noQuery,
      body: newUnitSchema,
      response: { status: 201, description: 'The unit', schema: unitSchema },
      problems: [...commonProblems, 409, 413, 415, 422],
    },
    async (deps, { body }, req, res) => {
      const created = await createUnit(deps.pool, body, actorOf(req.principal!));
      if (created === 'exists') throw conflict(`A unit '${body.unitId}' exists already.`);
      if (created === 'unknown_parent')
        throw new HttpProblem(422, 'Unprocessable Content', `parentUnitId: no unit '${body.parentUnitId}'.`);
      res.status(201).location(`/v1/units/${created.unitId}`).json(shown(created));
    },
  ),
  route(
    {
      operationId: 'getUnit',
      method: 'get',
      path: '/v1/units/{unitId}',
      tag,
      summary: 'One handling unit',
      access: readers,
      params: unitParams,
      query: noQuery,
      response: { status: 200, description: 'The unit', schema: unitSchema },
      problems: [...commonProblems, 404],
    },
    async (deps, { params }, _req, res) => {
      const unit = await getUnit(deps.pool, params.unitId);
      if (!unit) throw notFound(`No unit ${params.unitId}.`);
      res.json(shown(unit));
    },
  ),
  route(
    {
      operationId: 'renameUnit',
      method: 'post',
      path: '/v1/units/{unitId}/rename',
      tag,
      summary: 'Rename a handling unit',
      description: 'Recorded as a `renamed` event with the old and the new name.',
      access: ['admin'],
      params: unitParams,
      query: noQuery,
      body: z.strictObject({ name: text(200) }),
      response: { status: 200, description: 'The unit', schema: unitSchema },
      problems: [...commonProblems, 404, 413, 415],
    },
    async (deps, { params, body }, req, res) => {
      const unit = await renameUnit(deps.pool, params.unitId, body.name, actorOf(req.principal!));
      if (!unit) throw notFound(`No unit ${params.unitId}.`);
      res.json(shown(unit));
    },
  ),
  route(
    {
      operationId: 'deactivateUnit',
      method: 'post',
      path: '/v1/units/{unitId}/deactivate',
      tag,
      summary: 'Deactivate a handling unit',
      description:
        'It takes no new case (accept and transfer refuse it: 409) and its tokens are refused (403). Its open cases stay with it until transferred: `GET /v1/units/{unitId}/open-cases` lists them. Recorded as a `deactivated` event with the reason.',
      access: ['admin'],
      params: unitParams,
      query: noQuery,
      body: z.strictObject({ reason: text(2000) }),
      response: { status: 200, description: 'The unit', schema: unitSchema },
      problems: [...commonProblems, 404, 409, 413, 415],
    },
    async (deps, { params, body }, req, res) => {
      const unit = await deactivateUnit(deps.pool, params.unitId, body.reason, actorOf(req.principal!));
      if (!unit) throw notFound(`No unit ${params.unitId}.`);
      if (unit === 'inactive') throw conflict(`The unit '${params.unitId}' is inactive already.`);
      res.json(shown(unit));
    },
  ),
  route(
    {
      operationId: 'listUnitEvents',
      method: 'get',
      path: '/v1/units/{unitId}/events',
      tag,
      summary: "A unit's audited changes",
      description: 'Every change to the unit, oldest first: who made it, when, and what changed.',
      access: ['admin', 'ops'],
      params: unitParams,
      query: noQuery,
      response: { status: 200, description: 'The events', schema: z.object({ items: z.array(unitEventSchema) }) },
      problems: [...commonProblems, 404],
    },
    async (deps, { params }, _req, res) => {
      if (!(await getUnit(deps.pool, params.unitId))) throw notFound(`No unit ${params.unitId}.`);
      res.json({ items: await unitEvents(deps.pool, params.unitId) });
    },
  ),
  route(
    {
      operationId: 'listUnitOpenCases',
      method: 'get',
      path: '/v1/units/{unitId}/open-cases',
      tag,
      summary: "A unit's open cases, for reassignment",
      description:
        'The cases the unit still holds (handling, under review, callback, review requested), newest first: a deactivated unit keeps them until each is transferred (`POST /v1/complaints/{caseId}/transfer`). A supervisor sees those in the divisions it covers.',
      access: ['admin', 'clerk', 'supervisor'],
      params: unitParams,
      query: z.strictObject({ ...pageFields }),
      response: { status: 200, description: 'One page of cases', schema: pageSchema(caseListItemSchema) },
      problems: [...commonProblems, 404],
    },
    async (deps, { params, query: q }, req, res) => {
      if (!(await getUnit(deps.pool, params.unitId))) throw notFound(`No unit ${params.unitId}.`);
      const result = await listCases(deps.pool, {
        unitId: params.unitId,
        status: openStatuses,
        divisionPrefixes: divisionScope(req.principal!, undefined),
        ...pageWindow(q),
      });
      res.json(pageAnswer(q, result.items, result.total));
    },
  ),
];

export function unitRoutes(deps: UnitRoutesDeps): Router {
  const router = Router();
  mountRoutes(router, unitRouteTable, deps, { jwtSecret: deps.jwtSecret });
  return router;
}
