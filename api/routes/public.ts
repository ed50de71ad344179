import { Router, type RequestHandler } from 'express';
import { rateLimit } from 'express-rate-limit';
import { z } from 'zod';
import type { Pool } from 'pg';
import * as c from '../../domain/case';
import { categories } from '../../domain/policy';
import { categorySchema, urgencySchema } from '../../domain/schemas/policy';
import { listKeyCases, type KeyCase } from '../../db/public-feed';
import { instantField, isoTime, pageAnswer, pageSchema, pageWindow } from '../fields';
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
  division: z
    .string()
    .regex(/^\d{2,6}$/)
    .optional()
    .describe('division code or prefix (2 to 6 digits)'),
  category: csvOf(categories).optional(),
  /** Cases changed since then: a daily publication asks for the last day. */
  updatedSince: instantField.optional().describe('only cases whose status changed since then'),
  page: z.coerce.number().int().min(1).max(10_000).default(1),
  pageSize: z.coerce.number().int().min(1).max(200).default(50),
});

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
// The schema describes what the feed publishes: this fails to compile when they drift apart.
const _keyCaseFitsSchema = (k: KeyCase): z.input<typeof publicCaseSchema> => k;
void _keyCaseFitsSchema;
const publicPageSchema = pageSchema(publicCaseSchema);

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
      const result = await listKeyCases(deps.pool, {
        division: query.division,
        categories: query.category,
        updatedSince: query.updatedSince,
        ...pageWindow(query),
      });
      res.set('Cache-Control', 'public, max-age=60').json(pageAnswer(query, result.items, result.total));
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
