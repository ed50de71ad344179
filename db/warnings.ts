import type { Pool, QueryResultRow } from 'pg';
import { iso } from '../domain/instant';
import { warningRecipients, type WarningKind } from '../domain/warning-window';
import { enqueueOutbox } from './outbox';
import { inTransaction } from './transaction';

/** The early-warnings repository: warnings raised by the watchers, their listing and their campaign link. */

export interface WarningRecord {
  warningId: string;
  kind: WarningKind;
  category: string;
  area: { kind: 'cell' | 'site'; key: string; label: string; lat?: number; lon?: number };
  divisionCodes: string[];
  threshold: number;
  rule: unknown;
  /** The count compared with the threshold, now. */
  measure: number;
  /** The complaint that crossed the threshold. */
  triggerCaseId: string;
  caseIds: string[];
  firstCaseAt: number;
  lastCaseAt: number;
  raisedAt: number;
  watcherId: string;
}

export interface WarningView {
  warningId: string;
  kind: WarningKind;
  category: string;
  area: { kind: 'cell' | 'site'; key: string; label: string; lat: number | null; lon: number | null };
  divisionCodes: string[];
  threshold: number;
  rule: unknown;
  peak: number;
  caseIds: string[];
  caseCount: number;
  firstCaseAt: string;
  lastCaseAt: string;
  raisedAt: string;
  updatedAt: string;
  campaignId: string | null;
}

/**
 * Store a warning, or add the complaints that joined its episode. Returns whether the row is new.
 * Keyed by the warning id: a retried call changes nothing more.
 */
export async function upsertWarning(db: Pick<Pool, 'query'>, w: WarningRecord): Promise<boolean> {
  const { rows } = await db.query<{ inserted: boolean }>(
    `INSERT INTO warnings (warning_id, kind, category, area_kind, area_key, area_label, lat, lon, division_codes, threshold,
       rule, peak, case_ids, first_case_at, last_case_at, raised_at, updated_at, watcher_id)
     VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$16,$17)
     ON CONFLICT (warning_id) DO UPDATE SET
       division_codes = ARRAY(SELECT DISTINCT d FROM unnest(warnings.division_codes || EXCLUDED.division_codes) d ORDER BY d),
       case_ids = ARRAY(SELECT DISTINCT c FROM unnest(warnings.case_ids || EXCLUDED.case_ids) c ORDER BY c),
       peak = greatest(warnings.peak, EXCLUDED.peak),
       first_case_at = least(warnings.first_case_at, EXCLUDED.first_case_at),
       last_case_at = greatest(warnings.last_case_at, EXCLUDED.last_case_at),
       updated_at = now()
     RETURNING (xmax = 0) AS inserted`,
    [
      w.warningId,
      w.kind,
      w.category,
      w.area.kind,
      w.area.key,
      w.area.label,
      w.area.lat ?? null,
      w.area.lon ?? null,
      [...new Set(w.divisionCodes)].sort(),
      w.threshold,
      JSON.stringify(w.rule),
      w.measure,
      [...new Set(w.caseIds)].sort(),
      iso(w.firstCaseAt),
      iso(w.lastCaseAt),
      iso(w.raisedAt),
      w.watcherId,
    ],
  );
  return rows[0].inserted;
}

/**
 * Store a warning (or add the complaints that joined its episode) and enqueue its notifications to
 * the divisions and the units handling its cases, in one transaction. Keyed by the warning id and
 * the recipient: retries notify no one twice. Returns whether the warning is new and who was notified now.
 */
export function recordWarning(pool: Pool, warning: WarningRecord): Promise<{ created: boolean; notified: string[] }> {
  return inTransaction(pool, async (client) => {
    const created = await upsertWarning(client, warning);
    const units = await client.query<{ unit_id: string }>(
      `SELECT DISTINCT unit_id FROM cases WHERE case_id = ANY($1) AND unit_id IS NOT NULL`,
      [warning.caseIds],
    );
    const recipients = warningRecipients(
      warning.divisionCodes,
      units.rows.map((r) => r.unit_id),
    );
    const payload = {
      warningId: warning.warningId,
      kind: warning.kind,
      category: warning.category,
      area: warning.area,
      threshold: warning.threshold,
      rule: warning.rule,
      measure: warning.measure,
      caseIds: warning.caseIds,
      raisedAt: new Date(warning.raisedAt).toISOString(),
    };
    const notified: string[] = [];
    for (const recipient of recipients) {
      const message = {
        idempotencyKey: `${warning.warningId}:${recipient}`,
        caseId: warning.triggerCaseId,
        eventSeq: 0,
        eventType: 'early_warning',
        recipient,
        payload,
      };
      if (await enqueueOutbox(client, message)) notified.push(recipient);
    }
    return { created, notified };
  });
}

function warningView(r: QueryResultRow): WarningView {
  return {
    warningId: r.warning_id,
    kind: r.kind,
    category: r.category,
    area: { kind: r.area_kind, key: r.area_key, label: r.area_label, lat: r.lat, lon: r.lon },
    divisionCodes: r.division_codes,
    threshold: r.threshold,
    rule: r.rule,
    peak: r.peak,
    caseIds: r.case_ids,
    caseCount: r.case_ids.length,
    firstCaseAt: r.first_case_at.toISOString(),
    lastCaseAt: r.last_case_at.toISOString(),
    raisedAt: r.raised_at.toISOString(),
    updatedAt: r.updated_at.toISOString(),
    campaignId: r.campaign_id,
  };
}

export interface WarningFilter {
  kind?: WarningKind;
  category?: string[];
  /** Division codes or prefixes; a warning matches when one of its divisions starts with one. */
  divisionPrefixes?: string[];
  raisedFrom?: string;
  raisedTo?: string;
  limit: number;
  offset: number;
}

export async function listWarnings(pool: Pool, f: WarningFilter): Promise<{ total: number; items: WarningView[] }> {
  const where: string[] = [];
  const params: unknown[] = [];
  const add = (sql: (p: string) => string, value: unknown) => {
    params.push(value);
    where.push(sql(`$${params.length}`));
  };
  if (f.kind) add((p) => `kind = ${p}`, f.kind);
  if (f.category?.length) add((p) => `category = ANY(${p})`, f.category);
  if (f.divisionPrefixes)
    add(
      (p) => `EXISTS (SELECT 1 FROM unnest(division_codes) d WHERE d LIKE ANY(${p}))`,
      f.divisionPrefixes.map((d) => `${d}%`),
    );
  if (f.raisedFrom) add((p) => `raised_at >= ${p}`, f.raisedFrom);
  if (f.raisedTo) add((p) => `raised_at < ${p}`, f.raisedTo);
  const clause = where.length ? `WHERE ${where.join(' AND ')}` : '';
  const total = await pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM warnings ${clause}`, params);
  const { rows } = await pool.query(
    `SELECT * FROM warnings ${clause} ORDER BY raised_at DESC, warning_id DESC LIMIT ${f.limit} OFFSET ${f.offset}`,
    params,
  );
  return { total: total.rows[0].n, items: rows.map(warningView) };
}

export async function getWarning(pool: Pool, warningId: string): Promise<WarningView | undefined> {
  const { rows } = await pool.query(`SELECT * FROM warnings WHERE warning_id = $1`, [warningId]);
  return rows[0] && warningView(rows[0]);
}

/** Link a warning to the campaign it started; the first link wins. Returns the campaign now linked. */
export async function linkWarningCampaign(pool: Pool, warningId: string, campaignId: string): Promise<string | undefined> {
  const { rows } = await pool.query<{ campaign_id: string }>(
    `UPDATE warnings SET campaign_id = coalesce(campaign_id, $2), updated_at = now() WHERE warning_id = $1 RETURNING campaign_id`,
    [warningId, campaignId],
  );
  return rows[0]?.campaign_id;
}
