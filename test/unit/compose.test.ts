import fs from 'node:fs';
import path from 'node:path';
import { parse, parseDocument } from 'yaml';
import { configVariables, loadConfig } from '../../runtime/config';
import { allSearchAttributes, devServerSearchAttributeArgs } from '../../domain/search-attributes';

/**
 * The deployment files (docker-compose.yml, Dockerfile, .dockerignore) checked statically: no Docker
 * engine is needed. What the app services receive must be what runtime/config.ts reads.
 */

const root = path.resolve(__dirname, '..', '..');
const composeText = fs.readFileSync(path.join(root, 'docker-compose.yml'), 'utf8');

type Service = Record<string, unknown>;
type Compose = { services: Record<string, Service> };

const appServices = ['migrate', 'worker', 'api'] as const;
const requiredServices = ['postgresql', 'temporal', 'temporal-admin-tools', 'temporal-ui', ...appServices];

/** What an operator puts in .env; the values only need to be recognisable. */
const deploySecrets = {
  POSTGRES_PASSWORD: 'pg-secret',
  TEMPORAL_DB_PASSWORD: 'temporal-secret',
  ECOLOOP_DB_PASSWORD: 'ecoloop-secret',
  JWT_SECRET: 'a-jwt-secret-of-at-least-32-characters',
  ENCRYPTION_KEYS: `k1:${Buffer.alloc(32, 7).toString('base64')}`,
  ENCRYPTION_KEY_ID: 'k1',
  REPORTER_KEYS: `r1:${Buffer.alloc(32, 9).toString('base64')}`,
  REPORTER_KEY_ID: 'r1',
  METRICS_TOKEN: 'a-metrics-token-for-prometheus',
  REPORTER_INDEX_KEYS: `i1:${Buffer.alloc(32, 11).toString('base64')}`,
  REPORTER_INDEX_KEY_ID: 'i1',
};

function loadCompose(): Compose {
  // `merge: true` resolves the `<<: *app` merge keys the way Docker Compose does.
  return parse(composeText, { merge: true }) as Compose;
}

function service(name: string): Service {
  const found = loadCompose().services[name];
  if (!found) throw new Error(`docker-compose.yml has no service ${name}`);
  return found;
}

/** A service's `environment`, in either of the two forms Compose accepts, values as strings. */
function envOf(svc: Service): Record<string, string | undefined> {
  const environment = svc.environment;
  if (environment === undefined || environment === null) return {};
  if (Array.isArray(environment)) {
    return Object.fromEntries(
      environment.map((entry: string) => {
        const eq = entry.indexOf('=');
        return eq === -1 ? [entry, undefined] : [entry.slice(0, eq), entry.slice(eq + 1)];
      }),
    );
  }
  return Object.fromEntries(
    Object.entries(environment as Record<string, unknown>).map(([key, value]) => [
      key,
      value === null || value === undefined ? undefined : String(value as string | number),
    ]),
  );
}

/**
 * Docker Compose interpolation: `$$`, `$NAME`, `${NAME}`, `${NAME:-default}`, `${NAME-default}`,
 * `${NAME:?error}` and `${NAME?error}`.
 */
function interpolate(text: string, vars: Record<string, string | undefined>): string {
  return text.replace(
    /\$(?:(\$)|\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}|([A-Za-z_][A-Za-z0-9_]*))/g,
    (_match, dollar: string | undefined, braced, operator: string | undefined, argument: string, bare) => {
      if (dollar) return '$';
      const name: string = braced ?? bare;
      const value = vars[name];
      const missing = operator?.startsWith(':') ? !value : value === undefined;
      if (operator?.endsWith('-')) return missing ? argument : (value as string);
      if (operator?.endsWith('?')) {
        if (missing) throw new Error(`${name}: ${argument}`);
        return value as string;
      }
      return value ?? '';
    },
  );
}

function interpolatedEnvOf(svc: Service, vars: Record<string, string | undefined>): Record<string, string | undefined> {
  return Object.fromEntries(
    Object.entries(envOf(svc)).map(([key, value]) => [key, value === undefined ? undefined : interpolate(value, vars)]),
  );
}

/** `command`/`entrypoint` in either form, as one text. */
function text(value: unknown): string {
  if (value === undefined || value === null) return '';
  return Array.isArray(value) ? value.map(String).join('\n') : `${value as string | number}`;
}

/** The host port a `ports` entry pins, or undefined when Docker picks one. */
function publishedHostPort(entry: unknown): string | undefined {
  if (typeof entry === 'object' && entry !== null) {
    const published = (entry as { published?: unknown }).published;
    return published === undefined || published === null ? undefined : `${published as string | number}`;
  }
  const spec = String(entry).replace(/\/(tcp|udp)$/, '');
  const parts = spec.split(':');
  return parts.length >= 2 ? parts[parts.length - 2] || undefined : undefined;
}

describe('docker-compose.yml', () => {
  test('when docker-compose.yml is parsed with merge keys, then it is valid YAML with a services map', () => {
    const document = parseDocument(composeText, { merge: true });
    expect(document.errors.map((e) => e.message)).toEqual([]);
    const compose = loadCompose();
    expect(compose).toEqual(expect.objectContaining({ services: expect.any(Object) }));
  });

  test.each(requiredServices)('when the deployment is listed, then it has the service %s', (name) => {
    expect(Object.keys(loadCompose().services)).toContain(name);
  });

  test.each(appServices)(
    'when the environment of %s is resolved through x-app, then every variable is one runtime/config.ts reads',
    (name) => {
      const svc = service(name);
      const names = Object.keys(envOf(svc));
      expect(names.length).toBeGreaterThan(0);
      expect(names.filter((variable) => !configVariables.includes(variable))).toEqual([]);
      // an env_file would hand the process variables this test never sees
      expect(svc.env_file).toBeUndefined();
    },
  );

  test('when migrate, worker and api are built, then they run one and the same image', () => {
    const sources = appServices.map((name) => {
      const svc = service(name);
      if (svc.build !== undefined) {
        const build = svc.build as string | { context?: string };
        const context = typeof build === 'string' ? build : (build.context ?? '.');
        return `build:${path.posix.normalize(context)}`;
      }
      return `image:${String((svc.image as string | undefined) ?? '')}`;
    });
    expect(sources[0]).toMatch(/^(build:\.|image:\S+)$/);
    expect(sources).toEqual(appServices.map(() => sources[0]));
  });

  test.each(appServices)('when %s starts, then it runs its own npm script', (name) => {
    expect(text(service(name).command).replace(/\s+/g, ' ')).toBe(`npm run ${name}`);
  });

  test("when the api service's environment is interpolated with the deploy secrets, then loadConfig accepts it", () => {
    const config = loadConfig(interpolatedEnvOf(service('api'), deploySecrets));
    expect(config.NODE_ENV).toBe('production');
    expect(config.HOST).toBe('0.0.0.0');
    expect(config.TEMPORAL_ADDRESS).toBe('temporal:7233');
    expect(config.JWT_SECRET).toBe(deploySecrets.JWT_SECRET);
    const database = new URL(config.DATABASE_URL ?? '');
    expect([database.hostname, database.pathname, database.username, database.password]).toEqual([
      'postgresql',
      '/ecoloop',
      'ecoloop',
      deploySecrets.ECOLOOP_DB_PASSWORD,
    ]);
  });

  test.each(['ECOLOOP_DB_PASSWORD', 'JWT_SECRET', 'ENCRYPTION_KEYS', 'REPORTER_KEYS', 'METRICS_TOKEN', 'REPORTER_INDEX_KEYS'] as const)(
    'when %s is not provided, then the app environment cannot be resolved',
    (secret) => {
      const otherSecrets: Record<string, string | undefined> = { ...deploySecrets, [secret]: undefined };
      expect(() => interpolatedEnvOf(service('api'), otherSecrets)).toThrow(new RegExp(`^${secret}:`));
    },
  );

  test("when Prometheus scrapes the deployment, then the API's /metrics takes the deploy's METRICS_TOKEN and each worker's metrics listen on its container's every interface, exposed on the compose network only", () => {
    for (const name of appServices) {
      const config = loadConfig(interpolatedEnvOf(service(name), deploySecrets));
      // In production an unset token refuses every scrape (403): the deploy must set it, from its secrets.
      expect(config.METRICS_TOKEN).toBe(deploySecrets.METRICS_TOKEN);
      expect(config.WORKER_METRICS_HOST).toBe('0.0.0.0');
    }
    expect(envOf(service('api')).METRICS_TOKEN).toMatch(/^\$\{METRICS_TOKEN:\?/);
    const worker = service('worker');
    const config = loadConfig(interpolatedEnvOf(worker, deploySecrets));
    expect(config.WORKER_METRICS_PORT).toBeGreaterThan(0);
    expect(config.WORKER_TEMPORAL_METRICS_PORT).toBeGreaterThan(0);
    expect(((worker.expose ?? []) as unknown[]).map(String).sort()).toEqual(
      [String(config.WORKER_METRICS_PORT), String(config.WORKER_TEMPORAL_METRICS_PORT)].sort(),
    );
    // Replicas would collide on a host port, and the endpoints have no access control of their own.
    expect(worker.ports).toBeUndefined();
  });

  test('when temporal-admin-tools registers attributes, then it does so in the namespace the app uses', () => {
    const appNamespace = loadConfig(interpolatedEnvOf(service('api'), deploySecrets)).TEMPORAL_NAMESPACE;
    expect(envOf(service('temporal-admin-tools')).TEMPORAL_NAMESPACE).toBe(appNamespace);
  });

  test.each(allSearchAttributes.map((key) => key.name))(
    'when temporal-admin-tools runs, then its command registers the search attribute %s',
    (name) => {
      const admin = service('temporal-admin-tools');
      expect(`${text(admin.entrypoint)}\n${text(admin.command)}`).toContain(name);
    },
  );

  test('when temporal-admin-tools registers the search attributes, then each has the type the workflow declares', () => {
    const command = text(service('temporal-admin-tools').command);
    const pairs = devServerSearchAttributeArgs().filter((arg) => arg !== '--search-attribute');
    expect(pairs).toHaveLength(allSearchAttributes.length);
    expect(pairs.filter((pair) => !command.includes(pair))).toEqual([]);
  });

  test('when a search attribute already exists, then temporal-admin-tools carries on', () => {
    const command = text(service('temporal-admin-tools').command);
    expect(command).toContain('temporal operator search-attribute create');
    expect(command).toMatch(/already exists/i);
  });

  test('when the temporal server starts, then it persists to PostgreSQL with a production shard count', () => {
    const temporal = service('temporal');
    const env = envOf(temporal);
    expect(String(temporal.image)).toMatch(/^temporalio\/(server|auto-setup)(:|$)/);
    expect(env.DB).toBe('postgres12');
    expect(env.POSTGRES_SEEDS).toBe('postgresql');
    const shards = Number(env.NUM_HISTORY_SHARDS);
    expect(Number.isInteger(shards) && shards >= 512).toBe(true);
    expect(temporal.depends_on).toEqual(expect.objectContaining({ postgresql: expect.objectContaining({ condition: 'service_healthy' }) }));
  });

  test.each(['worker', 'api'])('when %s is scaled, then its replicas do not compete for a host port', (name) => {
    const ports = (service(name).ports as unknown[] | undefined) ?? [];
    expect(ports.map(publishedHostPort).filter((port) => port !== undefined)).toEqual([]);
  });

  test('when the deployment starts, then two workers run', () => {
    expect((service('worker').deploy as { replicas?: unknown } | undefined)?.replicas).toBe(2);
  });

  test('when the api runs, then compose checks its /health endpoint', () => {
    const healthcheck = service('api').healthcheck as { test?: unknown } | undefined;
    expect(text(healthcheck?.test)).toMatch(/\/health(?![\w/-])/);
  });
});

type Instruction = { keyword: string; args: string };

/** Dockerfile instructions, comments dropped and continuation lines joined. */
function dockerfileInstructions(source: string): Instruction[] {
  const joined = source
    .split('\n')
    .filter((line) => !/^\s*#/.test(line))
    .join('\n')
    .replace(/\\\r?\n/g, ' ');
  return joined
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '')
    .map((line) => {
      const [keyword, ...rest] = line.split(/\s+/);
      return { keyword: keyword.toUpperCase(), args: rest.join(' ') };
    });
}

function finalStage(instructions: Instruction[]): Instruction[] {
  const lastFrom = instructions.map((i) => i.keyword).lastIndexOf('FROM');
  return lastFrom === -1 ? [] : instructions.slice(lastFrom);
}

describe('Dockerfile', () => {
  const dockerfilePath = path.join(root, 'Dockerfile');
  const read = () => dockerfileInstructions(fs.readFileSync(dockerfilePath, 'utf8'));

  test('when the image is built, then a Dockerfile exists', () => {
    expect(fs.existsSync(dockerfilePath)).toBe(true);
  });

  test('when the final stage runs, then it runs as a non-root USER', () => {
    const users = finalStage(read()).filter((i) => i.keyword === 'USER');
    expect(users.length).toBeGreaterThan(0);
    const user = users[users.length - 1].args.split(':')[0];
    expect(['', 'root', '0']).not.toContain(user);
  });

  test('when the image is built, then every stage starts from node:20-bookworm-slim and it has more than one', () => {
    const bases = read()
      .filter((i) => i.keyword === 'FROM')
      .map((i) => i.args.split(/\s+/).filter((word) => !word.startsWith('--'))[0]);
    expect(bases.length).toBeGreaterThan(1);
    expect(bases.filter((base) => base !== 'node:20-bookworm-slim')).toEqual([]);
  });

  test('when dependencies are installed, then only production packages come from the lockfile', () => {
    const runs = read()
      .filter((i) => i.keyword === 'RUN')
      .map((i) => i.args);
    expect(runs.some((run) => /\bnpm ci\b[^&|;]*--omit=dev\b/.test(run))).toBe(true);
    expect(runs.some((run) => /\bnpm (install|i)\b/.test(run))).toBe(false);
  });

  test('when the container starts, then NODE_ENV is production and the default command is the api', () => {
    const stage = finalStage(read());
    expect(stage.filter((i) => i.keyword === 'ENV').some((i) => /(^|\s)NODE_ENV=production(\s|$)/.test(i.args))).toBe(true);
    const cmd = stage.filter((i) => i.keyword === 'CMD').pop();
    expect(cmd?.args).toBe('["npm", "run", "api"]');
  });

  test('when the build context is sent, then local state, dependencies and git stay out of it', () => {
    const ignored = fs
      .readFileSync(path.join(root, '.dockerignore'), 'utf8')
      .split('\n')
      .map((line) => line.trim().replace(/^\//, '').replace(/\/$/, ''));
    for (const entry of ['node_modules', '.data', '.tools', '.git', 'dist', '.test-artifacts']) {
      expect(ignored).toContain(entry);
    }
  });
});
