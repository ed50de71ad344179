import { z } from 'zod';
import { categorySchema, urgencySchema, type CasePolicy, type Category, type Urgency } from './policy';
import { iso } from './instant';

/**
 * The complaint case: what is registered, the decisions taken on it, and the view everyone reads.
 * Plain JSON only (epoch milliseconds, arrays, records): it crosses the workflow boundary and is
 * carried through continue-as-new.
 */

export const channels = [
  'hotline',
  'wechat',
  'weibo',
  'web',
  'letter',
  'visit',
  'broadcast',
  'online_question',
  'media',
  'gov_app',
  'open311',
] as const;
export const channelSchema = z.enum(channels);
export type Channel = z.infer<typeof channelSchema>;

export const roles = ['clerk', 'unit', 'supervisor', 'inspector', 'analyst', 'ops', 'admin', 'system', 'public'] as const;
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

/**
 * Free text as every schema takes it: line breaks as LF (a form's CRLF included), trimmed, NFC, at
 * least one and at most `max` characters; control characters and lone surrogates are refused.
 */
export const text = (max: number) =>
  z
    .string()
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

export const locationSchema = z.object({
  lat: z.number().min(-90).max(90).optional(),
  lon: z.number().min(-180).max(180).optional(),
  address: text(500).optional(),
  /** A polluting site or enterprise, when known (used to spot duplicates and recurrences). */
  siteId: text(200).optional(),
});
export type Location = z.infer<typeof locationSchema>;

export const reporterSchema = z.object({
  anonymous: z.boolean().default(false),
  name: text(200).optional(),
  phone: text(50).optional(),
  email: z.email().max(320).optional(),
  address: text(500).optional(),
  /** The reporter agrees that the handling unit may see who they are. */
  consentToShareWithUnit: z.boolean().default(false),
});
export type Reporter = z.infer<typeof reporterSchema>;

/** The fields that identify the reporter. `anonymous` and `consentToShareWithUnit` are flags the workflow decides with. */
export const reporterIdentityFields = ['name', 'phone', 'email', 'address'] as const;
export type ReporterIdentity = Pick<Reporter, (typeof reporterIdentityFields)[number]>;

/**
 * The reporter's identity sealed under the reporter key ring (`REPORTER_KEYS`, runtime/reporter-seal.ts),
 * bound to its case. The payload codec never has that ring: a decoded payload shows this marker.
 * `data` is iv || ciphertext || tag, base64.
 */
export interface SealedIdentity {
  sealed: 'reporter';
  keyId: string;
  data: string;
}

/**
 * The reporter as the complaint workflow carries it: the flags in clear, the identity sealed, as
 * sealed parts in order (registration's, then each supplement's; a later field wins). Cases
 * registered before the identity was sealed carry its fields in clear instead (the payload codec
 * endpoint redacts them); the projection opens either shape.
 */
export type CarriedReporter = Pick<Reporter, 'anonymous' | 'consentToShareWithUnit'> &
  Partial<ReporterIdentity> & { identity?: SealedIdentity[] };
/** The reporter part of a supplement as the workflow receives it (clear identity fields only in updates from before sealing). */
export type ReporterPatch = Partial<CarriedReporter>;

/** A supplement's reporter patch applied to the carried reporter: flags replaced, sealed parts appended. */
export function mergeReporter(r: CarriedReporter, patch: ReporterPatch): CarriedReporter {
  const identity = [...(r.identity ?? []), ...(patch.identity ?? [])];
  return { ...r, ...patch, ...(identity.length > 0 && { identity }) };
}

/** What registration takes. `missing` lists key information still to be supplemented. */
export const intakeSchema = z.object({
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
  /** When the complaint reached us (defaults to the registration time). */
  receivedAt: z.iso.datetime({ offset: true }).optional(),
});
export type Intake = z.infer<typeof intakeSchema>;
/** The intake as the workflow carries it: the reporter's identity sealed (domain `CarriedReporter`). */
export type CaseIntake = Omit<Intake, 'receivedAt' | 'reporter'> & { reporter: CarriedReporter };

export const caseStatuses = [
  'registered', // numbered; intake checks (duplicate, recurrence) under way
  'awaiting_supplement', // key information missing; waiting for the complainant
  'pending_acceptance', // registered; to be accepted or forwarded
  'handling', // accepted and with a unit
  'under_review', // the unit's result awaits the owner's compliance review
  'callback', // the complainant is being called back
  'closed', // closed, still open to review requests, spot checks and reopening
  'review_requested', // the complainant asked the next level for a review
  'archived', // the monitoring window ended
] as const;
export type CaseStatus = (typeof caseStatuses)[number];

export const closures = [
  'resolved', // satisfied or basically satisfied
  'resolved_dissatisfied', // dissatisfied, demand judged unreasonable
  'unreachable', // callback failed after the last attempt
  'no_callback', // anonymous: no one to call back
  'insufficient', // key information never supplemented
  'forwarded', // outside our scope; forwarded to the competent body
  'duplicate', // linked to an open case that handles it
  'recurrence', // merged into the recently closed case it reopened
] as const;
export type Closure = (typeof closures)[number];

export const escalationLevels = ['none', 'supervision', 'city', 'provincial'] as const;
export type EscalationLevelName = (typeof escalationLevels)[number];
export const MAX_ESCALATION_LEVEL = escalationLevels.length - 1;

/** What a running clock measures. */
export type ClockKind = 'supplement' | 'accept' | 'handle' | 'rework' | 'callback' | 'review';

export interface Clock {
  kind: ClockKind;
  startedAt: number;
  dueAt: number;
  /** Whether the warning before the deadline has fired. */
  warned: boolean;
  /** Ladder steps fired after the deadline (0 to 3). */
  overdueSteps: number;
}

export interface CaseEvent {
  seq: number;
  type: string;
  at: number;
  actor: Actor;
  reason?: string;
  /** The deadline in force after this event, if any. */
  deadlineAt?: number;
  data?: Record<string, unknown>;
  /** Who is told of it (see domain/notifications.ts); delivered through the outbox. */
  notify?: string[];
}

export interface Extension {
  amount: number;
  reason: string;
  requestedAt: number;
  requestedBy: Actor;
  decision?: 'approved' | 'denied';
  decidedAt?: number;
  decidedBy?: Actor;
  decisionReason?: string;
}

export interface CaseResult {
  summary: string;
  reply: string;
  submittedAt: number;
  submittedBy: Actor;
}

export interface LinkedCase {
  caseId: string;
  anonymous: boolean;
  linkedAt: number;
}

/** Everything a complaint workflow knows; plain JSON. */
export interface CaseState {
  caseId: string;
  intake: CaseIntake;
  policy: CasePolicy;
  status: CaseStatus;
  closure?: Closure;
  /** The clerk who registered the case; owns it to the end. */
  owner: Actor;
  unitId?: string;
  receivedAt: number;
  acceptedAt?: number;
  closedAt?: number;
  repliedAt?: number;
  escalationLevel: number;
  clock?: Clock;
  extensions: Extension[];
  result?: CaseResult;
  returns: number;
  callbackAttempts: number;
  /** Cases linked to this one as duplicates; their complainants get this case's updates. */
  linked: LinkedCase[];
  /** The case this one was linked or merged into. */
  mergedInto?: string;
  reopenCount: number;
  /** Until when a review may be requested; until when the closed case is monitored. */
  reviewRequestUntil?: number;
  monitoringUntil?: number;
  timeline: CaseEvent[];
  /** Highest seq whose event has been projected into PostgreSQL. */
  projectedSeq: number;
}

/** What the `status` query returns and the API shows. */
export interface CaseView {
  caseId: string;
  status: CaseStatus;
  closure?: Closure;
  category: Category;
  urgency: Urgency;
  channel: Channel;
  divisionCode: string;
  title: string;
  owner: Actor;
  unitId?: string;
  escalationLevel: number;
  escalation: EscalationLevelName;
  policyVersion: string;
  receivedAt: string;
  acceptedAt?: string;
  closedAt?: string;
  deadline?: { kind: ClockKind; dueAt: string; warned: boolean; overdue: boolean };
  reviewRequestUntil?: string;
  monitoringUntil?: string;
  extensionGranted: number;
  pendingExtension?: { amount: number; reason: string };
  returns: number;
  reopenCount: number;
  callbackAttempts: number;
  anonymous: boolean;
  reporterConsent: boolean;
  linkedCases: string[];
  mergedInto?: string;
  timeline: Array<Omit<CaseEvent, 'at' | 'deadlineAt'> & { at: string; deadlineAt?: string }>;
}

export function toView(s: CaseState, now: number): CaseView {
  const pending = s.extensions.find((e) => !e.decision);
  return {
    caseId: s.caseId,
    status: s.status,
    closure: s.closure,
    category: s.intake.category,
    urgency: s.intake.urgency,
    channel: s.intake.channel,
    divisionCode: s.intake.divisionCode,
    title: s.intake.title,
    owner: s.owner,
    unitId: s.unitId,
    escalationLevel: s.escalationLevel,
    escalation: escalationLevels[s.escalationLevel],
    policyVersion: s.policy.version,
    receivedAt: iso(s.receivedAt)!,
    acceptedAt: iso(s.acceptedAt),
    closedAt: iso(s.closedAt),
    deadline: s.clock && {
      kind: s.clock.kind,
      dueAt: iso(s.clock.dueAt)!,
      warned: s.clock.warned,
      overdue: now > s.clock.dueAt,
    },
    reviewRequestUntil: iso(s.reviewRequestUntil),
    monitoringUntil: iso(s.monitoringUntil),
    extensionGranted: grantedExtension(s),
    pendingExtension: pending && { amount: pending.amount, reason: pending.reason },
    returns: s.returns,
    reopenCount: s.reopenCount,
    callbackAttempts: s.callbackAttempts,
    anonymous: s.intake.reporter.anonymous,
    reporterConsent: s.intake.reporter.consentToShareWithUnit,
    linkedCases: s.linked.map((l) => l.caseId),
    mergedInto: s.mergedInto,
    timeline: s.timeline.map((e) => ({ ...e, at: iso(e.at)!, deadlineAt: iso(e.deadlineAt) })),
  };
}

export function grantedExtension(s: Pick<CaseState, 'extensions'>): number {
  return s.extensions.filter((e) => e.decision === 'approved').reduce((sum, e) => sum + e.amount, 0);
}

// ---- Decisions: the arguments of the workflow's updates, validated at the API edge too. ----

const reason = text(2000);

export const supplementSchema = z.object({
  actor: actorSchema,
  description: text(4000).optional(),
  location: locationSchema.optional(),
  /** Only the fields given change: no defaults, so a patch never resets consent or anonymity. */
  reporter: z
    .object({
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

export type Supplement = z.infer<typeof supplementSchema>;
/** The supplement as the workflow receives it: the reporter's identity sealed by the API. */
export type SupplementDecision = Omit<Supplement, 'reporter'> & { reporter?: ReporterPatch };
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
export type Decline = z.infer<typeof declineSchema>;
export type Unlink = z.infer<typeof unlinkSchema>;
/** To the case a duplicate was linked to: the link was undone (`caseId` the former duplicate). */
export interface DuplicateUnlinked {
  caseId: string;
  actor: Actor;
  reason: string;
}

/** Input of a new complaint workflow. */
export interface ComplaintInput {
  caseId: string;
  intake: CaseIntake;
  receivedAt: number;
  owner: Actor;
  policy: CasePolicy;
  /** Tests only: continue-as-new after this many history events even if the server does not suggest it. */
  continueAsNewAfterEvents?: number;
}

export function workflowIdFor(caseId: string): string {
  return `complaint-${caseId}`;
}
