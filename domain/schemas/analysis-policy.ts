import { z } from 'zod';
import { durationSchema } from './calendar';

/** The schema of the analysis section of the policy document (domain/analysis-policy.ts). */

const topN = z.number().int().min(1).max(100);
const hour = z.number().int().min(0).max(23);
const minute = z.number().int().min(0).max(59);

/** "At least `threshold` within `window`": a sliding window over complaint receipt times. */
export const warningRuleSchema = z.object({
  threshold: z.number().int().min(2).max(10_000),
  /** Plain elapsed time (minutes, hours or days): a window slides continuously, not by working days. */
  window: durationSchema.refine((d) => d.unit !== 'working_days', { message: 'a warning window is measured in minutes, hours or days' }),
});
export type WarningRule = z.infer<typeof warningRuleSchema>;

export const analysisPolicySchema = z.object({
  hotspots: z.object({
    /**
     * Side of a hotspot grid cell, in degrees of latitude and of longitude. 0.01° is about 1.1 km
     * north-south and 0.9 km east-west at Shandong's latitude (36°N).
     */
    cellSizeDegrees: z.number().positive().max(1),
  }),
  report: z.object({
    /** How many entries each ranking of a report keeps. */
    top: z.object({
      /** Hotspot grid cells (the key areas). */
      cells: topN,
      /** Divisions (county level) with the most complaints. */
      divisions: topN,
      /** Category x division pairs: the main points of conflict. */
      conflicts: topN,
      /** Words of complaint titles. */
      keywords: topN,
      /** Handling units in the per-unit rates (those with the most facts). */
      units: topN,
      /** How many key areas (cells), key problems (categories) and key regions (cities) a report names. */
      key: topN,
    }),
    /** A category is a rising key problem when its count grew by at least this fraction over the previous period. */
    risingAt: z.number().positive(),
    /** Title words shorter than this are not keywords (CJK text counts character pairs instead). */
    keywordMinLength: z.number().int().min(1).max(20),
    /** Title words that are never keywords. */
    stopwords: z.array(z.string().min(1)).max(1000),
  }),
  schedule: z.object({
    /** IANA time zone of the report schedules (Temporal Schedules); keep it consistent with the calendar's offset. */
    timeZone: z.string().min(1),
    /** The monthly report of the previous month runs on this day of each month, at this time. */
    monthly: z.object({ dayOfMonth: z.number().int().min(1).max(28), hour, minute }),
    /** The quarterly report of the previous quarter runs on this day of each quarter's first month. */
    quarterly: z.object({ dayOfMonth: z.number().int().min(1).max(28), hour, minute }),
    /** A run missed while Temporal was down is still made if the server is back within this window. */
    catchupWindow: durationSchema,
  }),
  warning: z.object({
    /** Problems reported by many people: distinct complainants of one category in one grid cell. */
    manyPeople: warningRuleSchema,
    /** Problems reported repeatedly: complaints of one category about one site or enterprise. */
    repeated: warningRuleSchema,
  }),
});
export type AnalysisPolicy = z.infer<typeof analysisPolicySchema>;
