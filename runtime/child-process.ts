import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';

/**
 * A child process that the stack owns: its output is forwarded line by line, and `stop` ends it
 * with a polite signal first and SIGKILL only after a grace period.
 */
export interface OwnedProcess {
  readonly name: string;
  readonly child: ChildProcess;
  readonly exited: Promise<number | null>;
  stop(signal?: NodeJS.Signals, graceMs?: number): Promise<void>;
}

const owned = new Set<OwnedProcess>();

// If this process dies without stopping its children, take them along rather than orphan them.
process.once('exit', () => {
  for (const p of owned) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
});

export function spawnOwned(
  name: string,
  file: string,
  args: string[],
  options: SpawnOptions & { onLine?: (line: string, stream: 'stdout' | 'stderr') => void } = {},
): OwnedProcess {
  const { onLine, ...spawnOptions } = options;
  // detached: the child gets its own process group, so a Ctrl-C in the terminal reaches only the
  // orchestrator, which then stops the children in order (API, worker, then the servers).
  const child = spawn(file, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true, ...spawnOptions });
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
    child.once('exit', (code) => resolve(code));
    child.once('error', () => resolve(null));
  });
  const proc: OwnedProcess = {
    name,
    child,
    exited,
    async stop(signal = 'SIGTERM', graceMs = 15_000) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
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
