import { Router, type RequestHandler } from 'express';
import { rateLimit } from 'express-rate-limit';
import { z } from 'zod';
import type { Pool } from 'pg';
import * as c from '../../domain/case';
import { categories, categorySchema, urgencySchema } from '../../domain/policy';
import { tooManyRequests } from '../problem';
import { csvOf, mountRoutes, route, type Route } from '../validate';

/**
 * The public, redacted feed of key cases' handling status, for daily disclosure ("key cases'
 * handling status is published daily"). No token; rate limited per client address.
 *
 * A key case is one that is urgent, escalated (supervision, city or provincial level), reopened,
 * or past its running deadline; cases merged into another are left out (the other one is shown).
 *
 * Redaction: only the case number, category, division, status, outcome, escalation, the handling
 * unit (a public body), and the dates and deadlines are published. Nothing about the reporter,
 * and no free text: neither the description nor the title (a clerk's title often names a person,
 * a shop or a street number), nor reasons, notes or replies.
 */

export interface PublicRoutesDeps {
  pool: Pool;
  jwtSecret: string;
  /** Requests per minute from one address (runtime/config.ts PUBLIC_RATE_LIMIT_PER_MINUTE). */
  rateLimitPerMinute: number;
}

export const publicFeedQuery = z.strictObject({
  division: z.string().regex(/^\d{2,6}$/).optional().describe('division code or prefix (2 to 6 digits)'),
  category: csvOf(categories).optional(),
  /** Cases changed since then: a daily publication asks for the last day. */
  updatedSince: z.iso.datetime({ offset: true }).optional().describe('only cases whose status changed since then'),
  page: z.coerce.number().int().min(1).max(10_000).default(1),
  pageSize: z.coerce.number().int().min(1).max(200).default(50),
});

const isoTime = z.iso.datetime({ offset: true });
export const publicCaseSchema = z.object({
  caseId: z.string(),
  category: categorySchema,
  urgency: urgencySchema,
  divisionCode: z.string(),
  status: z.enum(c.caseStatuses),
  outcome: z.enum(c.closures).nullable().describe('how the case was closed, once it is'),
  escalation: z.enum(c.escalationLevels),
  handlingUnit: z.string().nullable(),
  reopened: z.number().int(),
  receivedAt: isoTime,
  acceptedAt: isoTime.nullable(),
  closedAt: isoTime.nullable(),
  deadline: z.object({ kind: z.string(), dueAt: isoTime, overdue: z.boolean() }).nullable(),
  updatedAt: isoTime,
});
export type PublicCase = z.infer<typeof publicCaseSchema>;
const publicPageSchema = z.object({ page: z.number().int(), pageSize: z.number().int(), total: z.number().int(), items: z.array(publicCaseSchema) });

/** The selection of key cases, as SQL over the `cases` projection. */
const KEY_CASE = `merged_into IS NULL AND (urgency = 'urgent' OR escalation_level > 0 OR reopen_count > 0
  OR (deadline_at IS NOT NULL AND deadline_at < now()))`;

interface PublicRow {
  case_id: string;
  category: PublicCase['category'];
  urgency: PublicCase['urgency'];
  division_code: string;
  status: PublicCase['status'];
  closure: PublicCase['outcome'];
  escalation_level: number;
  unit_id: string | null;
  reopen_count: number;
  received_at: Date;
  accepted_at: Date | null;
  closed_at: Date | null;
  deadline_kind: string | null;
  deadline_at: Date | null;
  updated_at: Date;
}

/** Only the columns that may be published are read at all. */
async function listKeyCases(pool: Pool, q: z.infer<typeof publicFeedQuery>): Promise<{ total: number; items: PublicCase[] }> {
  const where = [KEY_CASE];
  const params: unknown[] = [];
  const add = (sql: (p: string) => string, value: unknown) => {
    params.push(value);
    where.push(sql(`$${params.length}`));
  };
  if (q.division) add((p) => `division_code LIKE ${p}`, `${q.division}%`);
  if (q.category?.length) add((p) => `category = ANY(${p})`, q.category);
  if (q.updatedSince) add((p) => `updated_at >= ${p}`, q.updatedSince);
  const clause = `WHERE ${where.join(' AND ')}`;
  const total = await pool.query<{ n: string }>(`SELECT count(*) AS n FROM cases ${clause}`, params);
  params.push(q.pageSize, (q.page - 1) * q.pageSize);
  const { rows } = await pool.query<PublicRow>(
    `SELECT case_id, category, urgency, division_code, status, closure, escalation_level, unit_id, reopen_count,
            received_at, accepted_at, closed_at, deadline_kind, deadline_at, updated_at
       FROM cases ${clause}
      ORDER BY received_at DESC, case_id DESC
      LIMIT $${params.length - 1} OFFSET $${params.length}`,
    params,
  );
  const now = Date.now();
  return {
    total: Number(total.rows[0].n),
    items: rows.map((r) => ({
      caseId: r.case_id,
      category: r.category,
      urgency: r.urgency,
      divisionCode: r.division_code,
      status: r.status,
      outcome: r.closure,
      escalation: c.escalationLevels[Math.min(r.escalation_level, c.MAX_ESCALATION_LEVEL)],
      handlingUnit: r.unit_id,
      reopened: r.reopen_count,
      receivedAt: r.received_at.toISOString(),
      acceptedAt: r.accepted_at?.toISOString() ?? null,
      closedAt: r.closed_at?.toISOString() ?? null,
      deadline:
        r.deadline_kind && r.deadline_at
          ? { kind: r.deadline_kind, dueAt: r.deadline_at.toISOString(), overdue: r.deadline_at.getTime() < now }
          : null,
      updatedAt: r.updated_at.toISOString(),
    })),
  };
}

export const publicRouteTable: Route<PublicRoutesDeps>[] = [
  route(
    {
      operationId: 'listPublicCases',
      method: 'get',
      path: '/v1/public/cases',
      tag: 'public',
      summary: "Key cases' handling status, redacted, for public disclosure",
      description:
        'No token. Key cases: urgent, escalated, reopened, or past their deadline. No personal data and no free text (no title, description, reasons or replies). Rate limited per client address (429 with Retry-After).',
      access: 'public',
      query: publicFeedQuery,
      response: { status: 200, description: 'One page of key cases', schema: publicPageSchema },
      problems: [400, 429, 503],
    },
    async (deps, { query }, _req, res) => {
      const result = await listKeyCases(deps.pool, query);
      res.set('Cache-Control', 'public, max-age=60').json({ page: query.page, pageSize: query.pageSize, ...result });
    },
  ),
];

export function publicRoutes(deps: PublicRoutesDeps): Router {
  const router = Router();
  const limiter: RequestHandler = rateLimit({
    windowMs: 60_000,
    limit: deps.rateLimitPerMinute,
    standardHeaders: 'draft-8',
    legacyHeaders: false,
    handler: (_req, _res, next) => next(tooManyRequests(`At most ${deps.rateLimitPerMinute} requests a minute; see Retry-After.`)),
  });
  mountRoutes(router, publicRouteTable, deps, { jwtSecret: deps.jwtSecret, before: () => [limiter] });
  return router;
}
