import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import path from 'node:path';

/**
 * A child process that the stack owns: its output is forwarded line by line, and `stop` ends it
 * with a polite signal first and SIGKILL (to its whole process group) only after a grace period.
 *
 * Every owned child runs in a process group of its own (`detached`), so a terminal's Ctrl-C, which
 * goes to the terminal's foreground group, reaches only `npm start`, which then stops the children
 * in order (API, worker, Temporal, PostgreSQL). Nothing may outlive it: when it exits, an exit hook
 * kills what is left; when it is killed outright (SIGKILL runs no hook), the reaper does
 * (runtime/reaper.ts, started by `startReaper`).
 */
export interface OwnedProcess {
  readonly name: string;
  readonly child: ChildProcess;
  readonly exited: Promise<number | null>;
  stop(signal?: NodeJS.Signals, graceMs?: number): Promise<void>;
}

const owned = new Set<OwnedProcess>();
let reaper: ChildProcess | undefined;

/** Send `signal` to the child's process group; false when the group is gone. */
function signalGroup(child: ChildProcess, signal: NodeJS.Signals): boolean {
  if (child.pid === undefined) return false;
  try {
    process.kill(-child.pid, signal);
    return true;
  } catch {
    return false;
  }
}

function alive(child: ChildProcess): boolean {
  return child.exitCode === null && child.signalCode === null;
}

function tellReaper(line: string): void {
  if (reaper?.stdin?.writable) reaper.stdin.write(`${line}\n`);
}

// If this process exits without having stopped its children, take them along rather than orphan them.
process.once('exit', () => {
  for (const p of owned) if (alive(p.child)) signalGroup(p.child, 'SIGKILL');
});

/**
 * Start the reaper: a process of its own that holds a pipe from this one and, when the pipe closes
 * with process groups still listed (this process died without stopping them, even by SIGKILL),
 * stops them: SIGTERM, then SIGKILL after `graceMs`. Children spawned from now on are listed.
 */
export function startReaper(graceMs: number): void {
  if (reaper) return;
  reaper = spawn(process.execPath, ['--import', 'tsx', path.join(__dirname, 'reaper.ts'), String(graceMs)], {
    detached: true,
    stdio: ['pipe', 'ignore', 'inherit'],
  });
  reaper.unref();
  // Neither the pipe nor the reaper keeps this process alive; a reaper that cannot start leaves the exit hook.
  (reaper.stdin as unknown as { unref?: () => void } | null)?.unref?.();
  reaper.on('error', () => (reaper = undefined));
  reaper.stdin?.on('error', () => undefined);
  for (const p of owned) if (alive(p.child)) tellReaper(`+${p.child.pid}`);
}

/** Stop every owned process still running, each with `signal` and `graceMs`, one after the other. */
export async function stopOwned(signal: NodeJS.Signals, graceMs: number): Promise<void> {
  for (const p of [...owned].reverse()) await p.stop(signal, graceMs);
}

export function spawnOwned(
  name: string,
  file: string,
  args: string[],
  options: SpawnOptions & { onLine?: (line: string, stream: 'stdout' | 'stderr') => void } = {},
): OwnedProcess {
  const { onLine, ...spawnOptions } = options;
  const child = spawn(file, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true, ...spawnOptions });
  if (child.pid !== undefined) tellReaper(`+${child.pid}`);
  for (const stream of ['stdout', 'stderr'] as const) {
    let buffer = '';
    child[stream]?.setEncoding('utf8');
    child[stream]?.on('data', (chunk: string) => {
      buffer += chunk;
      let nl: number;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        onLine?.(line, stream);
      }
    });
  }
  const exited = new Promise<number | null>((resolve) => {
    child.once('exit', (code) => {
      // Whatever the leader left behind in its group goes with it.
      signalGroup(child, 'SIGKILL');
      if (child.pid !== undefined) tellReaper(`-${child.pid}`);
      resolve(code);
    });
    child.once('error', () => resolve(null));
  });
  const proc: OwnedProcess = {
    name,
    child,
    exited,
    async stop(signal = 'SIGTERM', graceMs = 15_000) {
      if (!alive(child)) return;
      child.kill(signal);
      const timer = setTimeout(() => signalGroup(child, 'SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
  owned.add(proc);
  void exited.then(() => owned.delete(proc));
  return proc;
}

/** Poll `probe` until it resolves true, or throw after `timeoutMs`. */
export async function waitFor(
  what: string,
  probe: () => Promise<boolean>,
  { timeoutMs = 60_000, intervalMs = 200, aborted }: { timeoutMs?: number; intervalMs?: number; aborted?: Promise<unknown> } = {},
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let gaveUp = false;
  void aborted?.then(() => (gaveUp = true));
  for (;;) {
    if (await probe().catch(() => false)) return;
    if (gaveUp) throw new Error(`${what}: the process exited before it became ready`);
    if (Date.now() > deadline) throw new Error(`${what}: not ready after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
