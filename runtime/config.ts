import path from 'node:path';
import { z } from 'zod';

/**
 * The one configuration module. Every process (start, worker, api, migrate) reads its environment
 * through `loadConfig`, which fails fast and names every bad or missing variable at once.
 */

const port = z.coerce.number().int().min(0).max(65535);
const optionalUrl = z
  .string()
  .trim()
  .min(1)
  .optional()
  .or(z.literal('').transform(() => undefined));

const baseSchema = z.object({
  NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
  /** HTTP port of the API. */
  PORT: port.default(3000),
  /** Address the API binds to. */
  HOST: z.string().min(1).default('127.0.0.1'),
  /** host:port of a Temporal frontend. Unset: `npm start` runs a dev server. */
  TEMPORAL_ADDRESS: optionalUrl,
  TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
  TEMPORAL_TASK_QUEUE: z.string().min(1).default('ecoloop'),
  /** Port of the dev server `npm start` runs when TEMPORAL_ADDRESS is unset. */
  TEMPORAL_DEV_PORT: port.default(7233),
  /** Port of the Temporal Web UI that `npm start` runs. */
  TEMPORAL_UI_PORT: port.default(8233),
  /** Where operators open the Temporal UI (printed and linked). */
  TEMPORAL_UI_URL: z.url().optional(),
  /** Explicit path of the `temporal` CLI binary. */
  TEMPORAL_CLI_PATH: z.string().min(1).optional(),
  /** Explicit path of the `temporal-test-server` binary. */
  TEMPORAL_TEST_SERVER_PATH: z.string().min(1).optional(),
  /** PostgreSQL connection string. Unset: `npm start` runs an embedded PostgreSQL. */
  DATABASE_URL: optionalUrl,
  /** Port of the embedded PostgreSQL that `npm start` runs when DATABASE_URL is unset. */
  EMBEDDED_PG_PORT: port.default(5433),
  PG_POOL_MAX: z.coerce.number().int().min(1).max(200).default(10),
  /** Where `npm start` keeps the dev server's SQLite file and the embedded PostgreSQL data. */
  DATA_DIR: z.string().min(1).default('.data'),
  /** Notifications are POSTed here (JSON, with an Idempotency-Key header); unset: they are logged. */
  NOTIFICATION_WEBHOOK_URL: z.url().optional(),
  /** How often the notification sender looks for due notifications. */
  NOTIFICATION_POLL_MS: z.coerce.number().int().min(50).max(600_000).default(1000),
  /** HS256 secret that signs and verifies API bearer tokens (at least 32 characters). Required in production. */
  JWT_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** A JSON policy file that overrides the defaults of domain/policy.ts. */
  POLICY_FILE: z.string().min(1).optional(),
});

/** Used only where NODE_ENV is not production: a fixed secret for local tokens. */
export const DEVELOPMENT_JWT_SECRET = 'ecoloop-development-secret-do-not-use-in-production';

export const configSchema = baseSchema
  .superRefine((c, ctx) => {
    if (c.NODE_ENV === 'production' && !c.JWT_SECRET) {
      ctx.addIssue({ code: 'custom', path: ['JWT_SECRET'], message: 'is required when NODE_ENV=production' });
    }
  })
  .transform((c) => ({ ...c, JWT_SECRET: c.JWT_SECRET ?? DEVELOPMENT_JWT_SECRET }));

export type Config = z.infer<typeof configSchema>;

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Parse the environment; throws a ConfigError naming every bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const result = configSchema.safeParse(env);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => {
      const name = issue.path.join('.') || '(environment)';
      const value = typeof issue.path[0] === 'string' ? env[issue.path[0]] : undefined;
      return `${name}${value === undefined ? '' : `=${JSON.stringify(value)}`}: ${issue.message}`;
    });
    throw new ConfigError(problems);
  }
  return result.data;
}

/** Every environment variable the application reads; docker-compose.yml may set only these. */
export const configVariables: readonly string[] = Object.keys(baseSchema.shape);

export function dataDir(config: Config): string {
  return path.resolve(config.DATA_DIR);
}

/**
 * For entry points: load the configuration or print the problems and exit non-zero.
 */
export function loadConfigOrExit(env: NodeJS.ProcessEnv = process.env): Config {
  try {
    return loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(78); // EX_CONFIG
    }
    throw err;
  }
}
