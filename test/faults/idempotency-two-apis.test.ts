import { randomInt } from 'node:crypto';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, type Worker } from '@temporalio/worker';
import { spawnOwned, waitFor, type OwnedProcess } from '../../runtime/child-process';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { freePort } from '../support/ports';
import { createTestWorker, quietRuntime, testDataConverter, uniqueTaskQueue } from '../support/temporal';
import { childEnv, request, sleep, tokens } from './fault-run';

/**
 * Two real API processes (api/server.ts, each with its own connection pool and Temporal client)
 * receive the same registration, with the same Idempotency-Key, at the same moment: one case.
 */

const KEYS = 20;
const REQUESTS_PER_API = 2;
const root = path.resolve(__dirname, '..', '..');

let db: TestDatabase;
let apis: Array<{ proc: OwnedProcess; url: string }> = [];
let connection: Connection;
let client: Client;
let nativeConnection: NativeConnection;
let worker: Worker;
let running: Promise<void>;
const taskQueue = uniqueTaskQueue('fault-idem');

async function startApiProcess(): Promise<{ proc: OwnedProcess; url: string }> {
  const port = await freePort();
  const output: string[] = [];
  const proc = spawnOwned('api', process.execPath, ['--import', 'tsx', path.join(root, 'api', 'server.ts')], {
    cwd: root,
    env: childEnv({
      PORT: String(port),
      HOST: '127.0.0.1',
      TEMPORAL_ADDRESS: process.env.ECOLOOP_TEST_TEMPORAL_ADDRESS!,
      DATABASE_URL: db.url,
      TEMPORAL_TASK_QUEUE: taskQueue,
    }),
    onLine: (line) => output.push(line),
  });
  const url = `http://127.0.0.1:${port}`;
  await waitFor(`API process on ${port}`, async () => (await fetch(`${url}/health`)).ok, { timeoutMs: 60_000, aborted: proc.exited }).catch(
    (err) => {
      throw new Error(`${(err as Error).message}\n${output.slice(-20).join('\n')}`);
    },
  );
  return { proc, url };
}

beforeAll(async () => {
  quietRuntime();
  db = await createTestDatabase();
  // Every run shares the dev server, where a workflow id is never reused: start the case numbers at a random point.
  await db.pool.query(`SELECT setval('case_number_seq', $1, false)`, [randomInt(1, 9_000_000)]);
  connection = await Connection.connect({ address: process.env.ECOLOOP_TEST_TEMPORAL_ADDRESS! });
  client = new Client({ connection, dataConverter: testDataConverter });
  nativeConnection = await NativeConnection.connect({ address: process.env.ECOLOOP_TEST_TEMPORAL_ADDRESS! });
  worker = await createTestWorker({ connection: nativeConnection, taskQueue, pool: db.pool, activityDeps: { client } });
  running = worker.run();
  apis = await Promise.all([startApiProcess(), startApiProcess()]);
});

afterAll(async () => {
  await Promise.all(apis.map((a) => a.proc.stop('SIGTERM', 10_000)));
  worker?.shutdown();
  await running;
  await nativeConnection?.close();
  await connection?.close();
  await db?.drop();
});

test('when two API processes receive the same Idempotency-Key at the same moment, then exactly one case is created for it', async () => {
  const { clerk } = await tokens();
  const body = (k: number) => ({
    channel: 'wechat',
    category: 'odour',
    divisionCode: '370102',
    title: `Same request ${k}`,
    description: 'A rotten smell from the treatment plant.',
  });
  // Every request of every key, to both processes, fired together.
  const sent = Array.from({ length: KEYS }, (_, k) =>
    apis.flatMap((api) =>
      Array.from({ length: REQUESTS_PER_API }, () =>
        request(api.url, 'POST', '/v1/complaints', clerk, body(k), `same-moment-${taskQueue}-${k}`),
      ),
    ),
  );
  const answers = await Promise.all(sent.map((requests) => Promise.all(requests)));

  const caseIds = answers.map((responses, k) => {
    for (const r of responses) expect({ key: k, status: r.status === 200 || r.status === 201 }).toEqual({ key: k, status: true });
    const ids = new Set(responses.map((r) => r.body.caseId));
    expect({ key: k, ids: ids.size }).toEqual({ key: k, ids: 1 });
    // At most one answer says it created the case.
    expect(responses.filter((r) => r.status === 201).length).toBeLessThanOrEqual(1);
    return [...ids][0] as string;
  });
  expect(new Set(caseIds).size).toBe(KEYS);

  // One key row each, one workflow each (none started for a losing case number), one projected case each.
  const keyRows = await db.pool.query(`SELECT count(*)::int AS n FROM intake_requests`);
  expect(keyRows.rows[0].n).toBe(KEYS);
  await waitFor('every case projected', async () => (await db.pool.query(`SELECT count(*)::int AS n FROM cases`)).rows[0].n >= KEYS, {
    timeoutMs: 60_000,
  });
  await sleep(1_000);
  const cases = await db.pool.query<{ case_id: string }>(`SELECT case_id FROM cases ORDER BY case_id`);
  expect(cases.rows.map((r) => r.case_id)).toEqual([...caseIds].sort());
  const workflows = await client.workflow.count(`TaskQueue = '${taskQueue}'`);
  expect(workflows.count).toBe(KEYS);
});
