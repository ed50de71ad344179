import { z } from 'zod';
import type { SpotCheckKind } from '../spot-check';
import { parseDate } from '../supervision-periods';

/** The ids of the periods supervision samples (domain/supervision-periods.ts), as the API takes them. */

/** No period before the epoch: periods are epoch milliseconds, and no complaint record predates it. */
const EARLIEST_YEAR = 1970;
const fromEarliestYear = (s: string) => Number(s.slice(0, 4)) >= EARLIEST_YEAR;

export const localDateSchema = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'a date as YYYY-MM-DD')
  .refine((s) => parseDate(s) !== undefined, 'a real calendar date')
  .refine(fromEarliestYear, `a date from ${EARLIEST_YEAR} on`);
export const quarterSchema = z
  .string()
  .regex(/^\d{4}-Q[1-4]$/, 'a quarter as YYYY-Qn, for example 2026-Q3')
  .refine(fromEarliestYear, `a quarter from ${EARLIEST_YEAR} on`);

/** The sampled period id of each kind of spot check: a local day (YYYY-MM-DD) or a quarter (YYYY-Qn). */
export const periodSchemas: Record<SpotCheckKind, z.ZodType<string>> = { desk_check: localDateSchema, re_inspection: quarterSchema };
