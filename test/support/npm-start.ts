import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { configVariables } from '../../runtime/config';
import { freePort } from './ports';

/**
 * The real `npm start`, as a person runs it: `npm start` in the project, in a process group of its
 * own (as a terminal's foreground job), on free ports and its own DATA_DIR, with nothing given (it
 * starts its own Temporal dev server with the UI, and its own PostgreSQL). Only the paths of the
 * Temporal binaries that the global setup found are passed on.
 */

const root = path.resolve(__dirname, '..', '..');
const OUTPUT_LINES_KEPT = 120;

export interface StackPorts {
  api: number;
  temporal: number;
  ui: number;
  postgres: number;
}

export interface NpmStart {
  child: ChildProcess;
  /** The process group of npm start (npm's pid): where a terminal's Ctrl-C goes. */
  pgid: number;
  ports: StackPorts;
  dataDir: string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  output: string[];
}

/** A fresh DATA_DIR that the embedded PostgreSQL (run as `postgres` when we are root) can traverse. */
export function makeDataDir(prefix: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  fs.chmodSync(dir, 0o755);
  return dir;
}

async function distinctFreePorts(count: number): Promise<number[]> {
  const found = new Set<number>();
  while (found.size < count) found.add(await freePort());
  return [...found];
}

export async function startNpmStart(dataDir: string, extraEnv: NodeJS.ProcessEnv = {}): Promise<NpmStart> {
  const [api, temporal, ui, postgres] = await distinctFreePorts(4);
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of configVariables) {
    if (name !== 'TEMPORAL_CLI_PATH' && name !== 'TEMPORAL_TEST_SERVER_PATH') delete env[name];
  }
  Object.assign(env, {
    NODE_ENV: 'development',
    LOG_LEVEL: 'info',
    DATA_DIR: dataDir,
    PORT: String(api),
    TEMPORAL_DEV_PORT: String(temporal),
    TEMPORAL_UI_PORT: String(ui),
    EMBEDDED_PG_PORT: String(postgres),
    ...extraEnv,
  });
  const child = spawn('npm', ['start'], { cwd: root, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
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
  return { child, pgid: child.pid!, ports: { api, temporal, ui, postgres }, dataDir, exited, output };
}

export function outputOf(run: NpmStart): string {
  return `\n--- npm start output (last lines) ---\n${run.output.join('\n')}`;
}

/** Poll until `probe` gives a value; fail with npm start's output after `timeoutMs` or when it exits. */
export async function eventually<T>(run: NpmStart, what: string, probe: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (err) {
      last = err;
    }
    if (run.child.exitCode !== null || run.child.signalCode !== null) {
      throw new Error(`${what}: npm start exited (${run.child.exitCode ?? run.child.signalCode})${outputOf(run)}`);
    }
    if (Date.now() > deadline) {
      throw new Error(`${what}: not after ${timeoutMs} ms${last ? ` (last error: ${(last as Error).message})` : ''}${outputOf(run)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** Until npm start has printed "EcoLoop is running." (the API answers /health). */
export function untilRunning(run: NpmStart, timeoutMs = 240_000): Promise<true> {
  return eventually(
    run,
    'npm start prints "EcoLoop is running."',
    async () => (run.output.includes('EcoLoop is running.') ? true : undefined),
    timeoutMs,
  );
}

/** Wait for npm start to exit, or fail after `timeoutMs`. */
export async function exitOf(run: NpmStart, timeoutMs: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`npm start did not exit within ${timeoutMs} ms${outputOf(run)}`)), timeoutMs);
  });
  try {
    return await Promise.race([run.exited, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

interface ProcInfo {
  pid: number;
  pgid: number;
  sid: number;
  cmdline: string;
}

function readProc(pid: number): ProcInfo | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // pid (comm) state ppid pgrp session ...: comm may hold spaces and parentheses; split after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (fields[0] === 'Z') return undefined; // a zombie holds nothing, and is its parent's to reap
    const cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
    let environ = '';
    try {
      environ = fs.readFileSync(`/proc/${pid}/environ`, 'utf8');
    } catch {
      // not ours to read
    }
    return { pid, pgid: Number(fields[2]), sid: Number(fields[3]), cmdline: `${cmdline}\0${environ}` };
  } catch {
    return undefined; // gone
  }
}

/**
 * Every live process of this run: in npm start's process group or session, or started on its behalf
 * (each child runs in a group of its own, so they are found by DATA_DIR in their environment, or
 * in their command line, as PostgreSQL's `-D DATA_DIR/postgres`). Linux /proc.
 */
export function processesOf(run: NpmStart): { pid: number; cmdline: string }[] {
  const marker = `DATA_DIR=${run.dataDir}`;
  return fs
    .readdirSync('/proc')
    .map(Number)
    .filter((pid) => Number.isInteger(pid) && pid !== process.pid)
    .map(readProc)
    .filter((p): p is ProcInfo => p !== undefined)
    .filter(
      (p) => p.pgid === run.pgid || p.sid === run.pgid || p.cmdline.includes(marker) || p.cmdline.includes(`${run.dataDir}${path.sep}`),
    )
    .map((p) => ({ pid: p.pid, cmdline: p.cmdline.split('\0')[0].slice(0, 200) }));
}

/** Kill whatever is left of a run (cleanup after a failed test): its group, then each process found, with its group. */
export function killEverything(run: NpmStart): void {
  const kill = (target: number) => {
    try {
      process.kill(target, 'SIGKILL');
    } catch {
      // gone, or not a group
    }
  };
  kill(-run.pgid);
  for (const { pid } of processesOf(run)) {
    kill(-pid);
    kill(pid);
  }
}
