import type { PoolClient } from 'pg';
import { caseStatuses, MAX_ESCALATION_LEVEL, type CaseStatus } from '../domain/case';

/**
 * What the worker's metrics endpoint (worker/metrics.ts) reads on each scrape: the open cases,
 * the overdue ones by escalation level, the outbox backlog and the projection's dead letters. Aggregates only: each query is one
 * index or sequential scan of a table, with no row leaving the database.
 */

type Queryable = Pick<PoolClient, 'query'>;

/** Statuses in which a case is finished with (the other statuses count as open). */
const FINISHED_STATUSES: readonly CaseStatus[] = ['closed', 'archived'];
export const OPEN_STATUSES: readonly CaseStatus[] = caseStatuses.filter((s) => !FINISHED_STATUSES.includes(s));

export interface OperationalGauges {
  /** Open cases by status: every open status, 0 included. */
  openCasesByStatus: Record<string, number>;
  /** Open cases whose running deadline has passed, by escalation level (0 to MAX_ESCALATION_LEVEL, 0 included). */
  overdueCasesByLevel: Record<number, number>;
  /** Outbox messages not delivered yet, due or waiting for their next attempt. */
  outboxBacklog: number;
  /** Age in seconds of the oldest of them; 0 when there is none. */
  outboxOldestAgeSeconds: number;
  /** Projection dead letters not replayed yet (table `projection_dead_letters`): events the read model refused. */
  projectionDeadLetters: number;
}

/**
 * Read every gauge at once. Overdue means what the case list's `overdue=true` filter means
 * (db/cases.ts): an open case whose deadline is in the past, whether or not its workflow has
 * escalated it yet.
 */
export async function readOperationalGauges(db: Queryable): Promise<OperationalGauges> {
  const finished = [...FINISHED_STATUSES];
  const [open, overdue, outbox, deadLetters] = await Promise.all([
    db.query<{ status: string; n: string }>('SELECT status, count(*) AS n FROM cases WHERE status <> ALL($1::text[]) GROUP BY status', [
      finished,
    ]),
    db.query<{ level: number; n: string }>(
      `SELECT escalation_level AS level, count(*) AS n FROM cases
        WHERE status <> ALL($1::text[]) AND deadline_at IS NOT NULL AND deadline_at < now()
        GROUP BY escalation_level`,
      [finished],
    ),
    db.query<{ n: string; oldest_age: number | null }>(
      `SELECT count(*) AS n, extract(epoch FROM now() - min(created_at))::float8 AS oldest_age
         FROM outbox WHERE delivered_at IS NULL`,
    ),
    db.query<{ n: string }>('SELECT count(*) AS n FROM projection_dead_letters WHERE replayed_at IS NULL'),
  ]);
  const openCasesByStatus: Record<string, number> = Object.fromEntries(OPEN_STATUSES.map((s) => [s, 0]));
  for (const r of open.rows) openCasesByStatus[r.status] = Number(r.n);
  const overdueCasesByLevel: Record<number, number> = {};
  for (let level = 0; level <= MAX_ESCALATION_LEVEL; level++) overdueCasesByLevel[level] = 0;
  for (const r of overdue.rows) overdueCasesByLevel[r.level] = Number(r.n);
  return {
    openCasesByStatus,
    overdueCasesByLevel,
    outboxBacklog: Number(outbox.rows[0].n),
    outboxOldestAgeSeconds: Math.max(0, outbox.rows[0].oldest_age ?? 0),
    projectionDeadLetters: Number(deadLetters.rows[0].n),
  };
}
