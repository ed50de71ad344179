import fs from 'node:fs';
import path from 'node:path';
import type { WorkflowHandleWithFirstExecutionRunId } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import type { Actor, CaseView, ComplaintInput, Intake } from '../../domain/case';
import { LEAN_START, workflowIdFor } from '../../domain/case';
import { casePolicy, defaultPolicy, type Policy } from '../../domain/policy';
import { statusQuery } from '../../workflows/contracts/complaint';
import { complaintWorkflow } from '../../workflows/complaint';
import { startInProcessApi, type InProcessApi } from './api';
import { createTestDatabase, type TestDatabase } from './database';
import { createTestWorker, createTimeSkippingEnv, testKeyRing, uniqueTaskQueue } from './temporal';

export const DAY = 86_400_000;
export const HOUR = 3_600_000;

export const clerk: Actor = { id: 'clerk-1', role: 'clerk' };
export const supervisor: Actor = { id: 'sup-1', role: 'supervisor' };
export const unit = (id = 'unit-1'): Actor => ({ id, role: 'unit' });

export type ComplaintHandle = WorkflowHandleWithFirstExecutionRunId<typeof complaintWorkflow>;

let caseCounter = 0;
/** Case ids unique across test files, so histories and databases never collide. */
export function nextCaseId(): string {
  caseCounter++;
  return `EC-2026-${String(process.pid % 1000).padStart(3, '0')}${String(caseCounter).padStart(4, '0')}`;
}

export function intake(overrides: Partial<Omit<Intake, 'receivedAt'>> = {}): Omit<Intake, 'receivedAt'> {
  return {
    channel: 'hotline',
    category: 'air',
    urgency: 'normal',
    divisionCode: '370102',
    title: 'Black smoke from a boiler chimney',
    description: 'Every night after 22:00 the chimney of the boiler room emits black smoke.',
    location: {},
    reporter: { anonymous: false, name: 'Wang Fang', phone: '13800000000', consentToShareWithUnit: false },
    missing: [],
    ...overrides,
  };
}

/**
 * One time-skipping Temporal test server, one real PostgreSQL database and one worker for a test
 * file. Time is global to the server: tests in a file run one after another.
 */
export class ComplaintHarness {
  private running?: Promise<void>;
  private api?: InProcessApi;
  constructor(
    readonly env: TestWorkflowEnvironment,
    readonly db: TestDatabase,
    readonly worker: Worker,
    readonly taskQueue: string,
  ) {}

  static async create(prefix: string): Promise<ComplaintHarness> {
    const db = await createTestDatabase();
    const env = await createTimeSkippingEnv();
    const taskQueue = uniqueTaskQueue(prefix);
    const worker = await createTestWorker({
      connection: env.nativeConnection,
      taskQueue,
      pool: db.pool,
      activityDeps: { client: env.client },
    });
    const h = new ComplaintHarness(env, db, worker, taskQueue);
    h.running = worker.run();
    return h;
  }

  async start(
    intakeOverrides: Partial<Omit<Intake, 'receivedAt'>> = {},
    options: {
      policy?: Policy;
      caseId?: string;
      continueAsNewAfterEvents?: number;
      /** Started as before LEAN_START (no `writePath`): the patches asked, the duplicate check a regular activity. */
      beforeLeanStart?: boolean;
    } = {},
  ): Promise<ComplaintHandle> {
    const i = intake(intakeOverrides);
    const caseId = options.caseId ?? nextCaseId();
    const input: ComplaintInput = {
      caseId,
      intake: i,
      receivedAt: await this.env.currentTimeMs(),
      owner: clerk,
      policy: casePolicy(options.policy ?? defaultPolicy, i.category, i.urgency),
      continueAsNewAfterEvents: options.continueAsNewAfterEvents,
      // As the API starts it (api/registration.ts).
      ...(!options.beforeLeanStart && { writePath: LEAN_START }),
    };
    return this.env.client.workflow.start(complaintWorkflow, {
      taskQueue: this.taskQueue,
      workflowId: workflowIdFor(caseId),
      args: [input],
    });
  }

  /** Poll the workflow's view until `predicate` holds (timers fire in real time once skipped to). */
  async waitFor(handle: ComplaintHandle, predicate: (v: CaseView) => boolean, what = 'condition'): Promise<CaseView> {
    const deadline = Date.now() + 20_000;
    let view: CaseView | undefined;
    for (;;) {
      view = await handle.query(statusQuery);
      if (predicate(view)) return view;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; view: ${JSON.stringify(view, null, 1)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  waitForEvent(handle: ComplaintHandle, type: string, count = 1): Promise<CaseView> {
    return this.waitFor(handle, (v) => v.timeline.filter((e) => e.type === type).length >= count, `event ${type} x${count}`);
  }

  /** Advance the server's clock. */
  sleep(ms: number): Promise<void> {
    return this.env.sleep(ms);
  }

  /** Store a history for the replay test when ECOLOOP_RECORD_HISTORIES=1. */
  async recordHistory(handle: ComplaintHandle, name: string): Promise<void> {
    if (process.env.ECOLOOP_RECORD_HISTORIES !== '1') return;
    const history = await handle.fetchHistory();
    const dir = path.resolve(__dirname, '..', 'histories');
    fs.mkdirSync(dir, { recursive: true });
    // Binary protobuf: the JSON serialiser does not survive jest's module registry.
    fs.writeFileSync(path.join(dir, `${name}.binpb`), temporal.api.history.v1.History.encode(history).finish());
  }

  /** The API in-process on an ephemeral port, against this harness's server; closed at teardown. Returns its base URL. */
  async serveApi(policy: () => Policy): Promise<string> {
    this.api = await startInProcessApi({
      client: this.env.client,
      connection: this.env.connection,
      pool: this.db.pool,
      policy,
      taskQueue: this.taskQueue,
      keyRing: testKeyRing,
      limits: { publicRateLimitPerMinute: 1000, temporalTimeoutMs: 10_000 },
    });
    return this.api.baseUrl;
  }

  async teardown(): Promise<void> {
    await this.api?.stop();
    this.worker.shutdown();
    await this.running;
    await this.env.teardown();
    await this.db.drop();
  }
}

export function eventsOf(view: CaseView, type: string) {
  return view.timeline.filter((e) => e.type === type);
}

export function eventAt(view: CaseView, type: string, nth = 0): number {
  const e = eventsOf(view, type)[nth];
  if (!e) throw new Error(`no ${type} event #${nth} in ${view.timeline.map((t) => t.type).join(', ')}`);
  return Date.parse(e.at);
}
