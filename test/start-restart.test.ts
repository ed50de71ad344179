import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { mintToken } from '../api/auth';
import { DEVELOPMENT_JWT_SECRET, configVariables } from '../runtime/config';
import { freePort } from './support/ports';

/**
 * The real `npm start` (runtime/start.ts), run twice on the same DATA_DIR with nothing given: it
 * starts its own Temporal dev server (SQLite) and embedded PostgreSQL. A complaint registered in
 * the first run is still there, with its workflow still running, after a clean stop and a restart.
 */

const root = path.resolve(__dirname, '..');
const OUTPUT_LINES_KEPT = 80;

interface StartRun {
  child: ChildProcess;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  output: string[];
}

let dataDir: string;
let ports: { api: number; temporal: number; ui: number; postgres: number };
let env: NodeJS.ProcessEnv;
let current: StartRun | undefined;
let token: string;
let caseId: string | undefined;
/** The run of the case's workflow that the first npm start began. */
let runId: string | undefined;

/** Distinct ports that were free a moment ago. */
async function distinctFreePorts(count: number): Promise<number[]> {
  const found = new Set<number>();
  while (found.size < count) found.add(await freePort());
  return [...found];
}

/**
 * Start npm start on ports that are free right now. Each run takes new ones: what must survive a
 * restart lives in DATA_DIR, and a port given up by the first run may meanwhile serve as some
 * other connection's ephemeral port.
 */
async function startStack(): Promise<StartRun> {
  const [api, temporal, ui, postgres] = await distinctFreePorts(4);
  ports = { api, temporal, ui, postgres };
  Object.assign(env, {
    PORT: String(api),
    TEMPORAL_DEV_PORT: String(temporal),
    TEMPORAL_UI_PORT: String(ui),
    EMBEDDED_PG_PORT: String(postgres),
  });
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(root, 'runtime', 'start.ts')], {
    cwd: root,
    env,
    // Its own process group, so afterAll can end it and everything that shares its group.
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  for (const stream of [child.stdout, child.stderr]) {
    let partial = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      const lines = (partial + chunk).split('\n');
      partial = lines.pop()!;
      output.push(...lines.filter(Boolean).map((line) => line.slice(0, 400)));
      output.splice(0, Math.max(0, output.length - OUTPUT_LINES_KEPT));
    });
  }
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
  return { child, exited, output };
}

function outputOf(run: StartRun | undefined): string {
  return run ? `\n--- npm start output (last lines) ---\n${run.output.join('\n')}` : '';
}

/** Poll until `probe` gives a value (not undefined); fail with the stack's output after `timeoutMs`. */
async function eventually<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (err) {
      last = err;
    }
    if (current && current.child.exitCode !== null) {
      throw new Error(`${what}: npm start exited with ${current.child.exitCode}${outputOf(current)}`);
    }
    if (Date.now() > deadline) {
      throw new Error(`${what}: not after ${timeoutMs} ms${last ? ` (last error: ${(last as Error).message})` : ''}${outputOf(current)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.setTimeout(1_000);
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => (socket.destroy(), resolve(false)));
  });
}

/**
 * Processes started on our behalf: start, its children and their helpers inherited an environment
 * naming our own DATA_DIR; PostgreSQL rewrites its environment for `ps`, but its command line names
 * a folder in DATA_DIR. Linux only; elsewhere the port checks stand alone.
 */
function processesOfThisStack(): number[] {
  if (!fs.existsSync('/proc/self/environ')) return [];
  const marker = `DATA_DIR=${dataDir}`;
  const ours = (pid: number) => {
    try {
      if (fs.readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').includes(marker)) return true;
      return fs
        .readFileSync(`/proc/${pid}/cmdline`, 'utf8')
        .split('\0')
        .some((arg) => arg.startsWith(`${dataDir}${path.sep}`));
    } catch {
      return false; // gone already, or not ours to read
    }
  };
  return fs
    .readdirSync('/proc')
    .map(Number)
    .filter((pid) => Number.isInteger(pid) && pid !== process.pid && ours(pid));
}

/** A process as a failure should name it: its pid and command line. */
function describeProcess(pid: number): string {
  try {
    return `${pid}: ${fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').slice(0, 300)}`;
  } catch {
    return `${pid}: (gone)`;
  }
}

/** The case's workflow as the dev server of the current run describes it. */
async function describeCaseWorkflow(id: string) {
  const connection = await Connection.connect({ address: `127.0.0.1:${ports.temporal}` });
  try {
    return await new Client({ connection }).workflow.getHandle(`complaint-${id}`).describe();
  } finally {
    await connection.close();
  }
}

/** Wait until the worker polls for workflow tasks: /health answers before it has bundled the workflows. */
async function waitForWorker(): Promise<void> {
  const connection = await Connection.connect({ address: `127.0.0.1:${ports.temporal}` });
  try {
    await eventually(
      'the worker polls its task queue',
      async () => {
        const { pollers } = await connection.workflowService.describeTaskQueue({
          namespace: 'default',
          taskQueue: { name: 'ecoloop' },
          taskQueueType: 1, // TASK_QUEUE_TYPE_WORKFLOW
        });
        return pollers?.length ? true : undefined;
      },
      120_000,
    );
  } finally {
    await connection.close();
  }
}

function api(pathname: string, init: RequestInit = {}): Promise<Response> {
  return fetch(`http://127.0.0.1:${ports.api}${pathname}`, {
    ...init,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...init.headers },
    signal: AbortSignal.timeout(15_000),
  });
}

interface Health {
  status: string;
  temporal: { reachable: boolean };
  database: { reachable: boolean };
}

async function waitForHealthy(): Promise<Health> {
  return eventually(
    'GET /health answers 200',
    async () => {
      const res = await fetch(`http://127.0.0.1:${ports.api}/health`, { signal: AbortSignal.timeout(5_000) });
      return res.status === 200 ? ((await res.json()) as Health) : undefined;
    },
    180_000,
  );
}

/** Stop the start process the way Ctrl-C does (SIGINT to it alone) and wait for it to exit. */
async function interrupt(run: StartRun, timeoutMs: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  run.child.kill('SIGINT');
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`npm start did not exit within ${timeoutMs} ms of SIGINT${outputOf(run)}`)), timeoutMs);
  });
  try {
    return await Promise.race([run.exited, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

beforeAll(async () => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ecoloop-start-'));
  // When we are root, the embedded PostgreSQL runs as the `postgres` user, which must traverse it.
  fs.chmodSync(dataDir, 0o755);
  // Nothing given, as on a fresh clone: npm start runs its own Temporal dev server and PostgreSQL.
  // Only the paths of the Temporal binaries that the global setup found are kept.
  env = { ...process.env };
  for (const name of configVariables) {
    if (name !== 'TEMPORAL_CLI_PATH' && name !== 'TEMPORAL_TEST_SERVER_PATH') delete env[name];
  }
  Object.assign(env, { NODE_ENV: 'development', LOG_LEVEL: 'info', DATA_DIR: dataDir });
  // Without JWT_SECRET (and not in production), npm start's API verifies with the development secret.
  token = await mintToken(DEVELOPMENT_JWT_SECRET, { sub: 'clerk-1', role: 'clerk' });
});

afterAll(async () => {
  try {
    // A clean stop first, so PostgreSQL and SQLite are not left mid-write; then anything left, by id.
    if (current && current.child.exitCode === null && current.child.signalCode === null) {
      await interrupt(current, 45_000).catch(() => undefined);
    }
    if (current?.child.pid) {
      try {
        process.kill(-current.child.pid, 'SIGKILL');
      } catch {
        // the group is gone
      }
    }
    for (const pid of processesOfThisStack()) {
      for (const target of [-pid, pid]) {
        try {
          process.kill(target, 'SIGKILL');
        } catch {
          // not a group leader, or gone
        }
      }
    }
  } finally {
    if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
  }
}, 90_000);

describe('npm start, stopped and started again on the same DATA_DIR', () => {
  test('when npm start runs with nothing given, then /health reports Temporal and PostgreSQL reachable and the Temporal UI answers', async () => {
    current = await startStack();
    const health = await waitForHealthy();
    expect(health).toMatchObject({ status: 'ok', temporal: { reachable: true }, database: { reachable: true } });

    const ui = await fetch(`http://127.0.0.1:${ports.ui}/`, { signal: AbortSignal.timeout(10_000) });
    expect(ui.status).toBe(200);
    expect(ui.headers.get('content-type')).toMatch(/^text\/html/);
    expect(await ui.text()).toMatch(/<html/i);
    // It used what it was told to: its own dev server persisted under DATA_DIR, and PostgreSQL there.
    expect(fs.existsSync(path.join(dataDir, 'temporal.sqlite'))).toBe(true);
    expect(fs.existsSync(path.join(dataDir, 'postgres', 'PG_VERSION'))).toBe(true);
  }, 200_000);

  test('when a clerk registers a complaint through the API, then its workflow brings it to pending_acceptance', async () => {
    const res = await api('/v1/complaints', {
      method: 'POST',
      body: JSON.stringify({
        channel: 'hotline',
        category: 'air',
        divisionCode: '370102',
        title: 'Smoke',
        description: 'Black smoke at night',
      }),
    });
    expect(res.status).toBe(201);
    const body = (await res.json()) as { caseId: string };
    expect(body.caseId).toMatch(/^EC-\d{4}-\d{7}$/);
    caseId = body.caseId;

    const view = await eventually(
      `case ${caseId} reaches pending_acceptance`,
      async () => {
        const got = await api(`/v1/complaints/${caseId}`);
        const json = got.ok ? ((await got.json()) as { status: string }) : undefined;
        return json?.status === 'pending_acceptance' ? json : undefined;
      },
      90_000,
    );
    expect(view).toMatchObject({ caseId, status: 'pending_acceptance', category: 'air', divisionCode: '370102' });
    const description = await describeCaseWorkflow(caseId);
    expect(description.status.name).toBe('RUNNING');
    runId = description.runId;
  }, 120_000);

  test('when the start process alone gets SIGINT, then it exits 0 and takes every child down with it', async () => {
    const run = current!;
    const { code, signal } = await interrupt(run, 90_000);
    expect({ code, signal }).toEqual({ code: 0, signal: null });
    expect(run.output).toEqual(expect.arrayContaining([expect.stringMatching(/"msg":"stopped"/)]));

    // Every process it started is gone. Its reaper (runtime/reaper.ts) leaves a moment after
    // `npm start` itself, once it has seen the pipe close; a stop step is bounded by STOP_TIMEOUT_MS.
    // (Not `eventually`: that gives up as soon as npm start has exited, which it has.)
    const deadline = Date.now() + 45_000;
    let left = processesOfThisStack();
    while (left.length > 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      left = processesOfThisStack();
    }
    expect(left.map(describeProcess)).toEqual([]);
    for (const [name, port] of Object.entries(ports)) {
      expect({ [name]: await accepts(port) }).toEqual({ [name]: false });
    }
  }, 120_000);

  test('when npm start runs again on the same DATA_DIR, then the case and its running workflow are still there and still take decisions', async () => {
    expect(caseId).toBeDefined();
    current = await startStack();
    const health = await waitForHealthy();
    expect(health).toMatchObject({ temporal: { reachable: true }, database: { reachable: true } });

    const res = await api(`/v1/complaints/${caseId}`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ caseId, status: 'pending_acceptance', title: 'Smoke' });

    // The very run begun before the restart, still running (not a new one under the same id).
    const description = await describeCaseWorkflow(caseId!);
    expect({ status: description.status.name, runId: description.runId }).toEqual({ status: 'RUNNING', runId });

    // A decision is an Update, which the restarted worker must run. On a loaded machine the API may
    // give up waiting (503); the Idempotency-Key makes a repeat the same Update, never a second one.
    await waitForWorker();
    const accepted = await eventually(
      'the accept decision is answered',
      async () => {
        const res = await api(`/v1/complaints/${caseId}/accept`, {
          method: 'POST',
          headers: { 'idempotency-key': `restart-accept-${caseId}` },
          body: JSON.stringify({ unitId: 'bureau-370102' }),
        });
        return res.status === 503 ? undefined : { status: res.status, body: await res.json() };
      },
      60_000,
    );
    expect(accepted).toEqual({ status: 200, body: expect.objectContaining({ caseId, status: 'handling', unitId: 'bureau-370102' }) });
  }, 360_000);
});
