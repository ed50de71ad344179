import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { newPayeeRef } from '../domain/governance-payees';
import { rewardWorkflowId } from '../domain/governance';
import { parsePolicy } from '../domain/schemas/policy';
import { spawnOwned, type OwnedProcess } from '../runtime/child-process';
import {
  REWARD_WORKFLOW,
  approvePaymentUpdate,
  recordPreliminaryCheckUpdate,
  rewardStatusQuery,
  type RewardWorkflow,
} from '../workflows/contracts/reward';
import { createTestDatabase, type TestDatabase } from './support/database';
import { eventually, seedCase } from './support/governance-fixtures';
import { quietRuntime, testDataConverter, uniqueTaskQueue } from './support/temporal';

/**
 * Kill the worker in the middle of a payment: the gateway has paid, the activity has not returned.
 * The worker runs in a child process (test/support/reward-worker.ts), is killed with SIGKILL, and
 * another one takes over; the payment must still be made exactly once.
 */

const root = path.resolve(__dirname, '..');
let db: TestDatabase;
let connection: Connection;
let client: Client;
let taskQueue: string;
let tmp: string;
const children: OwnedProcess[] = [];

beforeAll(async () => {
  quietRuntime();
  db = await createTestDatabase();
  connection = await Connection.connect({ address: process.env.ECOLOOP_TEST_TEMPORAL_ADDRESS! });
  client = new Client({ connection, dataConverter: testDataConverter });
  taskQueue = uniqueTaskQueue('reward-pay');
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ecoloop-reward-'));
});
afterAll(async () => {
  for (const c of children) await c.stop('SIGKILL');
  await connection?.close();
  await db?.drop();
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

/** Start a worker process; resolves once it polls. */
async function startWorker(pauseFile?: string): Promise<OwnedProcess> {
  let ready!: () => void;
  const isReady = new Promise<void>((r) => (ready = r));
  const output: string[] = [];
  const child = spawnOwned('reward-worker', process.execPath, ['--import', 'tsx', path.join(root, 'test/support/reward-worker.ts')], {
    cwd: root,
    env: {
      ...process.env,
      TEMPORAL_ADDRESS: process.env.ECOLOOP_TEST_TEMPORAL_ADDRESS,
      DATABASE_URL: db.url,
      TEMPORAL_TASK_QUEUE: taskQueue,
      REWARD_WORKER_PAUSE_FILE: pauseFile ?? '',
    },
    onLine: (line) => {
      output.push(line);
      if (line.includes('reward-worker ready')) ready();
    },
  });
  children.push(child);
  await Promise.race([
    isReady,
    child.exited.then((code) => Promise.reject(new Error(`reward worker exited (${code}) before it was ready:\n${output.join('\n')}`))),
  ]);
  return child;
}

test('when the worker is killed after the gateway paid and before the payment activity returned, then a new worker completes it and exactly one payment is in the gateway and in the ledger, of the policy amount', async () => {
  // A policy whose instant reward is not the default, and whose payment attempt times out quickly.
  const policy = parsePolicy({
    governance: { rewards: { instant: 350, payment: { attemptTimeoutSeconds: 3, initialIntervalSeconds: 1 } } },
  });
  const rewards = policy.governance.rewards;
  const now = Date.now();
  const caseId = await seedCase(db.pool, {
    receivedAt: now,
    reporter: { anonymous: false, name: 'Liu Yang', phone: '13700001111', consentToShareWithUnit: false },
  });
  const payeeRef = newPayeeRef();
  await db.pool.query(
    `INSERT INTO reward_payees (payee_ref, case_id, method, claim_code_hash, created_by) VALUES ($1, $2, 'reporter_contact', NULL, 'clerk-1')`,
    [payeeRef, caseId],
  );

  const pauseFile = path.join(tmp, 'paused');
  const first = await startWorker(pauseFile);
  const handle = await client.workflow.start<RewardWorkflow>(REWARD_WORKFLOW, {
    taskQueue,
    workflowId: rewardWorkflowId(caseId),
    args: [{ caseId, payeeRef, policy: rewards, calendar: policy.calendar, createdBy: { id: 'clerk-1', role: 'clerk' } }],
  });
  await handle.executeUpdate(recordPreliminaryCheckUpdate, { args: [{ actor: { id: 'insp-1', role: 'inspector' }, passed: true }] });
  await handle.executeUpdate(approvePaymentUpdate, {
    args: [{ actor: { id: 'sup-1', role: 'supervisor' }, seq: 1, decision: 'approved' }],
  });

  // The gateway recorded the payment; the activity is blocked before returning. Kill the worker there.
  await eventually(async () => fs.existsSync(pauseFile), Boolean, 'the gateway to record the payment');
  const key = fs.readFileSync(pauseFile, 'utf8');
  expect((await db.pool.query(`SELECT count(*)::int AS n FROM gateway_payments`)).rows[0].n).toBe(1);
  expect((await db.pool.query(`SELECT status FROM reward_ledger WHERE idempotency_key = $1`, [key])).rows).toEqual([
    { status: 'initiated' },
  ]);
  first.child.kill('SIGKILL');
  await first.exited;

  await startWorker();
  const view = await eventually(
    () => handle.query(rewardStatusQuery),
    (v) => v.payments[0]?.status === 'paid',
    'the payment to complete',
  );

  const gateway = await db.pool.query(
    `SELECT idempotency_key, amount::float AS amount, payee_ref, payee_account, status FROM gateway_payments`,
  );
  expect(gateway.rows).toEqual([
    { idempotency_key: key, amount: rewards.instant, payee_ref: payeeRef, payee_account: '13700001111', status: 'paid' },
  ]);
  const ledger = await db.pool.query(
    `SELECT idempotency_key, case_id, payment_seq, kind, amount::float AS amount, status, approved_by FROM reward_ledger`,
  );
  expect(ledger.rows).toEqual([
    { idempotency_key: key, case_id: caseId, payment_seq: 1, kind: 'instant', amount: 350, status: 'paid', approved_by: 'sup-1' },
  ]);
  expect(view.payments[0]).toMatchObject({ amount: 350, status: 'paid' });

  // The payment activity really ran twice: the second worker ran a retry of the same payment.
  const history = await handle.fetchHistory();
  const attempts = history
    .events!.filter((e) => e.activityTaskStartedEventAttributes)
    .map((e) => e.activityTaskStartedEventAttributes!.attempt ?? 0);
  expect(Math.max(...attempts)).toBeGreaterThanOrEqual(2);
});
