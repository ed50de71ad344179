import { z } from 'zod';
import { localDayPeriod } from '../domain/supervision-periods';
import { localDateSchema } from '../domain/schemas/supervision-periods';

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

/** A date (YYYY-MM-DD, a local day of the policy's calendar) or an instant (ISO 8601 with an offset), as list filters take them. */
export const dateOrTime = z.union([instantField, localDateSchema.refine((s) => s >= '1970', 'a date from 1970 on')]);

/**
 * The instant a `dateOrTime` stands for: an instant as it is; a date, the start of that local day,
 * or its end (the start of the next) for `edge: 'end'`, so that `to=2026-11-30` includes the 30th.
 */
export function instantOf(value: string, utcOffsetMinutes: number, edge: 'start' | 'end' = 'start'): string {
  if (value.includes('T')) return new Date(value).toISOString();
  const day = localDayPeriod(value, utcOffsetMinutes);
  return new Date(edge === 'end' ? day.to : day.from).toISOString();
}

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
