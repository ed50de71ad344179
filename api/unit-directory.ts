import type { Pool } from 'pg';
import { getUnit } from '../db/units';
import { isDivisionPrefix } from '../domain/divisions';
import { assignmentRefusal } from '../domain/units';
import type { Principal } from './auth';
import { HttpProblem, forbidden, titleOf } from './problem';

/**
 * The directories at the API's edge (docs/directories.md): a case goes only to an active unit inside
 * its division, and a token's scope must name what the directories have.
 */

/** 422 (no such unit, or outside the case's division) or 409 (inactive), with the reason, when the case may not go to the unit. */
export async function requireAssignableUnit(pool: Pool, unitId: string, caseDivision: string): Promise<void> {
  const refusal = assignmentRefusal(unitId, await getUnit(pool, unitId), caseDivision);
  if (refusal) throw new HttpProblem(refusal.status, titleOf(refusal.status), refusal.detail, { reason: refusal.reason });
}

/**
 * Checks a verified token against the directories, after its signature and role: a unit token must
 * name an existing, active unit, and a supervisor's divisions must be divisions of the directory
 * (403 otherwise). Set on the app (api/app.ts) and run by every route with roles (api/validate.ts).
 */
export type PrincipalCheck = (p: Principal) => Promise<HttpProblem | undefined>;

export function directoryPrincipalCheck(pool: Pool): PrincipalCheck {
  return async (p) => {
    if (p.role === 'unit') {
      const unit = p.unitId ? await getUnit(pool, p.unitId) : undefined;
      if (!unit) return forbidden(`The token names no unit in the unit directory ('${p.unitId ?? ''}').`);
      if (!unit.active) return forbidden(`The unit '${unit.unitId}' is inactive.`);
    }
    const unknown = (p.divisions ?? []).filter((d) => !isDivisionPrefix(d));
    if (unknown.length) return forbidden(`The token's divisions name no division in the directory: ${unknown.join(', ')}.`);
    return undefined;
  };
}
