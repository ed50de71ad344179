import { createHash } from 'node:crypto';
import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import type { Pool } from 'pg';
import { workflowIdFor, type Actor, type ComplaintInput, type Intake } from '../domain/case';
import { casePolicy, type Policy } from '../domain/policy';
import { COMPLAINT_WORKFLOW, type ComplaintWorkflow } from '../workflows/contracts/complaint';
import { API_DEFAULTS } from '../runtime/config';
import { HttpProblem } from './problem';

export interface RegistrationDeps {
  client: Client;
  pool: Pool;
  policy: () => Policy;
  taskQueue: string;
  /** How long to wait for Temporal to answer before giving up (503); see runtime/config.ts. */
  temporalTimeoutMs?: number;
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

/** The next case number, `EC-<year>-<seven digits or more>`, as SQL over `$1` = `EC-<year>-`. */
const NEXT_CASE_ID = `(SELECT $1::text || lpad(v::text, greatest(7, length(v::text)), '0') FROM nextval('case_number_seq') AS v)`;

async function allocateCaseId(pool: Pool, receivedAt: number): Promise<string> {
  const { rows } = await pool.query<{ case_id: string }>(`SELECT ${NEXT_CASE_ID} AS case_id`, [`EC-${cstYear(receivedAt)}-`]);
  return rows[0].case_id;
}

/**
 * Claim an Idempotency-Key for a new case number, in one statement: the key's first request gets a
 * new number; any other (a retry, or the same key at the same moment on another API process) gets
 * the first one's.
 */
async function claimCaseId(pool: Pool, receivedAt: number, key: string, requestHash: string): Promise<{ caseId: string; requestHash: string; created: boolean }> {
  const { rows } = await pool.query<{ case_id: string; request_hash: string; created: boolean }>(
    `WITH candidate AS (SELECT ${NEXT_CASE_ID} AS case_id)
     INSERT INTO intake_requests (idempotency_key, request_hash, case_id) SELECT $2, $3, case_id FROM candidate
     ON CONFLICT (idempotency_key) DO UPDATE SET idempotency_key = EXCLUDED.idempotency_key
     RETURNING case_id, request_hash, case_id = (SELECT case_id FROM candidate) AS created`,
    [`EC-${cstYear(receivedAt)}-`, key, requestHash],
  );
  return { caseId: rows[0].case_id, requestHash: rows[0].request_hash, created: rows[0].created };
}

/**
 * When each client last saw Temporal start a case. A case is numbered only once Temporal answers,
 * so that an outage burns no case number and claims no Idempotency-Key (the numbering is the
 * register of every case, closed off one by one); right after a start succeeded, that answer is
 * already known and the probe is skipped, which keeps it off the path of a busy intake.
 */
const temporalAnsweredAt = new WeakMap<Client, number>();

async function ensureTemporalAnswers(client: Client, timeoutMs: number): Promise<void> {
  const answeredAt = temporalAnsweredAt.get(client);
  if (answeredAt !== undefined && Date.now() - answeredAt < API_DEFAULTS.temporalAnswerFreshMs) return;
  await client.withDeadline(Date.now() + timeoutMs, () => client.workflowService.getSystemInfo({}));
  temporalAnsweredAt.set(client, Date.now());
}

/**
 * Register a complaint: number it, then start its workflow. With an Idempotency-Key, a retried
 * request (even on another API process, at the same moment) gets the same case and never a second
 * one: the key's row is claimed with one INSERT, and the workflow start is idempotent by its id.
 * Its early-warning watchers are fed by the case's first projection (activities/warning-intake.ts).
 */
export async function registerComplaint(
  deps: RegistrationDeps,
  intake: Intake,
  owner: Actor,
  idempotencyKey?: string,
): Promise<Registration> {
  await ensureTemporalAnswers(deps.client, deps.temporalTimeoutMs ?? API_DEFAULTS.temporalTimeoutMs);
  const receivedAt = intake.receivedAt ? Date.parse(intake.receivedAt) : Date.now();
  let caseId: string;
  let created = true;
  if (idempotencyKey) {
    const hash = createHash('sha256').update(JSON.stringify({ intake, owner: owner.id })).digest('hex');
    const claim = await claimCaseId(deps.pool, receivedAt, idempotencyKey, hash);
    if (claim.requestHash !== hash) {
      throw new HttpProblem(422, 'Unprocessable Content', 'This Idempotency-Key was used for a different request.');
    }
    caseId = claim.caseId;
    created = claim.created;
  } else {
    caseId = await allocateCaseId(deps.pool, receivedAt);
  }

  const { receivedAt: _r, ...rest } = intake;
  const input: ComplaintInput = {
    caseId,
    intake: rest,
    receivedAt,
    owner,
    policy: casePolicy(deps.policy(), intake.category, intake.urgency),
  };
  // No search attributes at the start: the workflow's first task sets all of them (a case no worker
  // has run yet has none); setting four here as well cost the server about a tenth of its intake.
  try {
    await deps.client.workflow.start<ComplaintWorkflow>(COMPLAINT_WORKFLOW, {
      taskQueue: deps.taskQueue,
      workflowId: workflowIdFor(caseId),
      args: [input],
      workflowIdReusePolicy: 'REJECT_DUPLICATE',
    });
  } catch (err) {
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) {
      temporalAnsweredAt.delete(deps.client);
      throw err;
    }
    created = false;
  }
  temporalAnsweredAt.set(deps.client, Date.now());
  return { caseId, created };
}
