import type { Pool } from 'pg';
import type { CaseView, Reporter } from '../domain/case';
import type { KeyRing } from './key-ring';
import { reporterOf, type ReporterRow } from './reporters';

/** Reads of the case projection. */

export interface CaseRecord {
  view: CaseView;
  unitId: string | null;
  divisionCode: string;
  reporterConsent: boolean;
  description: string;
  location: { lat: number | null; lon: number | null; siteId: string | null };
}

export async function getCase(pool: Pool, caseId: string): Promise<CaseRecord | undefined> {
  const { rows } = await pool.query(
    `SELECT view, unit_id, division_code, reporter_consent, description, lat, lon, site_id FROM cases WHERE case_id = $1`,
    [caseId],
  );
  const r = rows[0];
  if (!r) return undefined;
  return {
    view: r.view,
    unitId: r.unit_id,
    divisionCode: r.division_code,
    reporterConsent: r.reporter_consent,
    description: r.description,
    location: { lat: r.lat, lon: r.lon, siteId: r.site_id },
  };
}

export interface TimelineEntry {
  seq: number;
  type: string;
  at: string;
  actor: { id: string; role: string };
  reason: string | null;
  deadlineAt: string | null;
  data: Record<string, unknown> | null;
}

export async function getTimeline(pool: Pool, caseId: string): Promise<TimelineEntry[]> {
  const { rows } = await pool.query(
    `SELECT seq, type, at, actor_id, actor_role, reason, deadline_at, data FROM case_events WHERE case_id = $1 ORDER BY seq`,
    [caseId],
  );
  return rows.map((r) => ({
    seq: r.seq,
    type: r.type,
    at: r.at.toISOString(),
    actor: { id: r.actor_id, role: r.actor_role },
    reason: r.reason,
    deadlineAt: r.deadline_at?.toISOString() ?? null,
    data: r.data,
  }));
}

/** The reporter's identity, decrypted. Call it only for a principal allowed to see it (api/auth.ts canSeeReporter). */
export async function getReporter(pool: Pool, keyRing: KeyRing, caseId: string): Promise<Reporter | undefined> {
  const { rows } = await pool.query<ReporterRow>(
    `SELECT key_id, reporter_enc, legacy_reporter FROM case_reporters WHERE case_id = $1`,
    [caseId],
  );
  return rows[0] && reporterOf(keyRing, caseId, rows[0]);
}

export interface CaseFilter {
  status?: string[];
  category?: string[];
  divisionPrefixes?: string[];
  unitId?: string;
  overdue?: boolean;
  receivedFrom?: string;
  receivedTo?: string;
  q?: string;
  limit: number;
  offset: number;
}

export async function listCases(pool: Pool, f: CaseFilter): Promise<{ total: number; items: CaseView[] }> {
  const where: string[] = [];
  const params: unknown[] = [];
  const add = (sql: (p: string) => string, value: unknown) => {
    params.push(value);
    where.push(sql(`$${params.length}`));
  };
  if (f.status?.length) add((p) => `status = ANY(${p})`, f.status);
  if (f.category?.length) add((p) => `category = ANY(${p})`, f.category);
  if (f.divisionPrefixes) add((p) => `division_code LIKE ANY(${p})`, f.divisionPrefixes.map((d) => `${d}%`));
  if (f.unitId) add((p) => `unit_id = ${p}`, f.unitId);
  if (f.overdue !== undefined) add((p) => `(deadline_at IS NOT NULL AND deadline_at < now()) = ${p}`, f.overdue);
  if (f.receivedFrom) add((p) => `received_at >= ${p}`, f.receivedFrom);
  if (f.receivedTo) add((p) => `received_at < ${p}`, f.receivedTo);
  if (f.q) add((p) => `(title ILIKE ${p} OR description ILIKE ${p} OR case_id ILIKE ${p})`, `%${f.q.replace(/[%_\\]/g, '\\$&')}%`);
  const clause = where.length ? `WHERE ${where.join(' AND ')}` : '';
  const total = await pool.query<{ n: string }>(`SELECT count(*) AS n FROM cases ${clause}`, params);
  const items = await pool.query<{ view: CaseView }>(
    `SELECT view FROM cases ${clause} ORDER BY received_at DESC, case_id DESC LIMIT ${f.limit} OFFSET ${f.offset}`,
    params,
  );
  return { total: Number(total.rows[0].n), items: items.rows.map((r) => r.view) };
}
