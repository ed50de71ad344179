/**
 * The reaper of `npm start` (started by runtime/child-process.ts `startReaper`). Node has no
 * "die with my parent" (Linux's PR_SET_PDEATHSIG), and the children of `npm start` run in process
 * groups of their own, so that a Ctrl-C reaches only `npm start`. If `npm start` were killed outright
 * (SIGKILL, OOM killer), they would run on, orphaned, holding their ports. This process prevents it.
 *
 * It reads lines from a pipe held by `npm start`: `+PGID` when a child's group starts, `-PGID` when
 * it has ended. When the pipe closes, `npm start` has exited; every group still listed is stopped:
 * SIGTERM, then SIGKILL after the grace period (ms, the first argument). Signals do not stop it:
 * it runs in a group of its own and leaves only after the pipe closed and the groups are gone.
 */

const graceMs = Number(process.argv[2] ?? 5_000);
const groups = new Set<number>();

function signal(pgid: number, sig: NodeJS.Signals | 0): boolean {
  try {
    process.kill(-pgid, sig);
    return true;
  } catch {
    return false; // gone
  }
}

let reaping = false;
async function reap(): Promise<void> {
  if (reaping) return;
  reaping = true;
  for (const pgid of groups) signal(pgid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (groups.size > 0 && Date.now() < deadline) {
    for (const pgid of groups) if (!signal(pgid, 0)) groups.delete(pgid);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  for (const pgid of groups) signal(pgid, 'SIGKILL');
  process.exit(0);
}

for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(sig, () => undefined);

let buffer = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk: string) => {
  buffer += chunk;
  let nl: number;
  while ((nl = buffer.indexOf('\n')) >= 0) {
    const line = buffer.slice(0, nl);
    buffer = buffer.slice(nl + 1);
    const pgid = Number(line.slice(1));
    if (!Number.isInteger(pgid) || pgid <= 1) continue;
    if (line.startsWith('+')) groups.add(pgid);
    else if (line.startsWith('-')) groups.delete(pgid);
  }
});
process.stdin.on('end', () => void reap());
process.stdin.on('close', () => void reap());
process.stdin.on('error', () => void reap());
