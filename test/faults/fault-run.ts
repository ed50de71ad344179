import { randomBytes, randomInt } from 'node:crypto';
import http, { type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import type { Pool } from 'pg';
import { startInProcessApi } from '../support/api';
import { mintToken } from '../../api/auth';
import { workflowIdFor, type CaseView } from '../../domain/case';
import { rewardWorkflowId, tieredReward } from '../../domain/governance';
import { type Policy } from '../../domain/policy';
import { parsePolicy } from '../../domain/schemas/policy';
import { spawnOwned, type OwnedProcess } from '../../runtime/child-process';
import { DEVELOPMENT_JWT_SECRET } from '../../runtime/config';
import { createLogger } from '../../runtime/logger';
import { statusQuery, type ComplaintOutcome } from '../../workflows/contracts/complaint';
import type { RewardView } from '../../workflows/contracts/reward';
import { quietRuntime, testDataConverter, testKeyRing } from '../support/temporal';

/**
 * The run every fault-injection test makes: hundreds of complaints registered through the HTTP API
 * and driven to their end by a driver that takes each decision (retrying with the same
 * Idempotency-Key on a 5xx or a dropped connection, as a real client should), a worker in a child
 * process that a test may kill with SIGKILL, and a webhook receiver counting every notification
 * delivery by its Idempotency-Key. Then `verifyNothingLostOrDoubled` checks every case, event and
 * notification against what each case's workflow itself recorded.
 */

const root = path.resolve(__dirname, '..', '..');
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const minutes = (amount: number) => ({ amount, unit: 'minutes' as const });
const seconds = (amount: number) => minutes(amount / 60);

/**
 * Seconds-scale where the run needs time to pass (the callback window of `air` cases, the
 * monitoring window before the archive), and half an hour where the driver decides (so no
 * warning or escalation fires in a run, and every case's timeline is known in advance).
 */
export const faultPolicy: Policy = parsePolicy({
  version: 'fault-injection',
  defaults: {
    supplement: minutes(30),
    accept: minutes(30),
    handle: minutes(30),
    rework: minutes(30),
    callback: { attempts: 1, spacing: minutes(30) },
    monitoringWindow: seconds(3),
  },
  urgent: {},
  categories: { air: { callback: { attempts: 1, spacing: seconds(3) } } },
});

/** Even cases (noise): the complainant answers the callback. Odd cases (air): nobody answers, the window lapses. */
export const categoryOf = (i: number) => (i % 2 === 0 ? 'noise' : 'air');

export function expectedTimeline(i: number): string[] {
  const start = ['registered', 'registered_for_acceptance', 'accepted', 'result_submitted', 'result_approved', 'callback_attempt_started'];
  return categoryOf(i) === 'noise'
    ? [...start, 'callback_answered', 'closed', 'archived']
    : [...start, 'callback_unreachable', 'closed', 'archived'];
}

/**
 * Every tenth case's reporter is rewarded, while the run (and its faults) goes on: the instant reward
 * on the passed preliminary check, then the tiered one on a confirmed serious violation, each paid
 * once a supervisor approves it, through the development gateway (table gateway_payments).
 */
export const isRewarded = (i: number) => i % 10 === 3;
const SERIOUS_PENALTY = 300_000;

/** The payments a rewarded case must end with, by payment seq: the policy's amounts. */
export function expectedRewardPayments(): Array<{ seq: number; kind: string; amount: number }> {
  const rewards = faultPolicy.governance.rewards;
  return [
    { seq: 1, kind: 'instant', amount: rewards.instant },
    { seq: 2, kind: 'tiered', amount: tieredReward(rewards, 'serious', SERIOUS_PENALTY) },
  ];
}

// ---- Webhook receiver ----

export interface Receiver {
  url: string;
  /** Every delivery's raw body, by Idempotency-Key. */
  deliveries: Map<string, string[]>;
  total(): number;
  close(): Promise<void>;
}

export async function startReceiver(): Promise<Receiver> {
  const deliveries = new Map<string, string[]>();
  let total = 0;
  const server: Server = http.createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk) => (body += chunk));
    req.on('end', () => {
      const key = String(req.headers['idempotency-key'] ?? '');
      deliveries.set(key, [...(deliveries.get(key) ?? []), body]);
      total++;
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/notify`,
    deliveries,
    total: () => total,
    close: () => new Promise((r) => (server.closeAllConnections(), server.close(() => r()))),
  };
}

// ---- Child processes ----

/**
 * The environment of a child process of a test: this one's, without the settings a developer's
 * shell may carry (keys, policy, servers), plus `overrides`. Keys unset: the development key ring,
 * which is the tests' (test/support/temporal.ts).
 */
export function childEnv(overrides: Record<string, string>): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const name of [
    'ENCRYPTION_KEYS',
    'ENCRYPTION_KEY_ID',
    'REPORTER_KEYS',
    'REPORTER_KEY_ID',
    'REPORTER_INDEX_KEYS',
    'REPORTER_INDEX_KEY_ID',
    'POLICY_FILE',
    'DATABASE_URL',
    'TEMPORAL_ADDRESS',
    'NOTIFICATION_WEBHOOK_URL',
  ]) {
    delete env[name];
  }
  return { ...env, LOG_LEVEL: 'warn', ...overrides };
}

// ---- The worker process ----

export class FaultWorker {
  private proc?: OwnedProcess;
  readonly output: string[] = [];
  starts = 0;
  kills = 0;
  /** Set while the test itself stops or kills the process. */
  private ending = false;

  constructor(private readonly env: Record<string, string>) {}

  /** Start a worker process and wait until it polls. */
  async start(): Promise<void> {
    let ready!: () => void;
    const isReady = new Promise<void>((r) => (ready = r));
    const proc = spawnOwned('fault-worker', process.execPath, ['--import', 'tsx', path.join(root, 'test', 'support', 'fault-worker.ts')], {
      cwd: root,
      env: childEnv({ NOTIFICATION_POLL_MS: '200', ...this.env }),
      onLine: (line) => {
        this.output.push(line);
        if (this.output.length > 200) this.output.shift();
        if (line.includes('fault-worker ready')) ready();
      },
    });
    this.proc = proc;
    this.starts++;
    let isUp = false;
    const exited = proc.exited.then((code) => {
      // Stopped or killed by the test: expected. Otherwise say so at once, with its last words.
      if (isUp && this.proc === proc && !this.ending) {
        process.stderr.write(`the fault worker exited unexpectedly (${code}):\n${this.output.slice(-40).join('\n')}\n`);
      }
      if (!isUp) throw new Error(`the fault worker exited (${code}) before it was ready:\n${this.output.slice(-20).join('\n')}`);
    });
    await Promise.race([isReady, exited]);
    isUp = true;
    this.ending = false;
    exited.catch(() => undefined);
  }

  /** The worker's last lines of output (LOG_LEVEL=warn), for a failing test's report. */
  lastOutput(lines = 40): string {
    return this.output.slice(-lines).join('\n');
  }

  /** kill -9: no shutdown, no drain, whatever it was doing is cut off. */
  async kill9(): Promise<void> {
    const proc = this.proc;
    if (!proc) return;
    this.ending = true;
    proc.child.kill('SIGKILL');
    await proc.exited;
    this.kills++;
  }

  async stop(): Promise<void> {
    this.ending = true;
    await this.proc?.stop('SIGTERM', 10_000);
  }
}

// ---- The API, in this process ----

export interface InProcessApi {
  baseUrl: string;
  client: Client;
  stop(): Promise<void>;
}

export async function startApi(options: { temporalAddress: string; pool: Pool; taskQueue: string }): Promise<InProcessApi> {
  quietRuntime();
  const connection = await Connection.connect({ address: options.temporalAddress });
  const client = new Client({ connection, dataConverter: testDataConverter });
  // Every run shares the dev server, where a workflow id is never reused: start the case numbers at a random point.
  await options.pool.query(`SELECT setval('case_number_seq', $1, false)`, [randomInt(1, 9_000_000)]);
  const api = await startInProcessApi({
    client,
    connection,
    pool: options.pool,
    policy: () => faultPolicy,
    taskQueue: options.taskQueue,
    // An unexpected error (a 500) is logged with its stack: the tests require none.
    log: createLogger('error', 'fault-api'),
    keyRing: testKeyRing,
  });
  return {
    baseUrl: api.baseUrl,
    client,
    async stop() {
      await api.stop();
      await connection.close();
    },
  };
}

// ---- The driver ----

export interface Tokens {
  clerk: string;
  unit: string;
  /** Takes the reward findings. */
  inspector: string;
  /** Approves the reward payments. */
  supervisor: string;
}

export const UNIT = 'unit-fault';

export async function tokens(): Promise<Tokens> {
  return {
    clerk: await mintToken(DEVELOPMENT_JWT_SECRET, { sub: 'clerk-fault', role: 'clerk' }),
    unit: await mintToken(DEVELOPMENT_JWT_SECRET, { sub: 'unit-user', role: 'unit', unitId: UNIT }),
    inspector: await mintToken(DEVELOPMENT_JWT_SECRET, { sub: 'inspector-fault', role: 'inspector' }),
    supervisor: await mintToken(DEVELOPMENT_JWT_SECRET, { sub: 'supervisor-fault', role: 'supervisor', divisions: ['3701'] }),
  };
}

export interface Response {
  status: number;
  body: any;
  contentType: string;
}

export async function request(
  baseUrl: string,
  method: string,
  url: string,
  token: string,
  body?: unknown,
  key?: string,
): Promise<Response> {
  const res = await fetch(`${baseUrl}${url}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body !== undefined && { 'content-type': 'application/json' }),
      ...(key && { 'idempotency-key': key }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    /* not JSON */
  }
  return { status: res.status, body: parsed, contentType: res.headers.get('content-type') ?? '' };
}

/**
 * Registers `count` complaints through the API and takes every decision on each, `concurrency`
 * cases at a time. A 5xx or a dropped connection is retried with the same Idempotency-Key (a
 * decision's key is its update id, so a retry never applies it twice); any 4xx fails the run.
 */
export class Driver {
  readonly caseIds: string[] = [];
  /** The cases whose reporter the driver rewards (isRewarded), once their reward is open. */
  readonly rewardedCaseIds: string[] = [];
  /** Responses by status, retries included. */
  readonly statuses = new Map<number, number>();
  /** Failed attempts that never reached an answer (connection refused or reset). */
  networkErrors = 0;
  /** The first few 5xx answers, for the report. */
  readonly serverErrors: string[] = [];
  /** Every 500 (an unexpected error: the API logs its stack), with what was sent. */
  readonly unexpected: string[] = [];
  registered = 0;
  decided = 0;
  private waiters: Array<{ n: number; resolve: () => void }> = [];
  private readonly run = randomBytes(4).toString('hex');

  constructor(
    private readonly baseUrl: string,
    private readonly tokens: Tokens,
    private readonly count: number,
    private readonly concurrency = 20,
  ) {}

  private done?: Promise<void>;
  private failure?: Error;

  /** Resolves once `n` cases are registered; rejects if the run fails first. */
  whenRegistered(n: number): Promise<void> {
    if (this.registered >= n) return Promise.resolve();
    const reached = new Promise<void>((resolve) => this.waiters.push({ n, resolve }));
    const failed = this.done!.then(() => {
      throw new Error(`the run ended with ${this.registered} cases registered, fewer than ${n}`);
    });
    return Promise.race([reached, failed]);
  }

  /**
   * Send until answered: a 5xx or a dropped connection is retried with the same Idempotency-Key. A
   * status in `alsoDone` after a failed attempt counts as done (the first attempt was applied, its
   * answer lost).
   */
  private async call(method: string, url: string, token: string, body: unknown, key: string, alsoDone?: number): Promise<Response> {
    const deadline = Date.now() + 4 * 60_000;
    let failedBefore = false;
    for (;;) {
      let res: Response | undefined;
      try {
        res = await request(this.baseUrl, method, url, token, body, key);
        this.statuses.set(res.status, (this.statuses.get(res.status) ?? 0) + 1);
        if (res.status === 500) this.unexpected.push(`${method} ${url} ${JSON.stringify(body)}: ${JSON.stringify(res.body)}`);
        if (res.status >= 500 && this.serverErrors.length < 10)
          this.serverErrors.push(`${res.status} ${method} ${url.replace(/EC-\d{4}-\d+/, ':id')}: ${res.body?.detail}`);
      } catch {
        this.networkErrors++;
      }
      if (res && res.status < 300) return res;
      if (res && failedBefore && res.status === alsoDone) return res;
      failedBefore = !res || res.status >= 500;
      if (res && res.status < 500) throw new Error(`${method} ${url} answered ${res.status}: ${JSON.stringify(res.body)}`);
      if (Date.now() > deadline)
        throw new Error(`${method} ${url} still failing after 4 minutes: ${res?.status} ${JSON.stringify(res?.body)}`);
      await sleep(250);
    }
  }

  private async driveOne(i: number): Promise<void> {
    const { clerk, unit } = this.tokens;
    const key = (step: string) => `${step}-${this.run}-${i}`;
    const reg = await this.call(
      'POST',
      '/v1/complaints',
      clerk,
      {
        channel: 'hotline',
        category: categoryOf(i),
        divisionCode: '370102',
        title: `Fault-injection complaint ${i}`,
        description: 'Smoke and noise from the plant at night.',
        reporter: { anonymous: false, name: 'Reporter', phone: '13900000000' },
      },
      key('register'),
    );
    const caseId = reg.body.caseId as string;
    this.caseIds[i] = caseId;
    this.registered++;
    for (const w of this.waiters.filter((w) => this.registered >= w.n)) w.resolve();
    const decide = (step: string, token: string, body: unknown) =>
      this.call('POST', `/v1/complaints/${caseId}/${step}`, token, body, key(step));
    // As a clerk would: accept once the intake checks have put the case up for acceptance.
    await this.waitForStatus(caseId, 'pending_acceptance');
    await decide('accept', clerk, { unitId: UNIT });
    if (isRewarded(i)) await this.reward(caseId, key);
    await decide('result', unit, { summary: 'Inspected and fixed.', reply: 'The plant was ordered to stop night work.' });
    await decide('review', clerk, { decision: 'approved' });
    if (categoryOf(i) === 'noise') await decide('callback', clerk, { outcome: 'satisfied' });
    this.decided++;
  }

  /** Open the case's reward and take every finding and approval, so that two payments go out. */
  private async reward(caseId: string, key: (step: string) => string): Promise<void> {
    const { clerk, inspector, supervisor } = this.tokens;
    // A retried opening whose first attempt went through is refused as a conflict: the reward exists.
    await this.call('POST', '/v1/governance/rewards', clerk, { caseId }, key('reward'), 409);
    this.rewardedCaseIds.push(caseId);
    const step = (path: string, token: string, body: unknown) =>
      this.call('POST', `/v1/governance/rewards/${caseId}/${path}`, token, body, key(`reward-${path.replace(/\//g, '-')}`));
    await step('preliminary-check', inspector, { passed: true, note: 'The site matches the report.' });
    await step('payments/1/approval', supervisor, { decision: 'approved' });
    await step('confirmation', inspector, { confirmed: true, severity: 'serious', penaltyAmount: SERIOUS_PENALTY });
    await step('payments/2/approval', supervisor, { decision: 'approved' });
  }

  private async waitForStatus(caseId: string, status: string): Promise<void> {
    const deadline = Date.now() + 4 * 60_000;
    for (;;) {
      const res = await request(this.baseUrl, 'GET', `/v1/complaints/${caseId}`, this.tokens.clerk).catch(() => undefined);
      if (res) this.statuses.set(res.status, (this.statuses.get(res.status) ?? 0) + 1);
      if (res && res.status >= 500 && this.serverErrors.length < 10)
        this.serverErrors.push(`${res.status} GET /v1/complaints/:id: ${res.body?.detail}`);
      if (res?.status === 200 && res.body.status === status) return;
      if (res && res.status !== 200 && res.status < 500)
        throw new Error(`GET ${caseId} answered ${res.status}: ${JSON.stringify(res.body)}`);
      if (Date.now() > deadline) throw new Error(`${caseId} did not reach '${status}' in 4 minutes: ${res?.status} ${res?.body?.status}`);
      await sleep(100);
    }
  }

  /** Start driving every case; resolves when every decision has been taken, rejects on the first failure. */
  drive(): Promise<void> {
    let next = 0;
    const lane = async () => {
      while (next < this.count && !this.failure) {
        try {
          await this.driveOne(next++);
        } catch (err) {
          this.failure ??= err as Error;
        }
      }
    };
    this.done = Promise.all(Array.from({ length: this.concurrency }, lane)).then(() => {
      if (this.failure) throw this.failure;
    });
    return this.done;
  }
}

// ---- The verdict ----

export interface Verdict {
  cases: number;
  events: number;
  notifications: number;
  deliveries: number;
  redeliveries: number;
  rewards: number;
  payments: number;
}

async function inBatches<T, R>(items: T[], size: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = [];
  for (let i = 0; i < items.length; i += size) out.push(...(await Promise.all(items.slice(i, i + size).map(fn))));
  return out;
}

/**
 * Every case finished, and nothing was lost or doubled: checked against each workflow's own
 * timeline (the source of truth), not against counts the projection could get wrong with it.
 *
 * - cases: exactly `count` distinct cases, one workflow each on the task queue, one projected row
 *   each, every one archived with the closure its script leads to;
 * - events: each workflow's timeline is its script's, and the projected events of each case are
 *   exactly that timeline: seqs 1..n without a gap, the same types, and `last_seq` = n;
 * - notifications: the outbox holds exactly one row per (event, recipient) of the timelines; every
 *   row is delivered and reached the receiver; a repeat delivery carries the same Idempotency-Key
 *   and the same body (so a receiver that drops repeats acts once), and repeats number at most
 *   `maxRedeliveries` (0 where the sender is never cut off mid-batch);
 * - payments: every rewarded case's reward workflow completed with both its payments paid, the
 *   gateway holds exactly one payment per payment of those workflows (keyed by the workflow's own
 *   idempotency key, of the policy's amount), and the ledger one row per payment, paid.
 */
export async function verifyNothingLostOrDoubled(options: {
  client: Client;
  pool: Pool;
  receiver: Receiver;
  taskQueue: string;
  caseIds: string[];
  rewardedCaseIds: string[];
  count: number;
  maxRedeliveries: number;
}): Promise<Verdict> {
  const { client, pool, receiver, caseIds, rewardedCaseIds, count } = options;
  expect(caseIds.filter(Boolean)).toHaveLength(count);
  expect(new Set(caseIds).size).toBe(count);

  // Every case finishes: each workflow completes, archived, with the closure its script leads to.
  const outcomes = await inBatches(caseIds, 25, (id) => client.workflow.getHandle(workflowIdFor(id)).result() as Promise<ComplaintOutcome>);
  outcomes.forEach((o, i) => {
    expect(o.caseId).toBe(caseIds[i]);
    expect(o.closure).toBe(categoryOf(i) === 'noise' ? 'resolved' : 'unreachable');
  });

  // Each workflow's own record: its timeline, with the recipients of every event.
  const views = await inBatches(caseIds, 10, (id) => client.workflow.getHandle(workflowIdFor(id)).query<CaseView>(statusQuery));
  views.forEach((v, i) =>
    expect({ caseId: v.caseId, types: v.timeline.map((e) => e.type) }).toEqual({ caseId: caseIds[i], types: expectedTimeline(i) }),
  );

  // Exactly one workflow per case was started on the queue (no retry started a second), and one reward per rewarded case.
  const started = await client.workflow.count(`TaskQueue = '${options.taskQueue}' AND WorkflowType = 'complaintWorkflow'`);
  expect(started.count).toBe(count);
  const rewardsStarted = await client.workflow.count(`TaskQueue = '${options.taskQueue}' AND WorkflowType = 'rewardWorkflow'`);
  expect(rewardsStarted.count).toBe(rewardedCaseIds.length);
  const others = await client.workflow.count(`TaskQueue = '${options.taskQueue}'`);
  expect(others.count).toBe(count + rewardedCaseIds.length);

  // The projection: one row per case, archived, last_seq = the timeline's length.
  const rows = await pool.query<{ case_id: string; status: string; last_seq: number }>(
    `SELECT case_id, status, last_seq FROM cases ORDER BY case_id`,
  );
  expect(rows.rows).toHaveLength(count);
  const byId = new Map(rows.rows.map((r) => [r.case_id, r]));
  views.forEach((v) => expect(byId.get(v.caseId)).toEqual({ case_id: v.caseId, status: 'archived', last_seq: v.timeline.length }));

  // The projected events are exactly each timeline: seqs 1..n, in order, same types.
  const events = await pool.query<{ case_id: string; seq: number; type: string }>(
    `SELECT case_id, seq, type FROM case_events ORDER BY case_id, seq`,
  );
  const projected = new Map<string, Array<[number, string]>>();
  for (const e of events.rows) projected.set(e.case_id, [...(projected.get(e.case_id) ?? []), [e.seq, e.type]]);
  for (const v of views) expect(projected.get(v.caseId)).toEqual(v.timeline.map((e) => [e.seq, e.type]));
  expect(events.rows).toHaveLength(views.reduce((n, v) => n + v.timeline.length, 0));

  // The outbox: exactly the notifications of the timelines, each once.
  const expectedKeys = views.flatMap((v) => v.timeline.flatMap((e) => (e.notify ?? []).map((r) => `${v.caseId}:${e.seq}:${r}`))).sort();
  const outbox = await pool.query<{ idempotency_key: string }>(`SELECT idempotency_key FROM outbox ORDER BY idempotency_key`);
  expect(outbox.rows.map((r) => r.idempotency_key)).toEqual(expectedKeys);

  // Delivered: every row marked, every key received; repeats identical and bounded.
  const deadline = Date.now() + 60_000;
  const undelivered = async () => Number((await pool.query(`SELECT count(*) AS n FROM outbox WHERE delivered_at IS NULL`)).rows[0].n);
  while ((await undelivered()) > 0 || receiver.deliveries.size < expectedKeys.length) {
    if (Date.now() > deadline) break;
    await sleep(200);
  }
  expect(await undelivered()).toBe(0);
  expect([...receiver.deliveries.keys()].sort()).toEqual(expectedKeys);
  let redeliveries = 0;
  for (const bodies of receiver.deliveries.values()) {
    redeliveries += bodies.length - 1;
    for (const body of bodies) expect(body).toBe(bodies[0]);
  }
  expect(redeliveries).toBeLessThanOrEqual(options.maxRedeliveries);

  // Payments: each reward workflow's own record, then the gateway and the ledger against it.
  expect(rewardedCaseIds.sort()).toEqual(caseIds.filter((_, i) => isRewarded(i)).sort());
  const rewards = await inBatches(
    rewardedCaseIds,
    10,
    (id) => client.workflow.getHandle(rewardWorkflowId(id)).result() as Promise<RewardView>,
  );
  const expectedPayments = expectedRewardPayments();
  for (const r of rewards) {
    expect({
      caseId: r.caseId,
      status: r.status,
      payments: r.payments.map((p) => ({ seq: p.seq, kind: p.kind, amount: p.amount, status: p.status })),
    }).toEqual({
      caseId: r.caseId,
      status: 'completed',
      payments: expectedPayments.map((p) => ({ ...p, status: 'paid' })),
    });
  }
  const paymentKeys = rewards
    .flatMap((r) => r.payments.map((p) => ({ key: p.idempotencyKey, amount: p.amount })))
    .sort((a, b) => a.key.localeCompare(b.key));
  const gateway = await pool.query<{ idempotency_key: string; amount: string }>(
    `SELECT idempotency_key, amount FROM gateway_payments ORDER BY idempotency_key`,
  );
  expect(gateway.rows.map((g) => ({ key: g.idempotency_key, amount: Number(g.amount) }))).toEqual(paymentKeys);
  const ledger = await pool.query<{ idempotency_key: string; status: string }>(
    `SELECT idempotency_key, status FROM reward_ledger ORDER BY idempotency_key`,
  );
  expect(ledger.rows).toEqual(paymentKeys.map((p) => ({ idempotency_key: p.key, status: 'paid' })));

  return {
    cases: count,
    events: events.rows.length,
    notifications: expectedKeys.length,
    deliveries: receiver.total(),
    redeliveries,
    rewards: rewards.length,
    payments: gateway.rows.length,
  };
}
