import type { CasePolicy, Category, Urgency } from './policy';
import { iso } from './instant';
import type { Actor, Channel, Intake, Reporter, Supplement } from './schemas/case';

// The types of what the API validates, inferred from the schemas in domain/schemas/case.ts. Type-only:
// the schemas themselves (zod) never reach the workflow bundle.
export type {
  Accept,
  Actor,
  Callback,
  Channel,
  Decline,
  Escalate,
  ExtensionDecision,
  ExtensionRequest,
  Forward,
  Intake,
  LinkDuplicate,
  Location,
  Reopen,
  Unlink,
  Reporter,
  Result,
  Review,
  ReviewDecision,
  ReviewRequest,
  Role,
  Supplement,
  Transfer,
} from './schemas/case';

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

export const roles = ['clerk', 'unit', 'supervisor', 'inspector', 'analyst', 'ops', 'admin', 'system', 'public'] as const;

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
  /** Set while the read model refuses the case's events (see ProjectionFailure); cleared once a projection succeeds. */
  projectionFailure?: ProjectionFailure;
}

/**
 * The read model refused the case's events with an error retrying cannot fix (a value PostgreSQL
 * cannot store, a violated constraint): the events from `fromSeq` on are kept in the dead-letter
 * table up to `deadLetteredSeq`, and the case goes on without them until a projection succeeds.
 */
export interface ProjectionFailure {
  /** The first event the read model is missing. */
  fromSeq: number;
  /** The last event kept in the dead-letter table. */
  deadLetteredSeq: number;
  /** PostgreSQL's SQLSTATE and message, as the projection reported them. */
  sqlState?: string;
  error: string;
  at: number;
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

/** The supplement as the workflow receives it: the reporter's identity sealed by the API. */
export type SupplementDecision = Omit<Supplement, 'reporter'> & { reporter?: ReporterPatch };
/** Input of a new complaint workflow. */
export interface ComplaintInput {
  caseId: string;
  intake: CaseIntake;
  receivedAt: number;
  owner: Actor;
  policy: CasePolicy;
  /** Tests only: continue-as-new after this many history events even if the server does not suggest it. */
  continueAsNewAfterEvents?: number;
  /** `LEAN_START` when started by code that knows it (see there); absent in cases started before. */
  writePath?: typeof LEAN_START;
}

/**
 * A complaint workflow started with `writePath: LEAN_START` (by the API, by an unlink, by its own
 * continue-as-new) was started by code that always wakes on changes during projection, always projects
 * in the workflow task and checks for a duplicate by a local activity: it asks `patched()` nothing
 * and runs its duplicate check within the workflow task that needs it. Issue #11 (a case as light as
 * the SDK allows): two patch markers and two `TemporalChangeVersion` upserts fewer, and the check's
 * three activity events and second workflow task (three more) become one marker: nine events fewer
 * per case. An input is history: a case started without it replays as it was written. Workers must
 * run this code before an API that sets it does (docs/deploy.md).
 */
export const LEAN_START = 2;

export function workflowIdFor(caseId: string): string {
  return `complaint-${caseId}`;
}

/** To the case a duplicate was linked to: the link was undone (`caseId` the former duplicate). */
export interface DuplicateUnlinked {
  caseId: string;
  actor: Actor;
  reason: string;
}
