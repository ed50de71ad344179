import { z } from 'zod';

/**
 * The request and answer fields that several route tables share, defined once. Route modules
 * import these rather than writing their own copies.
 */

/** A case number, as the path and bodies carry it. */
export const caseIdField = z.string().regex(/^EC-\d{4}-\d{7}$/, 'a case number like EC-2026-0000001');

/** `{caseId}` in the path. */
export const caseParams = z.strictObject({ caseId: caseIdField });

/** A route that reads no query parameters: any given is refused (400). */
export const noQuery = z.strictObject({});

/** An instant in answers and bodies: ISO 8601 with an offset. */
export const isoTime = z.iso.datetime({ offset: true });

/**
 * An instant a request asks about (a window's bound, a period's edge): ISO 8601 with an offset,
 * from 1970 on (no record predates it; PostgreSQL refuses the year 0, which ISO 8601 can spell).
 */
export const instantField = isoTime.refine((s) => Date.parse(s) >= 0, 'an instant from 1970 on');

/** Offset pagination of a listing: `page` (from 1) and `pageSize` (at most 200). */
export const pageFields = {
  page: z.coerce.number().int().min(1).max(100_000).default(1),
  pageSize: z.coerce.number().int().min(1).max(200).default(50),
};

/** The page a listing asks for (`pageFields`). */
export interface PageQuery {
  page: number;
  pageSize: number;
}

/** The rows of a page, for a repository: `limit` and `offset`. */
export function pageWindow(q: PageQuery): { limit: number; offset: number } {
  return { limit: q.pageSize, offset: (q.page - 1) * q.pageSize };
}

/** A page's answer: where it is, its items, and the total when the listing counts it. */
export function pageAnswer<T>(q: PageQuery, items: T[], total?: number) {
  return { page: q.page, pageSize: q.pageSize, ...(total !== undefined && { total }), items };
}

/** The schema of a page's answer (`pageAnswer`); `counted`: it carries the total. */
export function pageSchema(item: z.ZodType, counted = true) {
  const base = { page: z.number().int(), pageSize: z.number().int(), items: z.array(item) };
  return counted ? z.object({ ...base, total: z.number().int() }) : z.object(base);
}

/** Problem statuses every authenticated route may answer (500 aside). */
export const commonProblems = [400, 401, 403, 503] as const;
