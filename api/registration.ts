import { createHash } from 'node:crypto';
import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import type { Pool } from 'pg';
import { workflowIdFor, type Actor, type ComplaintInput, type Intake } from '../domain/case';
import { casePolicy, type Policy } from '../domain/policy';
import { caseStatusKey, categoryKey, divisionKey, ownerKey } from '../domain/search-attributes';
import { complaintWorkflow } from '../workflows/complaint';
import { API_DEFAULTS } from '../runtime/config';
import { HttpProblem } from './problem';
import { feedWarningWatchers } from './warning-intake';

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

async function allocateCaseId(pool: Pool, receivedAt: number): Promise<string> {
  const { rows } = await pool.query<{ n: string }>(`SELECT nextval('case_number_seq') AS n`);
  return `EC-${cstYear(receivedAt)}-${rows[0].n.padStart(7, '0')}`;
}

/**
 * Register a complaint: number it, then start its workflow. With an Idempotency-Key, a retried
 * request (even on another API process, at the same moment) gets the same case and never a second
 * one: the key's row is claimed with one INSERT, and the workflow start is idempotent by its id.
 */
export async function registerComplaint(
  deps: RegistrationDeps,
  intake: Intake,
  owner: Actor,
  idempotencyKey?: string,
): Promise<Registration> {
  // Number the case only once Temporal answers: an outage then burns no case number and claims no
  // Idempotency-Key (the numbering is the register of every case, closed off one by one).
  const timeoutMs = deps.temporalTimeoutMs ?? API_DEFAULTS.temporalTimeoutMs;
  await deps.client.withDeadline(Date.now() + timeoutMs, () => deps.client.workflowService.getSystemInfo({}));
  const receivedAt = intake.receivedAt ? Date.parse(intake.receivedAt) : Date.now();
  let caseId: string;
  let created = true;
  if (idempotencyKey) {
    const hash = createHash('sha256').update(JSON.stringify({ intake, owner: owner.id })).digest('hex');
    const candidate = await allocateCaseId(deps.pool, receivedAt);
    const claimed = await deps.pool.query<{ case_id: string; request_hash: string }>(
      `INSERT INTO intake_requests (idempotency_key, request_hash, case_id) VALUES ($1, $2, $3)
       ON CONFLICT (idempotency_key) DO UPDATE SET idempotency_key = EXCLUDED.idempotency_key
       RETURNING case_id, request_hash`,
      [idempotencyKey, hash, candidate],
    );
    const row = claimed.rows[0];
    if (row.request_hash !== hash) {
      throw new HttpProblem(422, 'Unprocessable Content', 'This Idempotency-Key was used for a different request.');
    }
    caseId = row.case_id;
    created = caseId === candidate;
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
  try {
    await deps.client.workflow.start(complaintWorkflow, {
      taskQueue: deps.taskQueue,
      workflowId: workflowIdFor(caseId),
      args: [input],
      workflowIdReusePolicy: 'REJECT_DUPLICATE',
      typedSearchAttributes: [
        { key: caseStatusKey, value: 'registered' },
        { key: categoryKey, value: intake.category },
        { key: divisionKey, value: intake.divisionCode },
        { key: ownerKey, value: owner.id },
      ],
    });
  } catch (err) {
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    created = false;
  }
  // Early warning (workflows/warning-watcher.ts); on a retried request too: a watcher counts a case once.
  await feedWarningWatchers(deps, { caseId, receivedAt, intake: rest });
  return { caseId, created };
}
