import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { ConfigError, DEVELOPMENT_JWT_SECRET, loadConfig } from '../../runtime/config';

/**
 * runtime/config.ts: one zod-validated module that fails fast and names every bad variable; and the
 * entry points that use it exit with EX_CONFIG (78) and a message naming the variable.
 */

const root = path.resolve(__dirname, '..', '..');
const run = promisify(execFile);

/** The problems loadConfig reports for `env`, or fails the test when it accepts it. */
function problemsOf(env: NodeJS.ProcessEnv): string[] {
  try {
    loadConfig(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems;
  }
  throw new Error(`loadConfig accepted ${JSON.stringify(env)}`);
}

describe('loadConfig', () => {
  test('when PORT=abc, then the one problem names PORT and its value', () => {
    const problems = problemsOf({ PORT: 'abc' });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^PORT="abc": /);
  });

  test('when several variables are bad, then every one of them is named at once', () => {
    const problems = problemsOf({
      PORT: 'abc',
      TEMPORAL_DEV_PORT: '70000',
      PG_POOL_MAX: '0',
      LOG_LEVEL: 'loud',
      NODE_ENV: 'staging',
      NOTIFICATION_WEBHOOK_URL: 'not a url',
    });
    const named = problems.map((p) => p.split(/[=:]/)[0]).sort();
    expect(named).toEqual(['LOG_LEVEL', 'NODE_ENV', 'NOTIFICATION_WEBHOOK_URL', 'PG_POOL_MAX', 'PORT', 'TEMPORAL_DEV_PORT']);
  });

  test('when a ConfigError is printed, then its message lists every problem on its own line', () => {
    let message = '';
    try {
      loadConfig({ PORT: 'abc', EMBEDDED_PG_PORT: '-1' });
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message.split('\n')).toEqual([
      'Invalid configuration:',
      expect.stringMatching(/^ {2}- PORT="abc": /),
      expect.stringMatching(/^ {2}- EMBEDDED_PG_PORT="-1": /),
    ]);
  });

  test('when the environment is empty, then every default is the documented one', () => {
    expect(loadConfig({})).toEqual({
      NODE_ENV: 'development',
      PORT: 3000,
      HOST: '127.0.0.1',
      TEMPORAL_NAMESPACE: 'default',
      TEMPORAL_TASK_QUEUE: 'ecoloop',
      TEMPORAL_DEV_PORT: 7233,
      TEMPORAL_UI_PORT: 8233,
      EMBEDDED_PG_PORT: 5433,
      PG_POOL_MAX: 10,
      DATA_DIR: '.data',
      NOTIFICATION_POLL_MS: 1000,
      LOG_LEVEL: 'info',
      JWT_SECRET: DEVELOPMENT_JWT_SECRET,
      WORKER_METRICS_HOST: '127.0.0.1',
      WORKER_METRICS_PORT: 9464,
      WORKER_TEMPORAL_METRICS_PORT: 9465,
      SHUTDOWN_GRACE_MS: 10_000,
      STOP_TIMEOUT_MS: 30_000,
    });
  });

  test('when METRICS_TOKEN is too short, then it is named without its value', () => {
    expect(problemsOf({ METRICS_TOKEN: 'short-secret' })).toEqual(['METRICS_TOKEN: must be at least 16 characters']);
  });

  test('when TEMPORAL_ADDRESS and DATABASE_URL are empty strings, then they count as unset', () => {
    const config = loadConfig({ TEMPORAL_ADDRESS: '', DATABASE_URL: '' });
    expect(config.TEMPORAL_ADDRESS).toBeUndefined();
    expect(config.DATABASE_URL).toBeUndefined();
  });

  test('when any variable is an empty string, then it counts as unset and takes its default', () => {
    const c = loadConfig({ PORT: '', TEMPORAL_UI_URL: '', NOTIFICATION_WEBHOOK_URL: '', LOG_LEVEL: '' });
    expect(c.PORT).toBe(3000);
    expect(c.TEMPORAL_UI_URL).toBeUndefined();
    expect(c.NOTIFICATION_WEBHOOK_URL).toBeUndefined();
    expect(c.LOG_LEVEL).toBe('info');
  });

  test('when numbers come as strings, then they are parsed as numbers', () => {
    const config = loadConfig({ PORT: '8080', PG_POOL_MAX: '25', NOTIFICATION_POLL_MS: '250' });
    expect(config).toMatchObject({ PORT: 8080, PG_POOL_MAX: 25, NOTIFICATION_POLL_MS: 250 });
  });

  test('when NODE_ENV=production and JWT_SECRET is unset, then JWT_SECRET is named as required', () => {
    expect(problemsOf({ NODE_ENV: 'production' })).toEqual([
      'JWT_SECRET: is required when NODE_ENV=production',
      'ENCRYPTION_KEYS: is required when NODE_ENV=production',
      'REPORTER_KEYS: is required when NODE_ENV=production',
      'REPORTER_INDEX_KEYS: is required when NODE_ENV=production',
    ]);
  });

  test('when NODE_ENV=production and JWT_SECRET is set, then that secret is used, never the development one', () => {
    const secret = 'a-production-secret-of-at-least-32-chars';
    const keys = {
      ENCRYPTION_KEYS: `k1:${Buffer.alloc(32, 7).toString('base64')}`,
      ENCRYPTION_KEY_ID: 'k1',
      REPORTER_KEYS: `r1:${Buffer.alloc(32, 9).toString('base64')}`,
      REPORTER_KEY_ID: 'r1',
      REPORTER_INDEX_KEYS: `i1:${Buffer.alloc(32, 11).toString('base64')}`,
      REPORTER_INDEX_KEY_ID: 'i1',
    };
    expect(loadConfig({ NODE_ENV: 'production', JWT_SECRET: secret, ...keys }).JWT_SECRET).toBe(secret);
  });

  test('when JWT_SECRET is shorter than 32 characters, then it is rejected by name', () => {
    expect(problemsOf({ JWT_SECRET: 'short' })).toEqual(['JWT_SECRET="short": must be at least 32 characters']);
  });
});

describe('entry points with a bad configuration', () => {
  // Nothing else from the caller's environment may change the outcome (DATABASE_URL, a JWT_SECRET ...).
  const env = { PATH: process.env.PATH, HOME: process.env.HOME, PORT: 'abc' };

  test.each([
    ['npm run api', 'api/server.ts'],
    ['npm run worker', 'worker/main.ts'],
    ['npm start', 'runtime/start.ts'],
    ['npm run migrate', 'runtime/migrate.ts'],
  ])('when %s (%s) runs with PORT=abc, then it exits 78 and stderr names PORT', async (_name, entry) => {
    const outcome = await run(process.execPath, ['--import', 'tsx', path.join(root, entry)], {
      cwd: root,
      env,
      timeout: 60_000,
    }).then(
      () => ({ code: 0, stderr: '' }),
      (err: { code?: number; stderr?: string }) => ({ code: err.code, stderr: err.stderr ?? '' }),
    );
    expect(outcome.code).toBe(78);
    expect(outcome.stderr).toMatch(/^Invalid configuration:\n {2}- PORT="abc": /);
  });
});
