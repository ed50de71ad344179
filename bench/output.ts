import os from 'node:os';
import temporalSdk from '@temporalio/worker/package.json';
import type { Stack } from './stack';

/** How a benchmark prints: Markdown figures on stdout, progress on stderr, and the run's exit. */

export const fmt = {
  n: (v: number, digits = 0) =>
    Number.isFinite(v) ? v.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits }) : 'n/a',
  ms: (v: number) => (Number.isFinite(v) ? `${v.toFixed(v < 10 ? 1 : 0)} ms` : 'n/a'),
  mib: (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`,
};

/** The machine and servers the figures come from, as Markdown list lines. */
export function machineLines(stack: Stack): string[] {
  const cpus = os.cpus();
  return [
    `- machine: ${cpus.length} × ${cpus[0]?.model.trim() ?? 'unknown CPU'}, ${fmt.n(os.totalmem() / 1024 ** 3, 1)} GiB memory, ${os.type()} ${os.release()}`,
    `- load average when the run started: ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' / ')} (1/5/15 min; the machine is shared)`,
    `- node ${process.version}, @temporalio/* ${temporalSdk.version}`,
    `- Temporal server ${stack.serverVersion}: ${stack.temporalKind}`,
    `- PostgreSQL: ${stack.postgresKind}`,
  ];
}

/** The command line that reproduces this run. */
export function commandLine(script: string): string {
  const env = process.env.TEMPORAL_ADDRESS ? `TEMPORAL_ADDRESS=${process.env.TEMPORAL_ADDRESS} ` : '';
  const args = process.argv.slice(2);
  return `${env}npm run ${script}${args.length ? ` -- ${args.join(' ')}` : ''}`;
}

/** Print one benchmark's Markdown section: title, command, machine, then the figures. */
export function printSection(title: string, script: string, machine: string[], body: string[]): void {
  const lines = [`## ${title}`, '', `Command: \`${commandLine(script)}\``, '', ...machine, '', ...body, ''];
  process.stdout.write(`${lines.join('\n')}\n`);
}

/** Run a benchmark's main function: a failure prints and exits non-zero, and the process always ends. */
export function main(fn: () => Promise<void>): void {
  fn().then(
    () => process.exit(0),
    (err) => {
      process.stderr.write(`benchmark failed: ${(err as Error).stack ?? err}\n`);
      process.exit(1);
    },
  );
}

/** Progress on stderr, so that stdout holds only the figures. */
export function progress(message: string): void {
  process.stderr.write(`[${new Date().toISOString().slice(11, 19)}] ${message}\n`);
}
