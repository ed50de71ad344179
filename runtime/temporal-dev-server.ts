import fs from 'node:fs';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { devServerSearchAttributeArgs } from '../domain/search-attributes';
import { spawnOwned, waitFor, type OwnedProcess } from './child-process';

export interface DevServerOptions {
  /** Path of the `temporal` CLI. */
  cli: string;
  port: number;
  /** Web UI port; undefined runs the server headless. */
  uiPort?: number;
  /** Remote codec the UI calls to show encrypted payloads (the API's `/codec`); needs uiPort. */
  uiCodecEndpoint?: string;
  /** SQLite file; undefined keeps everything in memory. */
  dbFile?: string;
  namespace?: string;
  onLine?: (line: string) => void;
}

export interface DevServer {
  address: string;
  uiUrl?: string;
  process: OwnedProcess;
  /** SIGTERM, then SIGKILL to its process group after `graceMs` (default 10 s). */
  stop(graceMs?: number): Promise<void>;
}

/** Whether a Temporal frontend answers at `address`. */
export async function temporalReachable(address: string, timeoutMs = 2_000): Promise<boolean> {
  const connection = await Connection.connect({ address, connectTimeout: timeoutMs });
  try {
    await connection.workflowService.getSystemInfo({});
    return true;
  } finally {
    await connection.close();
  }
}

/**
 * Run the official Temporal CLI dev server, with every custom search attribute of the project
 * registered, and wait until its frontend answers.
 */
export async function startTemporalDevServer(options: DevServerOptions): Promise<DevServer> {
  const args = [
    'server',
    'start-dev',
    '--ip',
    '127.0.0.1',
    '--port',
    String(options.port),
    '--namespace',
    options.namespace ?? 'default',
    '--log-format',
    'json',
    '--log-level',
    'warn',
    ...devServerSearchAttributeArgs(),
  ];
  if (options.uiPort === undefined) args.push('--headless');
  else args.push('--ui-port', String(options.uiPort));
  if (options.uiPort !== undefined && options.uiCodecEndpoint) args.push('--ui-codec-endpoint', options.uiCodecEndpoint);
  if (options.dbFile) {
    fs.mkdirSync(path.dirname(options.dbFile), { recursive: true });
    args.push('--db-filename', options.dbFile, '--sqlite-pragma', 'journal_mode=wal', '--sqlite-pragma', 'synchronous=normal');
  }
  const proc = spawnOwned('temporal', options.cli, args, { onLine: (line) => options.onLine?.(line) });
  const address = `127.0.0.1:${options.port}`;
  try {
    await waitFor(`Temporal dev server at ${address}`, () => temporalReachable(address, 1_000), {
      timeoutMs: 60_000,
      aborted: proc.exited,
    });
  } catch (err) {
    await proc.stop('SIGKILL');
    throw err;
  }
  return {
    address,
    uiUrl: options.uiPort === undefined ? undefined : `http://127.0.0.1:${options.uiPort}`,
    process: proc,
    stop: (graceMs = 10_000) => proc.stop('SIGTERM', graceMs),
  };
}
