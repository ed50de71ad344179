import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Express } from 'express';
import { chromium } from 'playwright-core';
import { Client, Connection } from '@temporalio/client';
import { allRoutes } from '../api/routes';
import { publicRouteTable } from '../api/routes/public';
import type { RouteSpec } from '../api/validate';
import { createPool, type Pool } from '../db/pool';
import { createLogger } from '../runtime/logger';
import { openApiDocument } from '../api/openapi';
import { startInProcessApi, type InProcessApi, type InProcessApiDeps } from './support/api';
import { responseValidation } from './support/response-validation';
import type { ResponseViolation } from './support/response-violations';
import { samplePath, servedAs, servedRoutes } from './support/route-samples';

/**
 * The OpenAPI 3.1 document is generated from the route tables the router mounts (every table of
 * api/routes/index.ts), and Swagger UI is served from the installed swagger-ui-dist. Neither needs
 * Temporal or PostgreSQL: the app here points at nothing.
 */

const routes: RouteSpec[] = allRoutes();
/** Served outside the tables on purpose: the interactive docs' page and its script are not API operations. */
const docsPages = ['get /docs', 'get /docs/swagger-initializer.js'];
let app: Express;
let api: InProcessApi;
let base: string;
let connection: Connection;
let pool: Pool;
let doc: any;

/** An API that reaches neither Temporal nor PostgreSQL. */
function nowhere(): InProcessApiDeps {
  return {
    client: new Client({ connection }),
    connection,
    pool,
    taskQueue: 'nowhere',
    log: createLogger('silent', 'openapi-test'),
    limits: { publicRateLimitPerMinute: 1_000, temporalTimeoutMs: 300 },
  };
}

beforeAll(async () => {
  connection = Connection.lazy({ address: '127.0.0.1:1' });
  pool = createPool('postgres://nobody:nothing@127.0.0.1:1/none', { connectionTimeoutMillis: 500 });
  api = await startInProcessApi(nowhere());
  app = api.app;
  base = api.baseUrl;
  const res = await fetch(`${base}/openapi.json`);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^application\/json/);
  doc = await res.json();
});
afterAll(async () => {
  await api?.stop();
  await connection?.close();
  await pool?.end();
});

/** Every `$ref` in a value. */
function refs(value: unknown): string[] {
  if (Array.isArray(value)) return value.flatMap(refs);
  if (value && typeof value === 'object') {
    return Object.entries(value).flatMap(([k, v]) => (k === '$ref' && typeof v === 'string' ? [v] : refs(v)));
  }
  return [];
}

describe('GET /openapi.json', () => {
  test('when it is read, then it is an OpenAPI 3.1 document in the default JSON Schema 2020-12 dialect with bearer security', () => {
    expect(doc.openapi).toBe('3.1.0');
    // OpenAPI 3.1's default dialect (JSON Schema 2020-12 and the OpenAPI vocabulary): Swagger UI warns about any other value.
    expect(doc.jsonSchemaDialect).toBeUndefined();
    expect(doc.info).toMatchObject({ title: expect.any(String), version: expect.any(String) });
    expect(doc.components.securitySchemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' });
    for (const ref of refs(doc)) {
      expect(ref).toMatch(/^#\/components\/schemas\//);
      expect(doc.components.schemas[ref.split('/').pop()!]).toBeDefined();
    }
  });

  test('when it is read, then every route of the table is there, with its roles, parameters, request schema and answers', () => {
    const operationIds = new Set<string>();
    for (const r of routes) {
      const op = doc.paths[r.path]?.[r.method];
      expect({ route: `${r.method} ${r.path}`, found: !!op }).toEqual({ route: `${r.method} ${r.path}`, found: true });
      operationIds.add(op.operationId);
      expect(op.operationId).toBe(r.operationId);
      expect(op.summary).toBe(r.summary);
      if (r.access === 'public' || r.access === 'apiKey') {
        expect(op.security).toEqual([]);
      } else {
        expect(op.security).toEqual([{ bearer: [] }]);
        expect(op['x-roles']).toEqual([...r.access]);
        expect(op.responses['401']).toBeDefined();
        expect(op.responses['403']).toBeDefined();
      }
      for (const name of Object.keys(r.params?.shape ?? {})) {
        expect(op.parameters).toContainEqual(expect.objectContaining({ name, in: 'path', required: true, schema: expect.any(Object) }));
      }
      for (const name of Object.keys(r.query?.shape ?? {})) {
        expect(op.parameters).toContainEqual(expect.objectContaining({ name, in: 'query', schema: expect.any(Object) }));
      }
      if (r.body) {
        const schema = op.requestBody?.content?.[r.requestType ?? 'application/json']?.schema;
        expect(op.requestBody.required).toBe(true);
        expect(schema).toEqual(
          expect.objectContaining(schema.oneOf || schema.anyOf ? {} : { type: 'object', properties: expect.any(Object) }),
        );
      } else {
        expect(op.requestBody).toBeUndefined();
      }
      expect(op.responses[String(r.response.status)].content['application/json'].schema).toEqual(expect.any(Object));
      for (const type of r.response.mediaTypes ?? []) expect(op.responses[String(r.response.status)].content[type]).toBeDefined();
      const failure = r.errorFormat
        ? {
            'application/json': { schema: { $ref: `#/components/schemas/${r.errorFormat.name}` } },
            'text/xml': { schema: { type: 'string' } },
          }
        : { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } };
      for (const [status, answer] of Object.entries<any>(op.responses)) {
        expect(answer.description).toEqual(expect.any(String));
        if (Number(status) >= 400) expect(answer.content).toEqual(failure);
      }
    }
    expect(operationIds.size).toBe(routes.length);
  });

  test('when it is read, then every documented operation (other route tables included) is well formed and its operationId unique', () => {
    const operations = Object.entries<any>(doc.paths).flatMap(([path, item]) =>
      Object.entries<any>(item).map(([method, op]) => ({ path, method, op })),
    );
    expect(operations.length).toBeGreaterThanOrEqual(routes.length);
    const ids = operations.map((o) => o.op.operationId);
    expect(new Set(ids).size).toBe(ids.length);
    for (const { path, method, op } of operations) {
      expect(['get', 'post', 'put', 'patch', 'delete']).toContain(method);
      expect(path).toMatch(/^\//);
      expect(op).toMatchObject({ operationId: expect.any(String), summary: expect.any(String), responses: expect.any(Object) });
      for (const name of [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1])) {
        expect(op.parameters).toContainEqual(expect.objectContaining({ name, in: 'path', required: true }));
      }
      for (const p of op.parameters)
        expect(p).toMatchObject({
          name: expect.any(String),
          in: expect.stringMatching(/^(path|query|header)$/),
          schema: expect.any(Object),
        });
    }
  });

  test('when the registration body is read, then its schema is the intake schema: required fields, enums, limits, no extra fields', () => {
    const schema = doc.paths['/v1/complaints'].post.requestBody.content['application/json'].schema;
    expect(schema.required).toEqual(expect.arrayContaining(['channel', 'category', 'divisionCode', 'title', 'description']));
    expect(schema.additionalProperties).toBe(false);
    expect(schema.properties.category.enum).toContain('dust');
    expect(schema.properties.divisionCode.pattern).toBe('^\\d{6}$');
    expect(schema.properties.reporter.properties.email.format).toBe('email');
    const header = doc.paths['/v1/complaints'].post.parameters.find((p: { in: string }) => p.in === 'header');
    expect(header).toMatchObject({ name: 'Idempotency-Key', required: false, schema: { type: 'string', minLength: 8 } });
    const review = doc.paths['/v1/complaints/{caseId}/review'].post.requestBody.content['application/json'].schema;
    expect(review.oneOf.map((o: { properties: { decision: { const: string } } }) => o.properties.decision.const).sort()).toEqual([
      'approved',
      'returned',
    ]);
  });

  test('when the routes Express serves are listed from its router, then each is a documented route (and each documented route is served)', () => {
    expect(servedRoutes(app)).toEqual([...routes.map(servedAs), ...docsPages].sort());
  });

  test('when it is read, then reports, warnings, the codec, Open311, health and the document itself are there', () => {
    for (const path of [
      '/v1/reports',
      '/v1/reports/{reportId}',
      '/v1/warnings',
      '/v1/warnings/{warningId}/campaign',
      '/codec/decode',
      '/open311/v2/requests.{format}',
      '/open311/v2/discovery.{format}',
      '/health',
      '/openapi.json',
    ]) {
      expect({ path, documented: !!doc.paths[path] }).toEqual({ path, documented: true });
    }
    const form = doc.paths['/open311/v2/requests.{format}'].post.requestBody.content['application/x-www-form-urlencoded'];
    expect(form.schema.required).toContain('api_key');
    const report = doc.paths['/v1/reports/{reportId}'].get.responses['200'].content;
    expect(Object.keys(report)).toEqual(['application/json', 'text/csv', 'text/html']);
    expect(doc.paths['/v1/reports'].post.responses['202']).toBeDefined();
  });

  test('when each documented route is called without a token, then the router knows it (never 404 or 405)', async () => {
    const needsDatabase = new Set([...publicRouteTable.map((r) => r.operationId), 'health']);
    for (const r of routes) {
      const res = await fetch(`${base}${samplePath(r)}`, { method: r.method.toUpperCase() });
      const byToken = r.access !== 'public' && r.access !== 'apiKey';
      const status = byToken ? 401 : needsDatabase.has(r.operationId) ? 503 /* no database here */ : res.status;
      expect({ route: `${r.method} ${r.path}`, status: res.status, known: ![404, 405].includes(res.status) }).toEqual({
        route: `${r.method} ${r.path}`,
        status,
        known: true,
      });
    }
  });
});

describe('GET /docs', () => {
  test('when the docs are opened, then Swagger UI is served from the local swagger-ui-dist assets and loads /openapi.json', async () => {
    const redirect = await fetch(`${base}/docs`, { redirect: 'manual' });
    expect(redirect.status).toBe(301);
    expect(redirect.headers.get('location')).toBe('/docs/');

    const page = await fetch(`${base}/docs/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(page.headers.get('content-security-policy')).not.toContain('upgrade-insecure-requests');
    const html = await page.text();
    expect(html).toContain('id="swagger-ui"');
    expect(html).not.toMatch(/(src|href)="(https?:)?\/\//); // no CDN: every asset is local
    const assets = [...html.matchAll(/(?:src|href)="\.\/([^"]+)"/g)].map((m) => m[1]);
    expect(assets).toEqual(
      expect.arrayContaining(['swagger-ui.css', 'swagger-ui-bundle.js', 'swagger-ui-standalone-preset.js', 'swagger-initializer.js']),
    );
    for (const asset of assets) {
      const res = await fetch(`${base}/docs/${asset}`);
      expect({ asset, status: res.status }).toEqual({ asset, status: 200 });
      const type = res.headers.get('content-type') ?? '';
      if (asset.endsWith('.js')) expect(type).toMatch(/javascript/);
      if (asset.endsWith('.css')) expect(type).toMatch(/text\/css/);
      if (asset === 'swagger-ui-bundle.js') expect((await res.text()).length).toBeGreaterThan(100_000);
      if (asset === 'swagger-initializer.js') expect(await res.text()).toContain("url: '../openapi.json'");
    }
  });
});

describe('the document is the contract', () => {
  test('when the document is checked against the OpenAPI 3.1 schema (@seriousme/openapi-schema-validator), then it is valid', async () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'ecoloop-openapi-')), 'openapi.json');
    fs.writeFileSync(file, JSON.stringify(doc));
    // The validator is an ES module: its command line, in a Node process of its own.
    const cli = path.join(path.dirname(require.resolve('@seriousme/openapi-schema-validator/package.json')), 'bin', 'validate-api-cli.js');
    const { stdout } = await promisify(execFile)(process.execPath, [cli, file]).catch((err: { stdout: string }) => err);
    fs.rmSync(path.dirname(file), { recursive: true, force: true });
    expect(JSON.parse(stdout)).toEqual({ valid: true });
  });

  test('when the test suite runs, then its in-process API validates every answer against the document', () => {
    // Set by the global setup; test/support/api.ts then builds the app with the hook.
    expect(process.env.ECOLOOP_TEST_RESPONSE_VALIDATION).toEqual(expect.any(String));
    expect(api.app.router.stack.map((layer: { name: string }) => layer.name)).toEqual(expect.arrayContaining(['responseValidation']));
  });

  test('when a field is removed from a response schema, then the hook reports the answer that has it, naming the request and the field', async () => {
    const violations: ResponseViolation[] = [];
    const broken = structuredClone(openApiDocument(routes)) as any;
    // The metrics' JSON answer without `help`, and the problem document without `title` (neither allows unknown fields).
    delete broken.paths['/metrics'].get.responses['200'].content['application/json'].schema.items.properties.help;
    delete broken.components.schemas.Problem.properties.title;
    broken.components.schemas.Problem.required = broken.components.schemas.Problem.required.filter((f: string) => f !== 'title');
    const contract = await startInProcessApi({ ...nowhere(), responseCheck: responseValidation(broken, (v) => violations.push(v)) });
    try {
      const metrics = await fetch(`${contract.baseUrl}/metrics`, { headers: { accept: 'application/json' } });
      expect(metrics.status).toBe(200);
      const unauthorized = await fetch(`${contract.baseUrl}/v1/complaints?page=1`);
      expect(unauthorized.status).toBe(401);
    } finally {
      await contract.stop();
    }
    expect(violations).toEqual([
      expect.objectContaining({
        method: 'GET',
        url: '/metrics',
        route: '/metrics',
        status: 200,
        errors: expect.arrayContaining([{ path: '/response/0/help', message: expect.stringMatching(/additional properties/) }]),
      }),
      expect.objectContaining({
        method: 'GET',
        url: '/v1/complaints?page=1',
        route: '/v1/complaints',
        status: 401,
        errors: [{ path: '/response/title', message: expect.stringMatching(/additional properties/) }],
      }),
    ]);

    // The same requests against the document as served: no violation.
    const intact: ResponseViolation[] = [];
    const served = await startInProcessApi({ ...nowhere(), responseCheck: responseValidation(doc, (v) => intact.push(v)) });
    try {
      expect((await fetch(`${served.baseUrl}/metrics`, { headers: { accept: 'application/json' } })).status).toBe(200);
      expect((await fetch(`${served.baseUrl}/v1/complaints?page=1`)).status).toBe(401);
    } finally {
      await served.stop();
    }
    expect(intact).toEqual([]);
  });
});

describe('GET /docs in a browser', () => {
  const executablePath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

  test('when Swagger UI is opened in headless Chromium, then it renders every operation and shows no error or warning', async () => {
    if (!fs.existsSync(executablePath)) {
      throw new Error(`No Chromium at ${executablePath}: install Debian's package (apt-get install -y chromium) or set CHROMIUM_PATH.`);
    }
    const browser = await chromium.launch({ executablePath, args: ['--no-sandbox', '--disable-dev-shm-usage'] });
    try {
      const page = await browser.newPage({ viewport: { width: 1240, height: 900 } });
      const errors: string[] = [];
      page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
      page.on('pageerror', (e) => errors.push(String(e)));
      await page.goto(`${base}/docs/`, { waitUntil: 'networkidle' });
      await page.waitForSelector('.opblock');
      const operations = Object.values<object>(doc.paths).reduce((n, item) => n + Object.keys(item).length, 0);
      expect(await page.locator('.opblock').count()).toBe(operations);
      // Swagger UI's errors panel holds its warnings too (an unsupported dialect, a $ref it cannot resolve).
      expect(await page.locator('.errors-wrapper').allInnerTexts()).toEqual([]);
      expect(errors).toEqual([]);
    } finally {
      await browser.close();
    }
  });
});
