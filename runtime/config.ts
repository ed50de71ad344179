import path from 'node:path';
import { z } from 'zod';
import { isDivisionCode } from '../domain/divisions';
import { DEVELOPMENT_KEY, DEVELOPMENT_REPORTER_KEY, parseKeySpec } from './encryption';
import { DEVELOPMENT_REPORTER_INDEX_KEY } from './reporter-index';

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

/**
 * Defaults of the worker. `maxCachedWorkflows` (WORKER_MAX_CACHED_WORKFLOWS when unset): each cached
 * workflow costs about 0.36 MiB of worker memory now that the workflow bundle holds no zod
 * (`npm run bench:open-cases`, "Memory of one cached workflow": 957 MiB with 2,000 cached), over an
 * idle worker of about 230 MiB: 1,500 keep the worker near 770 MiB however many cases are open,
 * under 1 GiB with room for activities.
 */
export const WORKER_DEFAULTS = {
  maxCachedWorkflows: 1_500,
} as const;

/** Defaults of the API's limits, for PUBLIC_RATE_LIMIT_PER_MINUTE and TEMPORAL_RPC_TIMEOUT_MS when unset (api/app.ts apiLimits). */
export const API_DEFAULTS = {
  publicRateLimitPerMinute: 60,
  temporalTimeoutMs: 10_000,
  /** How long a successful workflow start stands for "Temporal answers" before registering probes again (api/registration.ts). */
  temporalAnswerFreshMs: 1_000,
} as const;

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
  /** Workflows a worker keeps in memory between tasks (unset: WORKER_DEFAULTS.maxCachedWorkflows; see bench/RESULTS.md). */
  WORKER_MAX_CACHED_WORKFLOWS: z.coerce.number().int().min(0).max(100_000).optional(),
  /** Where `npm start` keeps the dev server's SQLite file and the embedded PostgreSQL data. */
  DATA_DIR: z.string().min(1).default('.data'),
  /** Notifications are POSTed here (JSON, with an Idempotency-Key header); unset: they are logged. */
  NOTIFICATION_WEBHOOK_URL: z.url().optional(),
  /** How often the notification sender looks for due notifications. */
  NOTIFICATION_POLL_MS: z.coerce.number().int().min(50).max(600_000).default(1000),
  /** HS256 secret that signs and verifies API bearer tokens (at least 32 characters). Required in production. */
  JWT_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
  /**
   * AES-256-GCM keys that encrypt the reporter's identity in Temporal payloads and PostgreSQL:
   * `id:base64-of-32-bytes`, comma-separated. Keep retired keys listed while data sealed with them
   * remains. Required in production; elsewhere a fixed development key (runtime/encryption.ts).
   */
  ENCRYPTION_KEYS: z.string().trim().min(1).optional(),
  /** The id (in ENCRYPTION_KEYS) of the key that encrypts new data. */
  ENCRYPTION_KEY_ID: z.string().trim().min(1).optional(),
  /**
   * AES-256-GCM keys that seal the reporter's identity as a field of its own inside Temporal
   * payloads, and in PostgreSQL; never given to the payload codec endpoint (docs/privacy.md). Same
   * spelling as ENCRYPTION_KEYS, with ids and keys of their own. Required in production; elsewhere
   * a fixed development key.
   */
  REPORTER_KEYS: z.string().trim().min(1).optional(),
  /** The id (in REPORTER_KEYS) of the key that seals new identities. */
  REPORTER_KEY_ID: z.string().trim().min(1).optional(),
  /**
   * HMAC-SHA-256 keys of the reporter's blind index (finding a case by the caller's phone number,
   * e-mail or name; runtime/reporter-index.ts): same spelling as ENCRYPTION_KEYS, keys of their own.
   * After a new key becomes REPORTER_INDEX_KEY_ID, keep the old one listed until
   * `npm run reporters:reindex` (or a worker start) has indexed every row again. Required in
   * production; elsewhere a fixed development key.
   */
  REPORTER_INDEX_KEYS: z.string().trim().min(1).optional(),
  /** The id (in REPORTER_INDEX_KEYS) of the key that indexes reporters. */
  REPORTER_INDEX_KEY_ID: z.string().trim().min(1).optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** A JSON policy file that overrides the defaults of domain/policy.ts. */
  POLICY_FILE: z.string().min(1).optional(),
  /** Requests per minute from one address on the public feed /v1/public/cases (unset: API_DEFAULTS). */
  PUBLIC_RATE_LIMIT_PER_MINUTE: z.coerce.number().int().min(1).max(1_000_000).optional(),
  /** How long the API waits for Temporal to answer one request before it answers 503, in ms (unset: API_DEFAULTS). */
  TEMPORAL_RPC_TIMEOUT_MS: z.coerce.number().int().min(100).max(300_000).optional(),
  /** Open311 api_keys of reporting apps: `key:clientName`, comma-separated. Unset: none in production, DEVELOPMENT_OPEN311_API_KEY elsewhere. */
  OPEN311_API_KEYS: z
    .string()
    .trim()
    .regex(
      /^[\w.~+/=-]{16,}:[\w.-]{1,64}(,[\w.~+/=-]{16,}:[\w.-]{1,64})*$/,
      'must be key:clientName pairs, comma-separated, each key at least 16 characters',
    )
    .optional(),
  /** Requests per minute from one address on the Open311 routes (unset: 300). */
  OPEN311_RATE_LIMIT_PER_MINUTE: z.coerce.number().int().min(1).max(1_000_000).optional(),
  /** Division code of Open311 requests that give no jurisdiction_id; unset: jurisdiction_id is required. */
  OPEN311_JURISDICTION_ID: z
    .string()
    .regex(/^\d{6}$/, 'must be a six-digit administrative division code')
    .refine(isDivisionCode, 'must be a division of the directory of administrative divisions (GB/T 2260)')
    .optional(),
  // ---- Metrics (Prometheus text format; docs/operations.md "Metrics") ----
  /** Bearer token a scraper sends to the API's GET /metrics. Unset: /metrics is open outside production, refused in production. */
  METRICS_TOKEN: z.string().trim().min(16, 'must be at least 16 characters').optional(),
  /** Address the worker's two metrics endpoints bind to. */
  WORKER_METRICS_HOST: z.string().min(1).default('127.0.0.1'),
  /** Port of the worker's EcoLoop gauges (GET /metrics: cases, overdue, outbox); 0: off. */
  WORKER_METRICS_PORT: port.default(9464),
  /** Port of the Temporal SDK's own Prometheus exporter in the worker (GET /metrics, `temporal_` metrics); 0: off. */
  WORKER_TEMPORAL_METRICS_PORT: port.default(9465),
  // Operators (issue #13): the Temporal UI's codec, and stopping cleanly.
  /**
   * The codec (`/codec`) trusts requests from the Temporal UI at TEMPORAL_UI_URL without a token, as
   * the `ops` role: the local development UI, which has no sign-in. Only with NODE_ENV=development
   * and HOST on loopback; `npm start` sets it for its own dev server's UI unless it is set to false.
   */
  CODEC_TRUST_LOCAL_UI: z.stringbool().optional(),
  /** Once asked to stop: how long a worker lets running activities finish, and the API its open requests, in ms. */
  SHUTDOWN_GRACE_MS: z.coerce.number().int().min(0).max(600_000).default(10_000),
  /** How long `npm start` waits for each process it stops (API, worker, Temporal, PostgreSQL) before it kills it, in ms. */
  STOP_TIMEOUT_MS: z.coerce.number().int().min(1_000).max(600_000).default(30_000),
});

/** The path every metrics endpoint serves (the API's, the worker's and the Temporal SDK's, which is fixed at /metrics). */
export const METRICS_PATH = '/metrics';

/** Hosts that reach this machine only: where CODEC_TRUST_LOCAL_UI may be set. */
export const LOOPBACK_HOSTS: readonly string[] = ['127.0.0.1', '::1', 'localhost'];

/** Used only where NODE_ENV is not production: a fixed secret for local tokens. */
export const DEVELOPMENT_JWT_SECRET = 'ecoloop-development-secret-do-not-use-in-production';
/** Used only where NODE_ENV is not production and OPEN311_API_KEYS is unset: the api_key of the `development` client. */
export const DEVELOPMENT_OPEN311_API_KEY = 'ecoloop-open311-development-key';

export const configSchema = baseSchema
  .superRefine((c, ctx) => {
    if (c.NODE_ENV === 'production' && !c.JWT_SECRET) {
      ctx.addIssue({ code: 'custom', path: ['JWT_SECRET'], message: 'is required when NODE_ENV=production' });
    }
    checkEncryptionKeys(c, ctx);
    if (c.CODEC_TRUST_LOCAL_UI && (c.NODE_ENV !== 'development' || !LOOPBACK_HOSTS.includes(c.HOST))) {
      ctx.addIssue({
        code: 'custom',
        path: ['CODEC_TRUST_LOCAL_UI'],
        message: `may be true only with NODE_ENV=development and HOST on loopback (${LOOPBACK_HOSTS.join(', ')})`,
      });
    }
    if (
      c.CODEC_TRUST_LOCAL_UI &&
      !(c.TEMPORAL_UI_URL && LOOPBACK_HOSTS.includes(new URL(c.TEMPORAL_UI_URL).hostname.replace(/^\[|\]$/g, '')))
    ) {
      ctx.addIssue({ code: 'custom', path: ['CODEC_TRUST_LOCAL_UI'], message: 'needs TEMPORAL_UI_URL, the UI it trusts, on loopback' });
    }
  })
  .transform((c) => ({ ...c, JWT_SECRET: c.JWT_SECRET ?? DEVELOPMENT_JWT_SECRET }));

type KeyVariables = { NODE_ENV: string } & Partial<
  Record<
    'ENCRYPTION_KEYS' | 'ENCRYPTION_KEY_ID' | 'REPORTER_KEYS' | 'REPORTER_KEY_ID' | 'REPORTER_INDEX_KEYS' | 'REPORTER_INDEX_KEY_ID',
    string
  >
>;

/** The payload ring and the reporter ring: each valid, and no id or key shared between them (the codec must not hold a reporter key). */
function checkEncryptionKeys(c: KeyVariables, ctx: z.RefinementCtx): void {
  const payload = checkKeyRing(c, ctx, 'ENCRYPTION_KEYS', 'ENCRYPTION_KEY_ID', DEVELOPMENT_KEY);
  const reporter = checkKeyRing(c, ctx, 'REPORTER_KEYS', 'REPORTER_KEY_ID', DEVELOPMENT_REPORTER_KEY);
  const index = checkKeyRing(c, ctx, 'REPORTER_INDEX_KEYS', 'REPORTER_INDEX_KEY_ID', DEVELOPMENT_REPORTER_INDEX_KEY);
  if (index) {
    // The index keys only make digests: one that also seals would tie the two together.
    const sealing = [...Object.values(payload ?? {}), ...Object.values(reporter ?? {})].map((k) => Buffer.from(k));
    const shared = Object.entries(index).filter(([, k]) => sealing.some((s) => s.equals(k)));
    if (shared.length) {
      ctx.addIssue({
        code: 'custom',
        path: ['REPORTER_INDEX_KEYS'],
        message: `must not reuse a key of ENCRYPTION_KEYS or REPORTER_KEYS (${shared.map(([id]) => id).join(', ')})`,
      });
    }
  }
  if (!payload || !reporter) return;
  const sharedIds = Object.keys(reporter).filter((id) => id in payload);
  if (sharedIds.length) {
    ctx.addIssue({
      code: 'custom',
      path: ['REPORTER_KEYS'],
      message: `must not reuse key ids of ENCRYPTION_KEYS (${sharedIds.join(', ')})`,
    });
  }
  const payloadKeys = Object.values(payload).map((k) => Buffer.from(k));
  const sharedKeys = Object.entries(reporter).filter(([, k]) => payloadKeys.some((p) => p.equals(k)));
  if (sharedKeys.length) {
    ctx.addIssue({
      code: 'custom',
      path: ['REPORTER_KEYS'],
      message: `must not reuse a key of ENCRYPTION_KEYS (${sharedKeys.map(([id]) => id).join(', ')})`,
    });
  }
}

/** One ring's variables; its keys by id when they parse. */
function checkKeyRing(
  c: KeyVariables,
  ctx: z.RefinementCtx,
  keysVar: 'ENCRYPTION_KEYS' | 'REPORTER_KEYS' | 'REPORTER_INDEX_KEYS',
  idVar: 'ENCRYPTION_KEY_ID' | 'REPORTER_KEY_ID' | 'REPORTER_INDEX_KEY_ID',
  developmentKey: Buffer,
): Record<string, Uint8Array> | undefined {
  const spec = c[keysVar];
  const currentId = c[idVar];
  if (!spec) {
    if (c.NODE_ENV === 'production') ctx.addIssue({ code: 'custom', path: [keysVar], message: 'is required when NODE_ENV=production' });
    if (currentId) ctx.addIssue({ code: 'custom', path: [idVar], message: `is set but ${keysVar} is not` });
    return undefined;
  }
  let keys: Record<string, Uint8Array>;
  try {
    keys = parseKeySpec(spec);
  } catch (err) {
    // The key material is never echoed: loadConfig prints issues without the value for this path.
    ctx.addIssue({ code: 'custom', path: [keysVar], message: (err as Error).message });
    return undefined;
  }
  if (!currentId) {
    ctx.addIssue({ code: 'custom', path: [idVar], message: `is required with ${keysVar} (one of: ${Object.keys(keys).join(', ')})` });
  } else if (!(currentId in keys)) {
    ctx.addIssue({ code: 'custom', path: [idVar], message: `must be one of the ids in ${keysVar} (${Object.keys(keys).join(', ')})` });
  }
  if (c.NODE_ENV === 'production' && Object.values(keys).some((k) => Buffer.from(k).equals(developmentKey))) {
    ctx.addIssue({ code: 'custom', path: [keysVar], message: 'must not contain the development key when NODE_ENV=production' });
  }
  return keys;
}

export type Config = z.infer<typeof configSchema>;

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Variables whose values a ConfigError never prints. */
const SECRET_VARIABLES = new Set(['ENCRYPTION_KEYS', 'REPORTER_KEYS', 'REPORTER_INDEX_KEYS', 'OPEN311_API_KEYS', 'METRICS_TOKEN']);

/** Parse the environment; throws a ConfigError naming every bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  // An empty variable counts as unset, for every variable alike (PORT= is PORT's default, not port 0).
  const result = configSchema.safeParse(Object.fromEntries(Object.entries(env).filter(([, v]) => v !== '')));
  if (!result.success) {
    const problems = result.error.issues.map((issue) => {
      const name = issue.path.join('.') || '(environment)';
      const value = typeof issue.path[0] === 'string' && !SECRET_VARIABLES.has(issue.path[0]) ? env[issue.path[0]] : undefined;
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
