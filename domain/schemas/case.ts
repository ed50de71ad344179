import { z } from 'zod';
import { channels, MAX_ESCALATION_LEVEL, roles } from '../case';
import { categorySchema, urgencySchema } from './policy';

/**
 * The complaint case's schemas (domain/case.ts): what registration takes and the arguments of the
 * workflow's updates, validated at the API edge. Never imported by workflow code: the workflow
 * bundle stays free of zod (worker/workflow-bundle.ts, test/unit/workflow-bundle.test.ts).
 */

export const channelSchema = z.enum(channels);
export type Channel = z.infer<typeof channelSchema>;
export const roleSchema = z.enum(roles);
export type Role = z.infer<typeof roleSchema>;
/**
 * Who took a decision: the person (the token's subject) and their role; for a unit's people, the unit
 * they act for too. Actors recorded before `unitId` existed carry the unit's id as `id`.
 */
export const actorSchema = z.object({ id: z.string().min(1).max(200), role: roleSchema, unitId: z.string().min(1).max(200).optional() });
export type Actor = z.infer<typeof actorSchema>;
const divisionCode = z.string().regex(/^\d{6}$/, 'a six-digit administrative division code');
/** C0 control characters but tab and newline, and DEL: never in stored text (a NUL cannot even enter PostgreSQL). */
function hasControlCharacter(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if ((c < 0x20 && c !== 0x09 && c !== 0x0a) || c === 0x7f) return true;
  }
  return false;
}
/** Half of a UTF-16 surrogate pair without the other half: not a character. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Why a string is not text that may be stored (a control character, a lone surrogate), or undefined. */
export function textProblem(s: string): string | undefined {
  if (hasControlCharacter(s)) return 'no control characters (tab and line breaks only)';
  if (LONE_SURROGATE.test(s)) return 'no lone surrogates (not valid Unicode text)';
  return undefined;
}

/**
 * Free text as every schema takes it: line breaks as LF (a form's CRLF included), trimmed, NFC, at
 * least one and at most `max` characters; control characters and lone surrogates are refused.
 */
export const text = (max: number) =>
  z
    .string()
    // The limit as sent, too: the API document shows it (a schema's input side is what it describes).
    .max(max)
    .transform((s) => s.replace(/\r\n?/g, '\n'))
    .pipe(
      z
        .string()
        .trim()
        .min(1)
        .max(max)
        .refine((s) => !hasControlCharacter(s), 'no control characters (tab and line breaks only)')
        .refine((s) => !LONE_SURROGATE.test(s), 'no lone surrogates (not valid Unicode text)')
        .transform((s) => s.normalize('NFC')),
    );

/**
 * Where the problem is. Strict (an unknown key is refused, naming it), and a point is `lat` and `lon`
 * together or neither. The address is shown to the handling unit, clerks and supervisors.
 */
export const locationSchema = z
  .strictObject({
    lat: z.number().min(-90).max(90).optional(),
    lon: z.number().min(-180).max(180).optional(),
    address: text(500).optional(),
    /** A polluting site or enterprise, when known (used to spot duplicates and recurrences). */
    siteId: text(200).optional(),
  })
  .superRefine((l, ctx) => {
    if ((l.lat === undefined) !== (l.lon === undefined)) {
      ctx.addIssue({ code: 'custom', path: [l.lat === undefined ? 'lat' : 'lon'], message: 'lat and lon are given together, or neither' });
    }
  });
export type Location = z.infer<typeof locationSchema>;

export const reporterSchema = z.strictObject({
  anonymous: z.boolean().default(false),
  name: text(200).optional(),
  phone: text(50).optional(),
  email: z.email().max(320).optional(),
  address: text(500).optional(),
  /** The reporter agrees that the handling unit may see who they are. */
  consentToShareWithUnit: z.boolean().default(false),
});
export type Reporter = z.infer<typeof reporterSchema>;

/** What registration takes. `missing` lists key information still to be supplemented. */
export const intakeSchema = z.strictObject({
  channel: channelSchema,
  category: categorySchema,
  urgency: urgencySchema.default('normal'),
  divisionCode,
  title: text(200),
  description: text(4000),
  location: locationSchema.default({}),
  reporter: reporterSchema.default({ anonymous: true, consentToShareWithUnit: false }),
  /** Key information the clerk could not get at registration. */
  missing: z.array(z.enum(['location', 'description', 'contact', 'evidence', 'other'])).default([]),
  /**
   * When the complaint reached us (defaults to the registration time): no earlier than the policy's
   * `intake.backdatingLimit` and no later than its `intake.clockSkew` ahead (checked at registration).
   */
  receivedAt: z.iso.datetime({ offset: true }).optional(),
});
export type Intake = z.infer<typeof intakeSchema>;
// ---- Decisions: the arguments of the workflow's updates, validated at the API edge too. ----

const reason = text(2000);

export const supplementSchema = z.object({
  actor: actorSchema,
  description: text(4000).optional(),
  location: locationSchema.optional(),
  /** Only the fields given change: no defaults, so a patch never resets consent or anonymity. */
  reporter: z
    .strictObject({
      anonymous: z.boolean(),
      name: text(200),
      phone: text(50),
      email: z.email().max(320),
      address: text(500),
      consentToShareWithUnit: z.boolean(),
    })
    .partial()
    .optional(),
  note: text(2000).optional(),
});
export const acceptSchema = z.object({ actor: actorSchema, unitId: text(100), note: text(2000).optional() });
export const forwardSchema = z.object({ actor: actorSchema, competentBody: text(200), reason });
export const transferSchema = z.object({ actor: actorSchema, unitId: text(100), reason });
export const extensionRequestSchema = z.object({
  actor: actorSchema,
  /** How much longer, in the unit of the case's `maxExtension` limit (days by default). */
  amount: z.number().positive(),
  reason,
});
export const extensionDecisionSchema = z.object({
  actor: actorSchema,
  decision: z.enum(['approved', 'denied']),
  /** Told to the complainant. */
  reason,
});
export const resultSchema = z.object({ actor: actorSchema, summary: text(4000), reply: text(4000) });
export const reviewSchema = z.discriminatedUnion('decision', [
  z.object({ actor: actorSchema, decision: z.literal('approved'), note: text(2000).optional() }),
  z.object({
    actor: actorSchema,
    decision: z.literal('returned'),
    reason,
    /** Rework deadline; defaults to the policy's `rework` limit. */
    reworkDays: z.number().positive().max(365).optional(),
  }),
]);
export const callbackSchema = z.object({
  actor: actorSchema,
  outcome: z.enum(['satisfied', 'basically_satisfied', 'dissatisfied', 'unreachable']),
  /** For `dissatisfied`: whether the complainant's demand is reasonable (then the case returns to the unit). */
  reasonableDemand: z.boolean().optional(),
  note: text(2000).optional(),
});
export const reviewRequestSchema = z.object({ actor: actorSchema, reason });
export const reviewDecisionSchema = z.object({
  actor: actorSchema,
  decision: z.enum(['upheld', 'overturned']),
  reason,
});
export const escalateSchema = z.object({
  actor: actorSchema,
  reason,
  /** Target level (1 supervision, 2 city, 3 provincial); defaults to one above the current. */
  level: z.number().int().min(1).max(MAX_ESCALATION_LEVEL).optional(),
});
export const reopenSchema = z.object({
  actor: actorSchema,
  reason,
  /** Where the reopening comes from. */
  source: z.enum(['supervisor', 'spot_check', 're_inspection', 'recurrence', 'review']).default('supervisor'),
  /** Raise the escalation level by one (a recurrence does). */
  escalate: z.boolean().default(false),
  reworkDays: z.number().positive().max(365).optional(),
  finding: text(4000).optional(),
});
export const linkDuplicateSchema = z.object({ caseId: text(100), anonymous: z.boolean(), at: z.number() });

/** The assigned unit refuses a case that is not theirs: it goes back to the clerk for reassignment. */
export const declineSchema = z.object({ actor: actorSchema, reason });
/** A supervisor undoes a wrong automatic duplicate link: the duplicate is handled on its own again. */
export const unlinkSchema = z.object({ actor: actorSchema, reason });
export type Decline = z.infer<typeof declineSchema>;
export type Unlink = z.infer<typeof unlinkSchema>;

export type Supplement = z.infer<typeof supplementSchema>;
export type Accept = z.infer<typeof acceptSchema>;
export type Forward = z.infer<typeof forwardSchema>;
export type Transfer = z.infer<typeof transferSchema>;
export type ExtensionRequest = z.infer<typeof extensionRequestSchema>;
export type ExtensionDecision = z.infer<typeof extensionDecisionSchema>;
export type Result = z.infer<typeof resultSchema>;
export type Review = z.infer<typeof reviewSchema>;
export type Callback = z.infer<typeof callbackSchema>;
export type ReviewRequest = z.infer<typeof reviewRequestSchema>;
export type ReviewDecision = z.infer<typeof reviewDecisionSchema>;
export type Escalate = z.infer<typeof escalateSchema>;
export type Reopen = z.infer<typeof reopenSchema>;
export type LinkDuplicate = z.infer<typeof linkDuplicateSchema>;
