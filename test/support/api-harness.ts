import { randomInt } from 'node:crypto';
import type { Server } from 'node:http';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, type Worker, type WorkerOptions } from '@temporalio/worker';
import { mintToken, type Principal } from '../../api/auth';
import { defaultPolicy, type Policy } from '../../domain/policy';
import { DEVELOPMENT_JWT_SECRET } from '../../runtime/config';
import type { Logger } from '../../runtime/logger';
import { startInProcessApi, type InProcessApi } from './api';
import { createTestDatabase, type TestDatabase } from './database';
import { createTestWorker, quietRuntime, testDataConverter, testKeyRing, uniqueTaskQueue } from './temporal';

/**
 * The API in-process on an ephemeral port, against the real Temporal dev server of the test run, a
 * worker of its own on its own task queue, and a database of its own.
 */
export class ApiHarness {
  private running?: Promise<void>;
  policy: Policy = defaultPolicy;
  constructor(
    readonly db: TestDatabase,
    readonly connection: Connection,
    readonly client: Client,
    readonly nativeConnection: NativeConnection,
    readonly worker: Worker,
    readonly http: InProcessApi,
    readonly taskQueue: string,
  ) {}

  get server(): Server {
    return this.http.server;
  }

  get baseUrl(): string {
    return this.http.baseUrl;
  }

  static async create(
    prefix: string,
    options: { temporalUiUrl?: string; workerOverrides?: Partial<WorkerOptions>; log?: Logger } = {},
  ): Promise<ApiHarness> {
    quietRuntime();
    const address = process.env.ECOLOOP_TEST_TEMPORAL_ADDRESS;
    if (!address) throw new Error('ECOLOOP_TEST_TEMPORAL_ADDRESS is not set: run the tests with `npm test`.');
    const db = await createTestDatabase();
    // Every harness shares the run's one dev server, where a workflow id is never reused: each starts
    // its case numbers at a random point, so that two test files never register the same case number.
    await db.pool.query(`SELECT setval('case_number_seq', $1, false)`, [randomInt(1, 9_000_000)]);
    const taskQueue = uniqueTaskQueue(prefix);
    const connection = await Connection.connect({ address });
    const client = new Client({ connection, dataConverter: testDataConverter });
    const nativeConnection = await NativeConnection.connect({ address });
    let harness: ApiHarness | undefined;
    // The worker reads the same policy as the API (the early-warning rules, for one).
    const worker = await createTestWorker({
      connection: nativeConnection,
      taskQueue,
      pool: db.pool,
      activityDeps: { client, policy: () => harness!.policy },
      overrides: options.workerOverrides,
    });
    const http = await startInProcessApi({
      client,
      connection,
      pool: db.pool,
      policy: () => harness!.policy,
      taskQueue,
      keyRing: testKeyRing,
      temporalUiUrl: options.temporalUiUrl,
      ...(options.log && { log: options.log }),
    });
    harness = new ApiHarness(db, connection, client, nativeConnection, worker, http, taskQueue);
    harness.running = worker.run();
    return harness;
  }

  token(principal: Principal): Promise<string> {
    return mintToken(DEVELOPMENT_JWT_SECRET, principal);
  }

  async request(
    method: string,
    path: string,
    options: { token?: string; body?: unknown; headers?: Record<string, string> } = {},
  ): Promise<{ status: number; body: any; headers: Headers }> {
    const res = await fetch(`${this.baseUrl}${path}`, {
      method,
      headers: {
        ...(options.body !== undefined && { 'content-type': 'application/json' }),
        ...(options.token && { authorization: `Bearer ${options.token}` }),
        ...options.headers,
      },
      body: options.body === undefined ? undefined : typeof options.body === 'string' ? options.body : JSON.stringify(options.body),
    });
    const text = await res.text();
    let body: unknown = text;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      /* not JSON */
    }
    return { status: res.status, body, headers: res.headers };
  }

  /** Poll until `predicate` holds for GET path. */
  async eventually(path: string, token: string, predicate: (body: any) => boolean, what = path): Promise<any> {
    const deadline = Date.now() + 20_000;
    for (;;) {
      const res = await this.request('GET', path, { token });
      if (res.status === 200 && predicate(res.body)) return res.body;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${res.status} ${JSON.stringify(res.body)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  async teardown(): Promise<void> {
    await this.http.stop();
    this.worker.shutdown();
    await this.running;
    await this.nativeConnection.close();
    await this.connection.close();
    await this.db.drop();
  }
}
