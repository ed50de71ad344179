import { isUtf8 } from 'node:buffer';
import express, { type Request, type RequestHandler, type Response, type Router } from 'express';
import { z } from 'zod';
import { authenticate, requireRole, type PrincipalRole } from './auth';
import type { PrincipalCheck } from './unit-directory';
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
 * A JSON body in UTF-8 must be UTF-8 (415 otherwise): bytes that are not would be read as U+FFFD
 * and stored as such.
 */
function verifyJsonUtf8(_req: unknown, _res: unknown, body: Buffer, encoding: string | null): void {
  if ((encoding ?? 'utf-8').toLowerCase() === 'utf-8' && !isUtf8(body)) {
    throw unsupportedMediaType('The request body is not valid UTF-8.');
  }
}

/** The bytes of a form's name or value: `+` a space, `%XX` a byte (a malformed escape stays as it is, as the parser reads it). */
function formBytes(part: string): Buffer {
  const bytes: number[] = [];
  for (let i = 0; i < part.length; i++) {
    const hex = part[i] === '%' ? part.slice(i + 1, i + 3) : '';
    if (/^[0-9a-fA-F]{2}$/.test(hex)) {
      bytes.push(parseInt(hex, 16));
      i += 2;
    } else bytes.push(part[i] === '+' ? 0x20 : part.charCodeAt(i));
  }
  return Buffer.from(bytes);
}

/**
 * Every name and value of a form, once percent-decoded, must be UTF-8 (400 naming the field
 * otherwise), for the same reason. Forms in another declared charset are read as they are.
 */
function verifyFormUtf8(_req: unknown, _res: unknown, body: Buffer, encoding: string | null): void {
  if ((encoding ?? 'utf-8').toLowerCase() !== 'utf-8') return;
  const invalid = (field: string, message: string) =>
    new HttpProblem(400, 'Bad Request', 'The request is not valid.', {
      errors: [{ in: 'body', path: field, message, code: 'invalid_encoding' }],
    });
  if (!isUtf8(body)) throw invalid('', 'the form is not UTF-8');
  for (const pair of body.toString('latin1').split('&')) {
    const at = pair.indexOf('=');
    const [name, value] = (at < 0 ? [pair, ''] : [pair.slice(0, at), pair.slice(at + 1)]).map(formBytes);
    const field = isUtf8(name) ? name.toString('utf8').slice(0, 100) : '';
    if (!isUtf8(name) || !isUtf8(value)) throw invalid(field, 'not UTF-8 text (a percent-encoded byte sequence that is not UTF-8)');
  }
}

/**
 * The body parser of a route: JSON (strict), or an HTML form, each at most `limit`, where an empty
 * field is a field not given (clients send empty fields for what they do not have). Either must be
 * UTF-8.
 */
function bodyParser(type: RequestType, limit: string): RequestHandler[] {
  if (type === 'application/json') return [express.json({ limit, strict: true, verify: verifyJsonUtf8 })];
  const dropEmpty: RequestHandler = (req, _res, next) => {
    if (req.body && typeof req.body === 'object') {
      for (const [key, value] of Object.entries(req.body as Record<string, unknown>)) {
        if (value === '') delete (req.body as Record<string, unknown>)[key];
      }
    }
    next();
  };
  return [express.urlencoded({ extended: false, limit, parameterLimit: 100, verify: verifyFormUtf8 }), dropEmpty];
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
  return [options.authenticate ?? authenticate(options.jwtSecret), requireRole(...r.access), checkPrincipal, ...body];
}

/**
 * The app's check of a verified principal against the directories (a unit token naming no active
 * unit: 403), when the app has one (`app.locals.principalCheck`, set in api/app.ts).
 */
const checkPrincipal: RequestHandler = (req, _res, next) => {
  const check = req.app.locals.principalCheck as PrincipalCheck | undefined;
  if (!check || !req.principal) return next();
  check(req.principal).then((problem) => next(problem), next);
};

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
