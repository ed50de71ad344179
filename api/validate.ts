import type { Request, RequestHandler, Response, Router } from 'express';
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

/** 415 for a body that is not `application/json` on a JSON route. An empty body is `{}`. */
export const requireJson: RequestHandler = (req, _res, next) => {
  if (!hasBody(req) || req.is('application/json')) return next();
  next(unsupportedMediaType('The request body must be application/json.'));
};

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
  /** The roles that may call it (a bearer token is required), or 'public' (no token). */
  access: readonly PrincipalRole[] | 'public';
  /**
   * The case in the path must be in the principal's scope (a unit: its own cases; a supervisor:
   * the divisions it covers), or the answer is 404, as if the case did not exist.
   */
  caseScoped?: boolean;
  params?: z.ZodObject;
  query?: z.ZodObject;
  /** Headers the route reads (lower-case names); other headers pass. */
  headers?: z.ZodObject;
  /** A JSON body: `application/json` is required when a body is sent (415 otherwise). */
  body?: z.ZodType;
  response: { status: number; description: string; schema: z.ZodType };
  /** Statuses of the problem documents it may answer (500 aside). */
  problems: readonly number[];
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

/**
 * Mount a table. Each route checks, in order: the token (401), the role (403, before the case is
 * looked up), a JSON content type (415), every input (400); the handler then checks the scope
 * (404) and the transition (409). A known path with another method answers 405 with `Allow`.
 */
export function mountRoutes<D>(
  router: Router,
  routes: readonly Route<D>[],
  deps: D,
  options: { jwtSecret: string; before?: (r: RouteSpec) => RequestHandler[] },
): void {
  for (const r of routes) {
    const chain: RequestHandler[] = [...(options.before?.(r) ?? [])];
    if (r.access !== 'public') chain.push(authenticate(options.jwtSecret), requireRole(...r.access));
    if (r.body) chain.push(requireJson);
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
      res.set('Allow', [...allow, 'OPTIONS'].join(', ')).status(204).end();
    });
  }
}
