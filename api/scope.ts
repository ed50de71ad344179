import type { Request } from 'express';
import type { Pool } from 'pg';
import { getCase } from '../db/cases';
import { canSeeCase, type Principal } from './auth';
import { forbidden, notFound } from './problem';

/**
 * What a principal may see, decided once for every route table: the case in the path (404, not 403,
 * when it is outside the principal's scope, so case numbers do not leak) and the divisions a
 * listing covers.
 */

/** The projected case when the caller may see it; 404 when it is unknown or outside the caller's scope. */
export async function visibleCase(pool: Pool, req: Request, caseId: string) {
  const record = await getCase(pool, caseId);
  if (!record || !canSeeCase(req.principal!, { unitId: record.unitId, divisionCode: record.divisionCode })) {
    throw notFound(`No case ${caseId}.`);
  }
  return record;
}

/**
 * The division prefixes a listing covers: what was asked, narrowed to what a supervisor covers
 * (asking for a province returns the cities it covers in it). 403 when nothing overlaps.
 */
export function divisionScope(p: Principal, requested: string | undefined): string[] | undefined {
  if (p.role !== 'supervisor') return requested ? [requested] : undefined;
  const covered = p.divisions ?? [];
  if (!requested) return covered;
  const scope = covered.flatMap((d) => (requested.startsWith(d) ? [requested] : d.startsWith(requested) ? [d] : []));
  if (!scope.length) throw forbidden('A supervisor sees the divisions it covers only.');
  return scope;
}
