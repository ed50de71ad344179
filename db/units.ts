import type { Pool, PoolClient } from 'pg';
import type { Actor } from '../domain/case';
import type { NewUnit } from '../domain/schemas/units';
import type { Unit, UnitEventType } from '../domain/units';
import { inTransaction } from './transaction';

/**
 * The unit directory's repository: the units, and each change to one with its audited event, written
 * in the same transaction.
 */

interface UnitRow {
  unit_id: string;
  name: string;
  division_code: string;
  parent_unit_id: string | null;
  active: boolean;
  notify_channel: string;
  notify_address: string | null;
  created_at: Date;
  updated_at: Date;
}

const COLUMNS = 'unit_id, name, division_code, parent_unit_id, active, notify_channel, notify_address, created_at, updated_at';

function toUnit(r: UnitRow): Unit {
  return {
    unitId: r.unit_id,
    name: r.name,
    divisionCode: r.division_code,
    parentUnitId: r.parent_unit_id,
    active: r.active,
    notify: { channel: r.notify_channel as Unit['notify']['channel'], ...(r.notify_address !== null && { address: r.notify_address }) },
    createdAt: r.created_at.toISOString(),
    updatedAt: r.updated_at.toISOString(),
  };
}

export interface UnitEvent {
  seq: number;
  unitId: string;
  type: UnitEventType;
  actor: Actor;
  at: string;
  data: Record<string, unknown>;
}

export async function getUnit(db: Pick<Pool, 'query'>, unitId: string): Promise<Unit | undefined> {
  const { rows } = await db.query<UnitRow>(`SELECT ${COLUMNS} FROM units WHERE unit_id = $1`, [unitId]);
  return rows[0] && toUnit(rows[0]);
}

export interface UnitFilter {
  /** Units whose division starts with it ("37" a province, "3701" a city). */
  divisionPrefix?: string;
  active?: boolean;
  limit: number;
  offset: number;
}

export async function listUnits(pool: Pool, f: UnitFilter): Promise<{ total: number; items: Unit[] }> {
  const where = ["($1::text IS NULL OR division_code LIKE $1 || '%')", '($2::boolean IS NULL OR active = $2)'].join(' AND ');
  const params = [f.divisionPrefix ?? null, f.active ?? null];
  const total = await pool.query<{ n: string }>(`SELECT count(*) AS n FROM units WHERE ${where}`, params);
  const items = await pool.query<UnitRow>(`SELECT ${COLUMNS} FROM units WHERE ${where} ORDER BY unit_id LIMIT $3 OFFSET $4`, [
    ...params,
    f.limit,
    f.offset,
  ]);
  return { total: Number(total.rows[0].n), items: items.rows.map(toUnit) };
}

async function recordEvent(
  client: PoolClient,
  unit: Unit,
  type: UnitEventType,
  actor: Actor,
  data: Record<string, unknown>,
): Promise<void> {
  await client.query(`INSERT INTO unit_events (unit_id, type, actor_id, actor_role, data) VALUES ($1, $2, $3, $4, $5)`, [
    unit.unitId,
    type,
    actor.id,
    actor.role,
    JSON.stringify({ ...data, unit }),
  ]);
}

/** Why a unit could not be created: its id is taken, or its parent unit does not exist. */
export type CreateRefusal = 'exists' | 'unknown_parent';

/** Create a unit and its `created` event; nothing when the id is taken or the parent is unknown. */
export async function createUnit(pool: Pool, u: NewUnit, actor: Actor): Promise<Unit | CreateRefusal> {
  return inTransaction(pool, async (client) => {
    if (u.parentUnitId && !(await getUnit(client, u.parentUnitId))) return 'unknown_parent';
    const { rows } = await client.query<UnitRow>(
      `INSERT INTO units (unit_id, name, division_code, parent_unit_id, notify_channel, notify_address)
       VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (unit_id) DO NOTHING RETURNING ${COLUMNS}`,
      [u.unitId, u.name, u.divisionCode, u.parentUnitId ?? null, u.notify.channel, u.notify.address ?? null],
    );
    if (!rows[0]) return 'exists';
    const unit = toUnit(rows[0]);
    await recordEvent(client, unit, 'created', actor, {});
    return unit;
  });
}

/**
 * Change a unit and record the event, in one transaction, with the row locked. `change` answers
 * the columns to set, or a reason to refuse (returned as it is); undefined when there is no unit.
 */
async function changeUnit<R extends string>(
  pool: Pool,
  unitId: string,
  type: UnitEventType,
  actor: Actor,
  change: (u: Unit) => { set: Partial<Pick<UnitRow, 'name' | 'active'>>; data: Record<string, unknown> } | R,
): Promise<Unit | R | undefined> {
  return inTransaction(pool, async (client) => {
    const { rows } = await client.query<UnitRow>(`SELECT ${COLUMNS} FROM units WHERE unit_id = $1 FOR UPDATE`, [unitId]);
    if (!rows[0]) return undefined;
    const decided = change(toUnit(rows[0]));
    if (typeof decided === 'string') return decided;
    const { rows: updated } = await client.query<UnitRow>(
      `UPDATE units SET name = coalesce($2, name), active = coalesce($3, active), updated_at = now()
       WHERE unit_id = $1 RETURNING ${COLUMNS}`,
      [unitId, decided.set.name ?? null, decided.set.active ?? null],
    );
    const unit = toUnit(updated[0]);
    await recordEvent(client, unit, type, actor, decided.data);
    return unit;
  });
}

export function renameUnit(pool: Pool, unitId: string, name: string, actor: Actor): Promise<Unit | undefined> {
  return changeUnit<never>(pool, unitId, 'renamed', actor, (u) => ({ set: { name }, data: { from: u.name, to: name } }));
}

/** Deactivate a unit: it takes no new cases and its tokens are refused; 'inactive' when it already is. */
export function deactivateUnit(pool: Pool, unitId: string, reason: string, actor: Actor): Promise<Unit | 'inactive' | undefined> {
  return changeUnit<'inactive'>(pool, unitId, 'deactivated', actor, (u) =>
    u.active ? { set: { active: false }, data: { reason } } : 'inactive',
  );
}

/** A unit's audited events, oldest first. */
export async function unitEvents(pool: Pool, unitId: string): Promise<UnitEvent[]> {
  const { rows } = await pool.query<{
    seq: string;
    unit_id: string;
    type: UnitEventType;
    actor_id: string;
    actor_role: string;
    at: Date;
    data: Record<string, unknown>;
  }>(`SELECT seq, unit_id, type, actor_id, actor_role, at, data FROM unit_events WHERE unit_id = $1 ORDER BY seq`, [unitId]);
  return rows.map((r) => ({
    seq: Number(r.seq),
    unitId: r.unit_id,
    type: r.type,
    actor: { id: r.actor_id, role: r.actor_role as Actor['role'] },
    at: r.at.toISOString(),
    data: r.data,
  }));
}

/**
 * Seed units (the development stack, the demo, test fixtures) in one statement: each created with
 * its `created` event unless its id exists already, in which case it is left as it is (an admin's
 * changes stand). Returns how many were created.
 */
export async function seedUnitDirectory(pool: Pool, units: readonly NewUnit[], actor: Actor): Promise<number> {
  const rows = units.map((u) => ({
    unit_id: u.unitId,
    name: u.name,
    division_code: u.divisionCode,
    parent_unit_id: u.parentUnitId ?? null,
    notify_channel: u.notify.channel,
    notify_address: u.notify.address ?? null,
  }));
  return inTransaction(pool, async (client) => {
    const { rows: created } = await client.query<UnitRow>(
      `INSERT INTO units (unit_id, name, division_code, parent_unit_id, notify_channel, notify_address)
       SELECT unit_id, name, division_code, parent_unit_id, notify_channel, notify_address
       FROM jsonb_to_recordset($1::jsonb) AS x(unit_id text, name text, division_code text, parent_unit_id text, notify_channel text, notify_address text)
       ON CONFLICT (unit_id) DO NOTHING RETURNING ${COLUMNS}`,
      [JSON.stringify(rows)],
    );
    const units = created.map(toUnit);
    await client.query(
      `INSERT INTO unit_events (unit_id, type, actor_id, actor_role, data)
       SELECT u->>'unitId', 'created', $2, $3, jsonb_build_object('unit', u) FROM jsonb_array_elements($1::jsonb) AS u`,
      [JSON.stringify(units), actor.id, actor.role],
    );
    return units.length;
  });
}
