import { WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError, type Client } from '@temporalio/client';
import { heartbeat } from '@temporalio/activity';
import type { Pool, PoolClient } from 'pg';
import { backlogWorkflowId, type BacklogSettings, type CampaignCriteria, type DeadlineTightening, type Leader } from '../domain/governance';
import { workflowIdFor } from '../domain/case';
import type { backlogCaseWorkflow } from '../workflows/backlog';
import { tightenDeadlineSignal } from '../workflows/contracts/complaint';
import type { ActivityDeps } from './index';
import { DevPaymentGateway, payReward, type PayRewardInput } from './payments';

/**
 * Backlog and campaign I/O: the sweeps that list backlog from the case projection, the backlog
 * milestones (with their notifications, through the outbox), and the campaign's tagging,
 * tightening and before/after counts. Every write is keyed, so a retried activity changes nothing
 * twice.
 */

/** Rewards, backlog and campaigns, bound to their dependencies (spread into activities/index.ts createActivities). */
export function governanceActivities(pool: Pool, deps: ActivityDeps) {
  const gateway = deps.paymentGateway ?? new DevPaymentGateway(pool);
  return {
    payReward: (input: PayRewardInput) => payReward(pool, gateway, deps.keyRing, input),
    sweepBacklog: (input: BacklogSweepInput) => sweepBacklog(pool, input),
    startBacklogWorkflows: (input: Parameters<typeof startBacklogWorkflows>[2]) => startBacklogWorkflows(pool, deps.client, input),
    checkBacklogListing: (input: { caseId: string; year: number }) => checkBacklogListing(pool, input),
    recordBacklogMilestone: (input: Parameters<typeof recordBacklogMilestone>[1]) => recordBacklogMilestone(pool, input),
    saveCampaign: (record: CampaignRecord) => saveCampaign(pool, record),
    tagCampaignCases: (input: Parameters<typeof tagCampaignCases>[1]) => tagCampaignCases(pool, input),
    tightenCampaignCases: (input: Parameters<typeof tightenCampaignCases>[2]) => tightenCampaignCases(pool, deps.client, input),
    compareComplaintVolume: (input: Parameters<typeof compareComplaintVolume>[1]) => compareComplaintVolume(pool, input),
  };
}

const ACTIVE = `('listed', 'assigned', 'overdue')`;
const FINISHED_CASE = `('closed', 'archived')`;

async function inTransaction<T>(pool: Pool, work: (c: PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}

// ---- Backlog ----

export interface BacklogSweepInput {
  /** The sweep's workflow id: one record per sweep, however often the activity is retried. */
  sweepId: string;
  kind: 'scan' | 'yearly';
  now: number;
  year: number;
  settings: BacklogSettings;
}

export interface BacklogSweepResult {
  year: number;
  listed: number;
  relisted: number;
  agedOut: number;
}

/**
 * List backlog from the projection. Every sweep lists the open cases that have become backlog
 * (overdue past the threshold, reopened often enough, or taken to the provincial step) and have no
 * active listing. The yearly sort first re-sorts the earlier years' active listings: those whose
 * case closed are cleared, those received within the re-sort window are re-listed for `year` (to be
 * assigned anew), the older ones are set aside (`aged_out`).
 */
export async function sweepBacklog(pool: Pool, input: BacklogSweepInput): Promise<BacklogSweepResult> {
  const { backlog } = input.settings;
  const now = new Date(input.now);
  return inTransaction(pool, async (c) => {
    const claimed = await c.query(
      `INSERT INTO backlog_sweeps (sweep_id, kind, list_year, ran_at, listed, relisted, aged_out)
       VALUES ($1, $2, $3, $4, 0, 0, 0) ON CONFLICT (sweep_id) DO NOTHING RETURNING sweep_id`,
      [input.sweepId, input.kind, input.year, now],
    );
    if (!claimed.rows[0]) {
      const { rows } = await c.query(`SELECT list_year, listed, relisted, aged_out FROM backlog_sweeps WHERE sweep_id = $1`, [input.sweepId]);
      return { year: rows[0].list_year, listed: rows[0].listed, relisted: rows[0].relisted, agedOut: rows[0].aged_out };
    }
    let relisted = 0;
    let agedOut = 0;
    if (input.kind === 'yearly') {
      await c.query(
        `UPDATE backlog_cases b SET status = 'cleared', cleared_at = COALESCE(k.closed_at, $2), updated_at = now()
           FROM cases k
          WHERE k.case_id = b.case_id AND b.list_year < $1 AND b.status IN ${ACTIVE} AND k.status IN ${FINISHED_CASE}`,
        [input.year, now],
      );
      const cutoff = new Date(now);
      cutoff.setUTCFullYear(cutoff.getUTCFullYear() - backlog.resortWindowYears);
      const aged = await c.query(
        `UPDATE backlog_cases SET status = 'aged_out', updated_at = now()
          WHERE list_year < $1 AND status IN ${ACTIVE} AND received_at <= $2`,
        [input.year, cutoff],
      );
      agedOut = aged.rowCount ?? 0;
      // Two statements, not one: the old listing must stop being active before the new one is inserted.
      const old = await c.query<{ case_id: string; list_year: number; reasons: string[]; division_code: string; category: string; received_at: Date }>(
        `UPDATE backlog_cases SET status = 'relisted', updated_at = now()
          WHERE list_year < $1 AND status IN ${ACTIVE}
         RETURNING case_id, list_year, reasons, division_code, category, received_at`,
        [input.year],
      );
      for (const o of old.rows) {
        const inserted = await c.query(
          `INSERT INTO backlog_cases (case_id, list_year, reasons, division_code, category, received_at, listed_at, previous_year)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING`,
          [o.case_id, input.year, o.reasons, o.division_code, o.category, o.received_at, now, o.list_year],
        );
        relisted += inserted.rowCount ?? 0;
      }
    }
    const overdueCutoff = new Date(input.now - backlog.overdueDays * 86_400_000);
    const listed = await c.query(
      `INSERT INTO backlog_cases (case_id, list_year, reasons, division_code, category, received_at, listed_at)
       SELECT k.case_id, $1, r.reasons, k.division_code, k.category, k.received_at, $2
         FROM cases k
         CROSS JOIN LATERAL (SELECT array_remove(ARRAY[
             CASE WHEN k.deadline_at < $3 THEN 'overdue' END,
             CASE WHEN k.reopen_count >= $4 THEN 'reopened' END,
             CASE WHEN $5 AND EXISTS (SELECT 1 FROM case_events e WHERE e.case_id = k.case_id AND e.type = 'backlog_listed')
                  THEN 'provincial_escalation' END], NULL) AS reasons) r
        WHERE k.status NOT IN ${FINISHED_CASE}
          AND cardinality(r.reasons) > 0
          AND NOT EXISTS (SELECT 1 FROM backlog_cases b
                           WHERE b.case_id = k.case_id AND (b.list_year = $1 OR b.status IN ${ACTIVE}))
       ON CONFLICT DO NOTHING RETURNING case_id`,
      [input.year, now, overdueCutoff, backlog.reopenedAtLeast, backlog.includeProvincialEscalations],
    );
    const result = { year: input.year, listed: listed.rowCount ?? 0, relisted, agedOut };
    await c.query(`UPDATE backlog_sweeps SET listed = $2, relisted = $3, aged_out = $4 WHERE sweep_id = $1`, [
      input.sweepId, result.listed, result.relisted, result.agedOut,
    ]);
    return result;
  });
}

/**
 * Start the workflow of every active listing that has none yet (`backlog-<case>-<year>`; one that
 * is already running counts as started). Driven by the table, so a retry after a crash starts what
 * the first attempt did not.
 */
export async function startBacklogWorkflows(
  pool: Pool,
  client: Client | undefined,
  input: { taskQueue: string; settings: BacklogSettings; batchSize: number },
): Promise<number> {
  if (!client) throw new Error('startBacklogWorkflows needs a Temporal client (ActivityDeps.client)');
  let started = 0;
  for (;;) {
    const { rows } = await pool.query<{ case_id: string; list_year: number }>(
      `SELECT case_id, list_year FROM backlog_cases WHERE workflow_started_at IS NULL AND status IN ${ACTIVE}
        ORDER BY listed_at, case_id LIMIT $1`,
      [input.batchSize],
    );
    for (const row of rows) {
      try {
        await client.workflow.start<typeof backlogCaseWorkflow>('backlogCaseWorkflow', {
          taskQueue: input.taskQueue,
          workflowId: backlogWorkflowId(row.case_id, row.list_year),
          args: [{ caseId: row.case_id, year: row.list_year, settings: input.settings }],
        });
      } catch (err) {
        if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
      }
      await pool.query(`UPDATE backlog_cases SET workflow_started_at = now() WHERE case_id = $1 AND list_year = $2`, [row.case_id, row.list_year]);
      started++;
      heartbeat(started);
    }
    if (rows.length < input.batchSize) return started;
  }
}

export interface BacklogListingState {
  /** The listing's status in the table (`relisted` / `aged_out`: a yearly sort took it over). */
  listing: string;
  /** The case's status in the projection. */
  caseStatus: string;
  closedAt?: number;
}

export async function checkBacklogListing(pool: Pool, input: { caseId: string; year: number }): Promise<BacklogListingState> {
  const { rows } = await pool.query<{ status: string; case_status: string; closed_at: Date | null }>(
    `SELECT b.status, k.status AS case_status, k.closed_at
       FROM backlog_cases b JOIN cases k ON k.case_id = b.case_id
      WHERE b.case_id = $1 AND b.list_year = $2`,
    [input.caseId, input.year],
  );
  const row = rows[0];
  if (!row) throw new Error(`no backlog listing ${input.caseId} for ${input.year}`);
  return { listing: row.status, caseStatus: row.case_status, closedAt: row.closed_at?.getTime() };
}

export type BacklogMilestone =
  | { kind: 'assigned'; version: number; systemLeader: Leader; territorialLeader: Leader; assignedBy: string; clearingDueAt: number }
  | { kind: 'assignment_reminder' }
  | { kind: 'clearing_reminder'; version: number; clearingDueAt: number }
  | { kind: 'overdue'; version: number; clearingDueAt: number }
  | { kind: 'cleared' };

/**
 * Record a milestone of a backlog listing in its row, and queue the notifications it causes in the
 * outbox (keyed by case, year, milestone and assignment version: a retry queues nothing twice).
 * A listing already cleared, re-listed or set aside is not moved back.
 */
export async function recordBacklogMilestone(
  pool: Pool,
  input: { caseId: string; year: number; at: number; milestone: BacklogMilestone },
): Promise<void> {
  const { caseId, year, milestone: m } = input;
  const at = new Date(input.at);
  await inTransaction(pool, async (c) => {
    const { rows } = await c.query<{ division_code: string; system_leader: Leader | null; territorial_leader: Leader | null }>(
      `SELECT division_code, system_leader, territorial_leader FROM backlog_cases WHERE case_id = $1 AND list_year = $2 FOR UPDATE`,
      [caseId, year],
    );
    const row = rows[0];
    if (!row) throw new Error(`no backlog listing ${caseId} for ${year}`);
    const live = `case_id = $1 AND list_year = $2 AND status IN ${ACTIVE}`;
    let recipients: string[] = [];
    let key: string = m.kind;
    const supervisor = `supervisor:${row.division_code}`;
    const leadersOf = (a: Leader | null, b: Leader | null) => [a, b].filter((l): l is Leader => !!l).map((l) => `leader:${l.id}`);
    switch (m.kind) {
      case 'assigned':
        await c.query(
          `UPDATE backlog_cases SET status = 'assigned', system_leader = $3, territorial_leader = $4, assigned_by = $5,
                  assigned_at = $6, clearing_due_at = $7, reminded_at = NULL, overdue_at = NULL, updated_at = now()
            WHERE ${live}`,
          [caseId, year, JSON.stringify(m.systemLeader), JSON.stringify(m.territorialLeader), m.assignedBy, at, new Date(m.clearingDueAt)],
        );
        recipients = [...leadersOf(m.systemLeader, m.territorialLeader), supervisor];
        key = `assigned:${m.version}`;
        break;
      case 'assignment_reminder':
        await c.query(`UPDATE backlog_cases SET assignment_reminded_at = $3, updated_at = now() WHERE ${live}`, [caseId, year, at]);
        recipients = [supervisor];
        break;
      case 'clearing_reminder':
        await c.query(`UPDATE backlog_cases SET reminded_at = $3, updated_at = now() WHERE ${live}`, [caseId, year, at]);
        recipients = leadersOf(row.system_leader, row.territorial_leader);
        key = `clearing_reminder:${m.version}`;
        break;
      case 'overdue':
        await c.query(`UPDATE backlog_cases SET status = 'overdue', overdue_at = $3, updated_at = now() WHERE ${live}`, [caseId, year, at]);
        recipients = [...leadersOf(row.system_leader, row.territorial_leader), supervisor, `provincial-inspection:${row.division_code}`];
        key = `overdue:${m.version}`;
        break;
      case 'cleared':
        await c.query(`UPDATE backlog_cases SET status = 'cleared', cleared_at = $3, updated_at = now() WHERE ${live}`, [caseId, year, at]);
        recipients = [...leadersOf(row.system_leader, row.territorial_leader), supervisor];
        break;
    }
    for (const recipient of recipients) {
      await c.query(
        `INSERT INTO outbox (idempotency_key, case_id, event_seq, event_type, recipient, payload)
         VALUES ($1, $2, 0, $3, $4, $5) ON CONFLICT (idempotency_key) DO NOTHING`,
        [
          `backlog:${caseId}:${year}:${key}:${recipient}`, caseId, `backlog_${m.kind}`, recipient,
          JSON.stringify({ caseId, listYear: year, type: `backlog_${m.kind}`, at: at.toISOString(),
            ...('clearingDueAt' in m && { clearingDueAt: new Date(m.clearingDueAt).toISOString() }) }),
        ],
      );
    }
  });
}

// ---- Campaigns ----

export interface CampaignRecord {
  campaignId: string;
  name: string;
  criteria: CampaignCriteria;
  period: { from: number; to: number };
  status: 'running' | 'paused' | 'finished';
  startedBy: string;
  startedAt: number;
  tagged: number;
  tightened: number;
  result?: unknown;
}

/** Upsert the campaign's row (its definition, status, counts and, at the end, its result). */
export async function saveCampaign(pool: Pool, r: CampaignRecord): Promise<void> {
  await pool.query(
    `INSERT INTO campaigns (campaign_id, name, criteria, period_from, period_to, status, started_by, started_at, tagged, tightened, result, finished_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, CASE WHEN $6 = 'finished' THEN now() END)
     ON CONFLICT (campaign_id) DO UPDATE SET status = EXCLUDED.status, tagged = EXCLUDED.tagged, tightened = EXCLUDED.tightened,
       result = COALESCE(EXCLUDED.result, campaigns.result), finished_at = COALESCE(campaigns.finished_at, EXCLUDED.finished_at),
       updated_at = now()`,
    [
      r.campaignId, r.name, JSON.stringify(r.criteria), new Date(r.period.from), new Date(r.period.to), r.status, r.startedBy,
      new Date(r.startedAt), r.tagged, r.tightened, r.result === undefined ? null : JSON.stringify(r.result),
    ],
  );
}

/** The SQL condition "case k matches the criteria", with its parameters numbered from `first`. */
function matching(criteria: CampaignCriteria, first: number): { sql: string; params: unknown[] } {
  const patterns = criteria.keywords.map((k) => `%${k.replace(/[%_\\]/g, '\\$&')}%`);
  return {
    sql: `k.category = ANY($${first}) AND k.division_code LIKE ANY($${first + 1})
          AND (cardinality($${first + 2}::text[]) = 0 OR k.title ILIKE ANY($${first + 2}) OR k.description ILIKE ANY($${first + 2}))`,
    params: [criteria.categories, criteria.divisions.map((d) => `${d}%`), patterns],
  };
}

/**
 * Tag the open cases that match the campaign and are not tagged yet ('open' if they were open when
 * it started, 'new' if received since). Returns how many cases the campaign has tagged in all.
 */
export async function tagCampaignCases(
  pool: Pool,
  input: { campaignId: string; criteria: CampaignCriteria; startedAt: number; now: number; batchSize: number },
): Promise<number> {
  const m = matching(input.criteria, 5);
  for (;;) {
    const { rowCount } = await pool.query(
      `INSERT INTO campaign_cases (campaign_id, case_id, matched_as, tagged_at)
       SELECT $1, k.case_id, CASE WHEN k.received_at < $2 THEN 'open' ELSE 'new' END, $3
         FROM cases k
        WHERE k.status NOT IN ${FINISHED_CASE} AND ${m.sql}
          AND NOT EXISTS (SELECT 1 FROM campaign_cases x WHERE x.campaign_id = $1 AND x.case_id = k.case_id)
        ORDER BY k.received_at, k.case_id
        LIMIT $4
       ON CONFLICT DO NOTHING`,
      [input.campaignId, new Date(input.startedAt), new Date(input.now), input.batchSize, ...m.params],
    );
    heartbeat();
    if ((rowCount ?? 0) < input.batchSize) break;
  }
  const { rows } = await pool.query<{ n: string }>(`SELECT count(*) AS n FROM campaign_cases WHERE campaign_id = $1`, [input.campaignId]);
  return Number(rows[0].n);
}

/**
 * Send the tightening to every tagged case that is being handled (a handle or rework deadline runs)
 * and has not had this tightening yet; the complaint workflow applies a key once. Returns how many
 * tagged cases have had a tightening in all.
 */
export async function tightenCampaignCases(
  pool: Pool,
  client: Client | undefined,
  input: { tightening: DeadlineTightening; batchSize: number },
): Promise<number> {
  if (!client) throw new Error('tightenCampaignCases needs a Temporal client (ActivityDeps.client)');
  const t = input.tightening;
  for (;;) {
    const { rows } = await pool.query<{ case_id: string }>(
      `SELECT x.case_id FROM campaign_cases x JOIN cases k ON k.case_id = x.case_id
        WHERE x.campaign_id = $1 AND x.tightened_key IS DISTINCT FROM $2
          AND k.status = 'handling' AND k.deadline_kind IN ('handle', 'rework')
        ORDER BY x.case_id LIMIT $3`,
      [t.campaignId, t.key, input.batchSize],
    );
    for (const row of rows) {
      try {
        await client.workflow.getHandle(workflowIdFor(row.case_id)).signal(tightenDeadlineSignal, t);
      } catch (err) {
        if (!(err instanceof WorkflowNotFoundError)) throw err;
      }
      await pool.query(`UPDATE campaign_cases SET tightened_key = $3, tightened_at = now() WHERE campaign_id = $1 AND case_id = $2`, [
        t.campaignId, row.case_id, t.key,
      ]);
      heartbeat();
    }
    if (rows.length < input.batchSize) break;
  }
  const { rows } = await pool.query<{ n: string }>(
    `SELECT count(*) AS n FROM campaign_cases WHERE campaign_id = $1 AND tightened_key IS NOT NULL`,
    [t.campaignId],
  );
  return Number(rows[0].n);
}

export interface VolumeComparison {
  before: { from: number; to: number; count: number };
  during: { from: number; to: number; count: number };
}

/** How many matching complaints were received in each window (every complaint counts, whatever became of it). */
export async function compareComplaintVolume(
  pool: Pool,
  input: { criteria: CampaignCriteria; before: { from: number; to: number }; during: { from: number; to: number } },
): Promise<VolumeComparison> {
  const m = matching(input.criteria, 5);
  const { rows } = await pool.query<{ before: string; during: string }>(
    `SELECT count(*) FILTER (WHERE k.received_at >= $1 AND k.received_at < $2) AS before,
            count(*) FILTER (WHERE k.received_at >= $3 AND k.received_at < $4) AS during
       FROM cases k WHERE ${m.sql}`,
    [new Date(input.before.from), new Date(input.before.to), new Date(input.during.from), new Date(input.during.to), ...m.params],
  );
  return {
    before: { ...input.before, count: Number(rows[0].before) },
    during: { ...input.during, count: Number(rows[0].during) },
  };
}
