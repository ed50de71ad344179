import path from 'node:path';
import express, { Router } from 'express';
import helmet from 'helmet';
import { z } from 'zod';
import { problemSchema, titleOf } from './problem';
import { mountRoutes, route, type Route, type RouteSpec } from './validate';

/**
 * The OpenAPI 3.1 description, generated from the route tables the router mounts: every path,
 * who may call it, and its parameters, bodies and answers converted from their zod schemas to JSON
 * Schema 2020-12 (the dialect of OpenAPI 3.1). It is the contract: the test suite validates every
 * answer it receives against it (test/support/response-validation.ts). Served at `GET /openapi.json`, with Swagger UI at `/docs`
 * from the installed swagger-ui-dist package (no CDN).
 */

type JsonSchema = Record<string, unknown>;

function jsonSchema(schema: z.ZodType, io: 'input' | 'output'): JsonSchema {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, { target: 'draft-2020-12', io, unrepresentable: 'any' }) as JsonSchema;
  return rest;
}

/** Parameters of one location, one per field of the object schema. */
function parameters(where: 'path' | 'query' | 'header', schema: z.ZodObject | undefined): JsonSchema[] {
  if (!schema) return [];
  return Object.entries(schema.shape).map(([name, field]) => {
    const fieldSchema = field as z.ZodType;
    const { description, ...rest } = jsonSchema(fieldSchema, 'input');
    return {
      name: where === 'header' ? name.replace(/(^|-)(\w)/g, (_m, dash: string, ch: string) => dash + ch.toUpperCase()) : name,
      in: where,
      required: where === 'path' || !fieldSchema.safeParse(undefined).success,
      ...(description !== undefined && { description }),
      schema: rest,
    };
  });
}

/** A media type's schema: the JSON answer's own, or text (a CSV, an HTML page, an XML document). */
function content(mediaTypes: readonly string[], schema: JsonSchema): JsonSchema {
  return Object.fromEntries(mediaTypes.map((type) => [type, { schema: /json$/.test(type) ? schema : { type: 'string' } }]));
}

function accessOf(r: RouteSpec): { text: string; security: JsonSchema[]; roles: string[] } {
  if (r.access === 'public') return { text: 'Public: no token.', security: [], roles: [] };
  // OpenAPI's apiKey scheme has no body location: Open311's api_key is a field of the request body's schema.
  if (r.access === 'apiKey') return { text: "No token: a client's api_key, a field of the body.", security: [], roles: [] };
  return { text: `Roles: ${r.access.join(', ')}.`, security: [{ bearer: [] }], roles: [...r.access] };
}

function operation(r: RouteSpec): JsonSchema {
  const access = accessOf(r);
  const scope = r.caseScoped ? " A case outside the caller's scope answers 404, as if it did not exist." : '';
  const failure = r.errorFormat
    ? content(r.errorFormat.mediaTypes, { $ref: `#/components/schemas/${r.errorFormat.name}` })
    : { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } };
  const strictQuery = r.query ? ' Unknown query parameters are refused (400).' : '';
  return {
    operationId: r.operationId,
    summary: r.summary,
    description: [r.description, `${access.text}${scope}${strictQuery}`].filter(Boolean).join('\n\n'),
    tags: [r.tag],
    security: access.security,
    'x-roles': access.roles,
    parameters: [...parameters('path', r.params), ...parameters('query', r.query), ...parameters('header', r.headers)],
    ...(r.body && {
      requestBody: { required: true, content: { [r.requestType ?? 'application/json']: { schema: jsonSchema(r.body, 'input') } } },
    }),
    responses: {
      ...Object.fromEntries(
        [[r.response.status, r.response.description] as const, ...Object.entries(r.response.otherStatuses ?? {})].map(
          ([status, description]) => [
            String(status),
            { description, content: content(r.response.mediaTypes ?? ['application/json'], jsonSchema(r.response.schema, 'output')) },
          ],
        ),
      ),
      // A route with a body answers 413 and 415 from its body parser (api/validate.ts), whatever its table lists.
      ...Object.fromEntries(
        [...new Set([...r.problems, ...(r.body ? [413, 415] : []), 500])].map((s) => [
          String(s),
          { description: titleOf(s), content: failure },
        ]),
      ),
    },
  };
}

const tagDescriptions: Record<string, string> = {
  complaints: 'Registration, search and reading of cases',
  decisions: 'One endpoint per decision of the lifecycle',
  public: 'The public, redacted disclosure feed',
  units: 'The handling units cases go to, managed by admin (docs/directories.md)',
};

export function openApiDocument(routes: readonly RouteSpec[]): JsonSchema {
  const paths: Record<string, Record<string, JsonSchema>> = {};
  for (const r of routes) (paths[r.path] ??= {})[r.method] = operation(r);
  const errorFormats = new Map(routes.flatMap((r) => (r.errorFormat ? [[r.errorFormat.name, r.errorFormat.schema] as const] : [])));
  const tags = [...new Set(routes.map((r) => r.tag))];
  return {
    openapi: '3.1.0',
    // No `jsonSchemaDialect`: OpenAPI 3.1's default dialect is JSON Schema 2020-12 with the OpenAPI
    // vocabulary, and Swagger UI warns about any other value (2020-12 itself included).
    info: {
      title: 'EcoLoop API',
      version: '1.0.0',
      description:
        'Closed-loop handling of public pollution complaints: each complaint is a durable Temporal workflow. ' +
        'Bearer tokens (JWT, HS256) carry a role and a scope (`unitId` for a unit, `divisions` for a supervisor); ' +
        '`npm run token -- <role>` mints a development token. Every failure is an RFC 9457 problem document, ' +
        'except under /open311/v2, where failures are Open311 error lists.',
    },
    servers: [{ url: '/' }],
    tags: tags.map((name) => ({ name, ...(tagDescriptions[name] && { description: tagDescriptions[name] }) })),
    paths,
    components: {
      securitySchemes: {
        bearer: {
          type: 'http',
          scheme: 'bearer',
          bearerFormat: 'JWT',
          description:
            'Issuer `ecoloop`, audience `ecoloop-api`. Claims: `sub`, `role` (clerk, unit, supervisor, inspector, analyst, ops, admin), `unitId` (unit), `divisions` (supervisor: division codes or prefixes).',
        },
      },
      schemas: {
        Problem: jsonSchema(problemSchema, 'output'),
        ...Object.fromEntries([...errorFormats].map(([name, schema]) => [name, jsonSchema(schema, 'output')])),
      },
    },
  };
}

const DOCS_HTML = `<!DOCTYPE html>
<html lang="en">
  <head>
    <meta charset="UTF-8">
    <title>EcoLoop API</title>
    <link rel="stylesheet" type="text/css" href="./swagger-ui.css">
    <link rel="icon" type="image/png" href="./favicon-32x32.png" sizes="32x32">
  </head>
  <body>
    <div id="swagger-ui"></div>
    <script src="./swagger-ui-bundle.js" charset="UTF-8"></script>
    <script src="./swagger-ui-standalone-preset.js" charset="UTF-8"></script>
    <script src="./swagger-initializer.js" charset="UTF-8"></script>
  </body>
</html>
`;

const DOCS_INITIALIZER = `window.onload = function () {
  window.ui = SwaggerUIBundle({
    url: '../openapi.json',
    dom_id: '#swagger-ui',
    deepLinking: true,
    persistAuthorization: true,
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
    layout: 'StandaloneLayout',
  });
};
`;

/** The directory of the installed swagger-ui-dist (resolved without loading its 1 MB bundle into Node). */
function swaggerUiDir(): string {
  return path.dirname(require.resolve('swagger-ui-dist/package.json'));
}

/** `GET /openapi.json`: a table of one, so that the document describes itself too. */
export const openApiRouteTable: Route<{ document: string }>[] = [
  route(
    {
      operationId: 'openApiDocument',
      method: 'get',
      path: '/openapi.json',
      summary: 'This OpenAPI 3.1 document (Swagger UI at /docs)',
      tag: 'operations',
      access: 'public',
      response: { status: 200, description: 'The OpenAPI document', schema: z.object({ openapi: z.string() }).loose() },
      problems: [],
    },
    async (deps, _input, _req, res) => {
      res.type('application/json').send(deps.document);
    },
  ),
];

/**
 * `GET /openapi.json`, describing `routes` (every table, this one included), and the interactive
 * docs at `/docs`: a page and its static assets, not operations of the API.
 */
export function openApiRoutes(routes: readonly RouteSpec[]): Router {
  const router = Router();
  mountRoutes(router, openApiRouteTable, { document: JSON.stringify(openApiDocument(routes)) }, {});
  // Over plain http (npm start), upgrading the page's own assets to https would break it.
  const docsPolicy = helmet.contentSecurityPolicy({ directives: { upgradeInsecureRequests: null } });
  // `/docs` and `/docs/` match the same route; the page's relative asset paths need the slash.
  router.get('/docs', docsPolicy, (req, res) => {
    if (!req.originalUrl.split('?')[0].endsWith('/')) return res.redirect(301, '/docs/');
    res.type('html').send(DOCS_HTML);
  });
  router.get('/docs/swagger-initializer.js', (_req, res) => {
    res.type('application/javascript').send(DOCS_INITIALIZER);
  });
  router.use('/docs', express.static(swaggerUiDir(), { index: false, redirect: false, fallthrough: true }));
  return router;
}
