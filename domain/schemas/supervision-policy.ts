import { z } from 'zod';
import { checkableClosures } from '../supervision-policy';
import { durationSchema } from './calendar';

/** The schema of the supervision section of the policy document (domain/supervision-policy.ts). */

const share = z.number().gt(0).max(1);
/** A fraction of a period (0.5 = halfway through it). */
const fraction = z.number().gt(0).lt(1);

/** A plain-time period (no working days): Temporal's catch-up window has a fixed length. */
const fixedDurationSchema = durationSchema.refine((d) => d.unit !== 'working_days', {
  message: 'a catch-up window is plain time: minutes, hours or days',
});

/** Five-field cron (minute hour day-of-month month day-of-week), as Temporal Schedules read it. */
const cronSchema = z
  .string()
  .trim()
  .regex(/^\S+(\s+\S+){4}$/, 'a five-field cron expression: minute hour day-of-month month day-of-week');

export const supervisionScheduleSchema = z.object({
  /** When the Schedule starts the workflow, in the policy's `timeZone`. */
  cron: cronSchema,
  /** After an outage of the Temporal server, a run missed by at most this much is still taken; older ones need a backfill. */
  catchupWindow: fixedDurationSchema,
});
export type SupervisionSchedule = z.infer<typeof supervisionScheduleSchema>;

/** The draw of either kind: the same rules over a day's (desk check) or a quarter's (re-inspection) closed cases. */
const drawPolicyFields = {
  /** Share of each division's cases closed in the period that is drawn (rounded up). */
  share,
  /** At least this many per division that closed any case (capped at the number closed). */
  minPerDivision: z.number().int().min(0),
  /** Which closures are sampled. */
  closures: z.array(z.enum(checkableClosures)).min(1),
};

export const deskCheckPolicySchema = z.object({
  ...drawPolicyFields,
  /** The reviewer's deadline, from the draw. Reviews not in by then are recorded as missed. */
  reviewDeadline: durationSchema,
  /** A non-compliant reply goes back to the unit with this rework deadline (calendar days). */
  rectificationDays: z.number().positive().max(365),
  schedule: supervisionScheduleSchema,
});
export type DeskCheckPolicy = z.infer<typeof deskCheckPolicySchema>;

export const reInspectionPolicySchema = z.object({
  ...drawPolicyFields,
  /** The inspector's deadline, from the start of the inspection. */
  inspectionDeadline: durationSchema,
  /** Reminders to the inspector at these fractions of the inspection period. */
  remindAt: z.array(fraction).max(10),
  /** A case found not rectified, or falsely reported, goes back to its unit with this rework deadline (calendar days). */
  rectificationDays: z.number().positive().max(365),
  /** Whether such a case is also escalated one level. */
  escalate: z.boolean(),
  schedule: supervisionScheduleSchema,
});
export type ReInspectionPolicy = z.infer<typeof reInspectionPolicySchema>;

export const supervisionPolicySchema = z.object({
  /** IANA time zone of the Schedules. */
  timeZone: z.string().min(1),
  deskCheck: deskCheckPolicySchema,
  reInspection: reInspectionPolicySchema,
});
export type SupervisionPolicy = z.infer<typeof supervisionPolicySchema>;
