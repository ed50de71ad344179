import type { Pool } from 'pg';
import type { Reporter } from '../../domain/case';
import { sealReporter } from '../../db/reporters';
import { testReporterKeys } from './temporal';

/**
 * Rows of the case projection written directly, for the governance tests that read the projection
 * (backlog sweeps, campaign counts, reward payees) without running a complaint workflow per case.
 */

let counter = 0;
/** Case numbers unique across test files (pid) and within one (counter), in the API's format. */
export function seededCaseId(): string {
  counter++;
  return `EC-2025-9${String(process.pid % 1000).padStart(3, '0')}${String(counter).padStart(3, '0')}`;
}

export interface SeededCase {
  caseId?: string;
  status?: string;
  closure?: string | null;
  category?: string;
  divisionCode?: string;
  title?: string;
  description?: string;
  receivedAt: number;
  deadlineAt?: number | null;
  reopenCount?: number;
  closedAt?: number | null;
  unitId?: string | null;
  reporter?: Reporter;
}

export async function seedCase(pool: Pool, c: SeededCase): Promise<string> {
  const caseId = c.caseId ?? seededCaseId();
  const status = c.status ?? 'handling';
  const divisionCode = c.divisionCode ?? '370102';
  const view = {
    caseId,
    status,
    closure: c.closure ?? undefined,
    category: c.category ?? 'air',
    divisionCode,
    unitId: c.unitId ?? 'unit-1',
  };
  await pool.query(
    `INSERT INTO cases (case_id, status, closure, category, urgency, channel, division_code, title, description, owner_id, unit_id,
       policy_version, received_at, deadline_kind, deadline_at, reopen_count, closed_at, anonymous, view, last_seq)
     VALUES ($1, $2, $3, $4, 'normal', 'hotline', $5, $6, $7, 'clerk-1', $8, 'test', $9, $10, $11, $12, $13, $14, $15, 1)`,
    [
      caseId,
      status,
      c.closure ?? null,
      c.category ?? 'air',
      divisionCode,
      c.title ?? 'Black smoke',
      c.description ?? 'Black smoke at night.',
      c.unitId === undefined ? 'unit-1' : c.unitId,
      new Date(c.receivedAt),
      c.deadlineAt ? 'handle' : null,
      c.deadlineAt ? new Date(c.deadlineAt) : null,
      c.reopenCount ?? 0,
      c.closedAt ? new Date(c.closedAt) : null,
      c.reporter?.anonymous ?? true,
      JSON.stringify(view),
    ],
  );
  if (c.reporter) {
    const sealed = sealReporter(testReporterKeys, caseId, c.reporter);
    await pool.query(`INSERT INTO case_reporters (case_id, key_id, reporter_enc) VALUES ($1, $2, $3)`, [caseId, sealed.keyId, sealed.data]);
  }
  return caseId;
}

export async function seedEvent(pool: Pool, caseId: string, seq: number, type: string, at: number): Promise<void> {
  await pool.query(`INSERT INTO case_events (case_id, seq, type, at, actor_id, actor_role) VALUES ($1, $2, $3, $4, 'ecoloop', 'system')`, [
    caseId,
    seq,
    type,
    new Date(at),
  ]);
}

/** Poll until `read` gives a value `accept` takes (or fail after a while, naming what was awaited). */
export async function eventually<T>(read: () => Promise<T>, accept: (v: T) => boolean, what: string, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (accept(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(value)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
