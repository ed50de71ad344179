import express, { type Request, type RequestHandler, type Response, type Router } from 'express';
import { z } from 'zod';
import { authenticate, requireRole, type PrincipalRole } from './auth';
import { HttpProblem, methodNotAllowed, unsupportedMediaType, validationProblem, type InputLocation } from './problem';

/**
 * zod at the edge: the parsed value replaces the raw one, so handlers never re-parse.
 * `res.locals.body`, `res.locals.query`, `res.locals.params`, `res.locals.headers` hold the parsed
 * values. Every invalid part of the request is reported at once, each issue with where it is
 * (`body`, `query`, `params`, `header`) and its field path.
 */
export function validate(schemas: { body?: z.ZodType; query?: z.ZodType; params?: z.ZodType; headers?: z.ZodType }): RequestHandler {
  const parts: Array<[InputLocation, keyof typeof schemas, (req: Request) => unknown]> = [
    ['params', 'params', (req) => req.params],
    ['query', 'query', (req) => req.query],
    ['header', 'headers', (req) => req.headers],
    ['body', 'body', (req) => req.body ?? {}],
  ];
  return (req, res, next) => {
    const errors: HttpProblem[] = [];
    for (const [where, key, read] of parts) {
      const schema = schemas[key];
      if (!schema) continue;
      const parsed = schema.safeParse(read(req));
      if (parsed.success) res.locals[key] = parsed.data;
      else errors.push(validationProblem(where, parsed.error));
    }
    if (!errors.length) return next();
    const all = errors.flatMap((e) => e.extra.errors as unknown[]);
    next(new HttpProblem(400, 'Bad Request', 'The request is not valid.', { errors: all }));
  };
}

/** A query parameter listing values of an enum, comma-separated: `status=handling,closed`. */
export function csvOf<const V extends readonly [string, ...string[]]>(values: V) {
  return z
    .string()
    .max(500)
    .transform((v) => v.split(',').filter(Boolean))
    .pipe(z.array(z.enum(values)).max(20))
    .describe(`comma-separated, any of: ${values.join(', ')}`);
}

/** True when the request carries a body (a length above zero, or a chunked one). */
function hasBody(req: Request): boolean {
  const length = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

/** 415 for a body of another media type than the route reads. An empty body is `{}`. */
export function requireMediaType(type: RequestType): RequestHandler {
  return (req, _res, next) => {
    if (!hasBody(req) || req.is(type)) return next();
    next(unsupportedMediaType(`The request body must be ${type}.`));
  };
}

/** The media types a request body may have. */
export type RequestType = 'application/json' | 'application/x-www-form-urlencoded';

/**
 * The body parser of a route: JSON (strict), or an HTML form, each at most `limit`,, where an empty
 * field is a field not given (clients send empty fields for what they do not have).
 */
function bodyParser(type: RequestType, limit: string): RequestHandler[] {
  if (type === 'application/json') return [express.json({ limit, strict: true })];
  const dropEmpty: RequestHandler = (req, _res, next) => {
    if (req.body && typeof req.body === 'object') {
      for (const [key, value] of Object.entries(req.body as Record<string, unknown>)) {
        if (value === '') delete (req.body as Record<string, unknown>)[key];
      }
    }
    next();
  };
  return [express.urlencoded({ extended: false, limit, parameterLimit: 100 }), dropEmpty];
}

// ---- The route table: one description per endpoint, read by the router and by api/openapi.ts ----

/**
 * One endpoint: its method and path, who may call it, what it reads (zod schemas) and what it
 * answers. The router mounts exactly these (see `mountRoutes`), and the OpenAPI document and the
 * authorization and fuzz tests are generated from the same tables.
 */
export interface RouteSpec {
  operationId: string;
  method: 'get' | 'post';
  /** OpenAPI form: `/v1/complaints/{caseId}/accept`. */
  path: string;
  summary: string;
  description?: string;
  tag: string;
  /**
   * The roles that may call it (a bearer token is required), 'public' (no token), or 'apiKey' (a
   * client's API key, checked by the table's `apiKey` handler: Open311's `api_key` form field).
   */
  access: readonly PrincipalRole[] | 'public' | 'apiKey';
  /**
   * The case in the path must be in the principal's scope (a unit: its own cases; a supervisor:
   * the divisions it covers), or the answer is 404, as if the case did not exist.
   */
  caseScoped?: boolean;
  params?: z.ZodObject;
  query?: z.ZodObject;
  /** Headers the route reads (lower-case names); other headers pass. */
  headers?: z.ZodObject;
  /** The body: its media type (`requestType`) is required when a body is sent (415 otherwise). */
  body?: z.ZodType;
  /** The body's media type; unset: `application/json`. */
  requestType?: RequestType;
  response: {
    status: number;
    description: string;
    /** The JSON answer (and the shape that other media types render). */
    schema: z.ZodType;
    /** The media types it may answer in (CSV, HTML, XML...); unset: `application/json` only. */
    mediaTypes?: readonly string[];
    /** Other success statuses with the same answer, each with its description (a replayed request's 200). */
    otherStatuses?: Readonly<Record<number, string>>;
  };
  /** Statuses of the failures it may answer (500 aside). */
  problems: readonly number[];
  /** The failures' format when it is not a problem document (Open311's error list). */
  errorFormat?: ErrorFormat;
}

/** A format of failures other than RFC 9457 problem documents, for the OpenAPI description. */
export interface ErrorFormat {
  /** The component schema's name. */
  name: string;
  schema: z.ZodType;
  mediaTypes: readonly string[];
}

type Out<T> = T extends z.ZodType ? z.output<T> : undefined;

/** What a handler receives: the parsed parts of the request. */
export interface RouteInput<S extends RouteSpec> {
  params: Out<S['params']>;
  query: Out<S['query']>;
  headers: Out<S['headers']>;
  body: Out<S['body']>;
}

export interface Route<D> extends RouteSpec {
  handle(deps: D, input: RouteInput<RouteSpec>, req: Request, res: Response): Promise<void>;
}

/** A route with its handler, typed by its own schemas. */
export function route<D, const S extends RouteSpec>(
  spec: S,
  handle: (deps: D, input: RouteInput<S>, req: Request, res: Response) => Promise<void>,
): Route<D> {
  return { ...spec, handle: handle as Route<D>['handle'] };
}

/** `/v1/complaints/{caseId}` to Express's `/v1/complaints/:caseId`. */
export function expressPath(path: string): string {
  return path.replace(/\{(\w+)\}/g, ':$1');
}

export interface MountOptions {
  /** Verifies the bearer tokens of the routes with roles. */
  jwtSecret?: string;
  /** Handlers run first on each route (a rate limit). */
  before?: (r: RouteSpec) => RequestHandler[];
  /** Checks the client's API key of the routes with `access: 'apiKey'` (403 otherwise). */
  apiKey?: RequestHandler;
  /** The largest body (default 64 kB). */
  bodyLimit?: string;
  /** Replaces the bearer-token check of the routes with roles (the codec trusts the local development UI). */
  authenticate?: RequestHandler;
}

/**
 * Who may call, and the body. A bearer token and role are checked before the body is read; an API
 * key is in the body, so the body is read (and its media type checked) first.
 */
function accessAndBody(r: RouteSpec, options: MountOptions): RequestHandler[] {
  const type = r.requestType ?? 'application/json';
  const body = r.body ? [requireMediaType(type), ...bodyParser(type, options.bodyLimit ?? '64kb')] : [];
  if (r.access === 'public') return body;
  if (r.access === 'apiKey') {
    if (!options.apiKey) throw new Error(`${r.operationId}: an API-key route needs the table's apiKey check`);
    return [...body, options.apiKey];
  }
  if (!options.jwtSecret) throw new Error(`${r.operationId}: a route with roles needs the jwtSecret`);
  return [options.authenticate ?? authenticate(options.jwtSecret), requireRole(...r.access), ...body];
}

/**
 * Mount a table. Each route checks, in order: the token (401), the role (403, before the case is
 * looked up), the body's media type (415) and size (413), every input (400); the handler then
 * checks the scope (404) and the transition (409). A known path with another method answers 405
 * with `Allow`.
 */
export function mountRoutes<D>(router: Router, routes: readonly Route<D>[], deps: D, options: MountOptions): void {
  for (const r of routes) {
    const chain: RequestHandler[] = [...(options.before?.(r) ?? [])];
    chain.push(...accessAndBody(r, options));
    chain.push(validate({ params: r.params, query: r.query, headers: r.headers, body: r.body }));
    chain.push(async (req, res) => {
      const { params, query, headers, body } = res.locals;
      await r.handle(deps, { params, query, headers, body }, req, res);
    });
    router[r.method](expressPath(r.path), ...chain);
  }
  const methods = new Map<string, string[]>();
  for (const r of routes) methods.set(r.path, [...(methods.get(r.path) ?? []), r.method.toUpperCase()]);
  for (const [path, allowed] of methods) {
    const allow = allowed.includes('GET') ? [...allowed, 'HEAD'] : allowed;
    router.all(expressPath(path), (req, res, next) => {
      if (req.method !== 'OPTIONS') return next(methodNotAllowed(allow));
      res
        .set('Allow', [...allow, 'OPTIONS'].join(', '))
        .status(204)
        .end();
    });
  }
}
