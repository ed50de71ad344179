import { createHash } from 'node:crypto';
import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import type { Pool } from 'pg';
import type { Actor, ComplaintInput, Intake } from '../domain/case';
import type { KeyRing } from '../runtime/encryption';
import { sealReporterFields } from '../runtime/reporter-seal';
import { addDuration } from '../domain/calendar';
import { casePolicy, type Policy } from '../domain/policy';
import { complaintStartMetadata } from '../domain/workflow-summaries';
import { claimCaseId, nextCaseId, recordCaseNumber, recordCaseNumberGap, type CaseIdClaim } from '../db/registrations';
import { COMPLAINT_WORKFLOW, LEAN_START, workflowIdFor, type ComplaintWorkflow } from '../workflows/contracts/complaint';
import { API_DEFAULTS } from '../runtime/config';
import { HttpProblem, toProblem } from './problem';
import type { TemporalGateway } from './temporal-gateway';

export interface RegistrationDeps {
  /** Starts the workflow, on the gateway's task queue and within its deadline (a timeout is a 503). */
  temporal: TemporalGateway;
  pool: Pool;
  policy: () => Policy;
  /** Seals the reporter's identity before it enters the workflow (runtime/reporter-seal.ts). */
  reporterKeys: KeyRing;
}

export interface Registration {
  caseId: string;
  /** False when an earlier request with the same Idempotency-Key already created the case. */
  created: boolean;
}

/** Year of an instant in China Standard Time. */
function cstYear(ms: number): number {
  return new Date(ms + 8 * 3600_000).getUTCFullYear();
}

/** The case numbers of a year: `EC-<year>-` and seven digits or more. */
const caseIdPrefix = (receivedAt: number) => `EC-${cstYear(receivedAt)}-`;

/**
 * When each client last saw Temporal start a case. A case is numbered only once Temporal answers,
 * so that an outage burns no case number and claims no Idempotency-Key (the numbering is the
 * register of every case, closed off one by one); right after a start succeeded, that answer is
 * already known and the probe is skipped, which keeps it off the path of a busy intake.
 */
const temporalAnsweredAt = new WeakMap<Client, number>();

async function ensureTemporalAnswers(temporal: TemporalGateway): Promise<void> {
  const answeredAt = temporalAnsweredAt.get(temporal.client);
  if (answeredAt !== undefined && Date.now() - answeredAt < API_DEFAULTS.temporalAnswerFreshMs) return;
  await temporal.call((client) => client.workflowService.getSystemInfo({}));
  temporalAnsweredAt.set(temporal.client, Date.now());
}

/**
 * The claims of this process under way, by Idempotency-Key: a replay sent while its key's first
 * request is claiming waits for that claim here, holding no database connection (the advisory lock
 * in db/registrations.ts makes claims of one key from several processes wait in PostgreSQL).
 */
const claimsUnderWay = new Map<string, Promise<CaseIdClaim>>();

async function claimOnce(pool: Pool, prefix: string, key: string, hash: string): Promise<CaseIdClaim> {
  const underWay = claimsUnderWay.get(key);
  const first = underWay && (await underWay.catch(() => undefined));
  if (first) return { ...first, created: false };
  const claim = claimCaseId(pool, prefix, key, hash);
  claimsUnderWay.set(key, claim);
  try {
    return await claim;
  } finally {
    if (claimsUnderWay.get(key) === claim) claimsUnderWay.delete(key);
  }
}

/**
 * `receivedAt` within the policy's bounds: no earlier than the backdating limit before now, no later
 * than the clock-skew allowance after it (400 naming the field otherwise).
 */
function checkReceivedAt(receivedAt: number, now: number, policy: Policy): void {
  const { backdatingLimit, clockSkew } = policy.intake;
  const fail = (message: string, code: string) => {
    throw new HttpProblem(400, 'Bad Request', 'The request is not valid.', { errors: [{ in: 'body', path: 'receivedAt', message, code }] });
  };
  if (addDuration(receivedAt, backdatingLimit, policy.calendar) < now) {
    fail(
      `no earlier than ${backdatingLimit.amount} ${backdatingLimit.unit.replace('_', ' ')} ago (the policy's backdating limit)`,
      'too_small',
    );
  }
  if (receivedAt > addDuration(now, clockSkew, policy.calendar)) {
    fail(
      `not in the future (beyond the policy's clock-skew allowance of ${clockSkew.amount} ${clockSkew.unit.replace('_', ' ')})`,
      'too_big',
    );
  }
}

/** Why a start failed, for the register of case numbers: the problem the client got. */
function gapReason(err: unknown): string {
  const problem = toProblem(err);
  return `the workflow start failed (${problem.status} ${problem.title}: ${problem.detail ?? ''})`.slice(0, 500);
}

/**
 * Register a complaint: number it, then start its workflow. With an Idempotency-Key, a retried
 * request (even on another API process, at the same moment) gets the same case and never a second
 * one: the key's row is claimed with one INSERT, and the workflow start is idempotent by its id.
 * Its early-warning watchers are fed by the case's first projection (activities/warning-intake.ts).
 * The reporter's identity enters the workflow sealed (docs/privacy.md "Two layers").
 */
export async function registerComplaint(
  deps: RegistrationDeps,
  intake: Intake,
  owner: Actor,
  idempotencyKey?: string,
): Promise<Registration> {
  const now = Date.now();
  const receivedAt = intake.receivedAt ? Date.parse(intake.receivedAt) : now;
  const policy = deps.policy();
  checkReceivedAt(receivedAt, now, policy);
  await ensureTemporalAnswers(deps.temporal);
  let caseId: string;
  let created = true;
  if (idempotencyKey) {
    const hash = createHash('sha256')
      .update(JSON.stringify({ intake, owner: owner.id }))
      .digest('hex');
    const claim = await claimOnce(deps.pool, caseIdPrefix(receivedAt), idempotencyKey, hash);
    if (claim.requestHash !== hash) {
      throw new HttpProblem(422, 'Unprocessable Content', 'This Idempotency-Key was used for a different request.');
    }
    caseId = claim.caseId;
    created = claim.created;
  } else {
    caseId = await nextCaseId(deps.pool, caseIdPrefix(receivedAt));
  }
  try {
    const started = await startCase(deps, policy, intake, owner, caseId, receivedAt);
    // With a key, the request that drew the number created the case, whichever of its concurrent
    // replays reached Temporal first; without one, the start says.
    if (!idempotencyKey) created = started;
  } catch (err) {
    // The number is not a case (yet: a retry with the same Idempotency-Key starts it): the register says why.
    await recordCaseNumberGap(deps.pool, caseId, gapReason(err)).catch(() => undefined);
    throw err;
  }
  // The case exists whatever this write does: a number whose case is in the read model is no gap.
  await recordCaseNumber(deps.pool, caseId).catch(() => undefined);
  return { caseId, created };
}

/** Start the case's workflow; false when it was already started (a retried request). */
async function startCase(
  deps: RegistrationDeps,
  policy: Policy,
  intake: Intake,
  owner: Actor,
  caseId: string,
  receivedAt: number,
): Promise<boolean> {
  const { receivedAt: _r, reporter, ...rest } = intake;
  // The workflow carries the reporter's flags in clear and the identity sealed under the reporter
  // ring, bound to the case: the payload codec that operators use cannot open it. A retried start
  // seals again with a fresh nonce; the workflow id makes the start idempotent all the same.
  const input: ComplaintInput = {
    caseId,
    intake: { ...rest, reporter: sealReporterFields(deps.reporterKeys, caseId, reporter) },
    receivedAt,
    owner,
    policy: casePolicy(policy, intake.category, intake.urgency),
    // No patch markers and the duplicate check in the first workflow task (domain/case.ts, issue #11).
    writePath: LEAN_START,
  };
  // No search attributes at the start: the workflow's first task sets all of them (a case no worker
  // has run yet has none); setting four here as well cost the server about a tenth of its intake.
  try {
    await deps.temporal.start<ComplaintWorkflow>(COMPLAINT_WORKFLOW, {
      workflowId: workflowIdFor(caseId),
      args: [input],
      // What the Temporal UI's workflow list shows: case number, category, division (never the reporter).
      ...complaintStartMetadata(input),
      workflowIdReusePolicy: 'REJECT_DUPLICATE',
    });
  } catch (err) {
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) {
      temporalAnsweredAt.delete(deps.temporal.client);
      throw err;
    }
    return false;
  }
  temporalAnsweredAt.set(deps.temporal.client, Date.now());
  return true;
}
