import { isWithin } from './divisions';
import type { UnitNotification } from './schemas/units';

/**
 * The unit directory: handling units (承办单位) as records, and the rule that says which unit a case
 * may be accepted or transferred to. The records live in PostgreSQL (db/units.ts), the admin role
 * manages them through the API (api/routes/units.ts), and every change is an audited event.
 */

/** How a unit is told of its cases: its queue here, or also by e-mail, SMS or a webhook. */
export const notifyChannels = ['platform', 'email', 'sms', 'webhook'] as const;

export interface Unit {
  unitId: string;
  name: string;
  divisionCode: string;
  parentUnitId: string | null;
  active: boolean;
  notify: UnitNotification;
  createdAt: string;
  updatedAt: string;
}

export const unitEventTypes = ['created', 'renamed', 'deactivated'] as const;
export type UnitEventType = (typeof unitEventTypes)[number];

/** Why a case may not go to a unit: it names no unit, the unit is inactive, or it is outside the case's division. */
export interface AssignmentRefusal {
  status: 409 | 422;
  reason: 'unknown_unit' | 'inactive_unit' | 'outside_division';
  detail: string;
}

/**
 * Whether a case in `caseDivision` may be accepted by or transferred to the unit: an active unit
 * whose division is the case's division or one that contains it (a county's case may go to its
 * county bureau, its city's bureau or a provincial department). Undefined when it may.
 */
export function assignmentRefusal(
  unitId: string,
  unit: Pick<Unit, 'active' | 'divisionCode'> | undefined,
  caseDivision: string,
): AssignmentRefusal | undefined {
  if (!unit) return { status: 422, reason: 'unknown_unit', detail: `unitId: no unit '${unitId}' in the unit directory.` };
  if (!unit.active) return { status: 409, reason: 'inactive_unit', detail: `unitId: the unit '${unitId}' is inactive.` };
  if (!isWithin(caseDivision, unit.divisionCode)) {
    return {
      status: 422,
      reason: 'outside_division',
      detail: `unitId: the unit '${unitId}' handles division ${unit.divisionCode}, and the case is in ${caseDivision}, outside it.`,
    };
  }
  return undefined;
}
