import type { Request, RequestHandler } from 'express';
import * as OpenApiValidator from 'express-openapi-validator';
import { openApiDocument } from '../../api/openapi';
import { allRoutes } from '../../api/routes';
import { recordViolation, violationsDirectory, type ResponseViolation } from './response-violations';

/**
 * The API document is the contract: while the test suite runs, every JSON answer of the in-process
 * API (every status below 500, problem documents and Open311 error lists included) is validated
 * against the OpenAPI document the API serves at /openapi.json, by express-openapi-validator's
 * response validation (Ajv, JSON Schema 2020-12 for OpenAPI 3.1).
 *
 * A mismatch does not change the answer: it is recorded as a violation, printed, and
 * - fails the test during which it happened (test/support/response-validation-hooks.ts, an
 *   `afterEach`/`afterAll` of every test file), whether or not the test looked at the answer;
 * - is appended to a file of the run (`ECOLOOP_TEST_RESPONSE_VALIDATION`, set by the global
 *   setup), which the global teardown reads to fail the whole run.
 *
 * Answers that are not JSON (CSV, HTML, XML, Prometheus text) are documented as strings and not
 * checked here; 5xx answers are not checked either.
 */

type OpenApiDocument = Record<string, unknown>;

/**
 * The response-validation middleware for `document`; each mismatch goes to `onViolation`.
 *
 * One validator per path of the document, each given the document with that path alone: the
 * validator compiles each answer's schema with the whole `paths` of its document attached (Ajv
 * walks all of it per schema), which over the full document took a minute per test file. A request
 * is validated by the one whose path matches it; the others let it pass. The document as a whole
 * is checked against the OpenAPI 3.1 schema by test/openapi.test.ts.
 */
export function responseValidation(document: OpenApiDocument, onViolation: (v: ResponseViolation) => void): RequestHandler[] {
  const { paths, ...rest } = document as OpenApiDocument & { paths: Record<string, unknown> };
  const validators = Object.entries(paths).map(([path, item]) => ({
    ...pathTemplate(path),
    handlers: pathValidation({ ...rest, paths: { [path]: item } }, onViolation).map(answeredByTheApp),
  }));
  const validate: RequestHandler = (req, res, next) => {
    const pathname = new URL(req.originalUrl, 'http://localhost').pathname;
    // As OpenAPI says: a concrete path before a templated one that also matches
    // (/v1/governance/rewards/ledger is not /v1/governance/rewards/{caseId}).
    const best = validators.filter((v) => v.pattern.test(pathname)).sort((a, b) => b.literals - a.literals)[0];
    if (!best) return next();
    let i = 0;
    const step = (err?: unknown): void => {
      if (err !== undefined) return next(err);
      const handler = best.handlers[i++];
      if (!handler) return next();
      void handler(req, res, step);
    };
    step();
  };
  return [Object.defineProperty(validate, 'name', { value: 'responseValidation' })];
}

/** A document path as a pattern of request paths, and how many of its segments are literal. */
function pathTemplate(path: string): { pattern: RegExp; literals: number } {
  const segments = path.split('/');
  const pattern = segments.map((s) => (/^\{[^}]+\}$/.test(s) ? '[^/]+' : s.replace(/[.*+?^$()|[\]\\]/g, '\\$&'))).join('/');
  return { pattern: new RegExp(`^${pattern}$`), literals: segments.filter((s) => !s.startsWith('{')).length };
}

function pathValidation(document: OpenApiDocument, onViolation: (v: ResponseViolation) => void): RequestHandler[] {
  return OpenApiValidator.middleware({
    // The validator rewrites the schemas it is given: it gets a copy of its own.
    apiSpec: structuredClone(document) as never,
    validateApiSpec: false,
    // Requests are the route tables' business (zod); this hook checks answers only.
    validateRequests: false,
    validateSecurity: false,
    fileUploader: false,
    // Other paths and methods (a 404 or 405 test, /docs) are answered by the app, not by the hook.
    ignoreUndocumented: true,
    validateResponses: {
      // Every mismatch of an answer, not only the first.
      allErrors: true,
      onError(err, _body, req: Request) {
        const openapi = (req as Request & { openapi?: { openApiRoute?: string } }).openapi;
        onViolation({
          method: req.method,
          url: req.originalUrl,
          route: openapi?.openApiRoute ?? '?',
          status: req.res?.statusCode ?? 0,
          message: err.message,
          errors: (err.errors ?? []).map((e) => ({ path: e.path, message: e.message })),
        });
      },
    },
  });
}

/**
 * The hook never answers in the app's place: a request the validator refuses while looking up its
 * operation (a malformed percent-encoding in the path: its 400) goes on to the app unvalidated.
 * Its other failures (a document it cannot load) still reach the app's error handler, a loud 500.
 */
function answeredByTheApp(handler: RequestHandler): RequestHandler {
  const passOn: RequestHandler = (req, res, next) =>
    handler(req, res, (err?: unknown) => {
      const status = (err as { status?: unknown } | undefined)?.status;
      next(typeof status === 'number' && status < 500 ? undefined : err);
    });
  return Object.defineProperty(passOn, 'name', { value: `responseValidation:${handler.name}` });
}

let suiteHook: RequestHandler[] | undefined;

/**
 * The hook of the test suite: the document the app serves (every route table), violations
 * recorded for the test and the run. Undefined when the run did not ask for it (a benchmark).
 */
export function suiteResponseValidation(): RequestHandler[] | undefined {
  if (!violationsDirectory()) return undefined;
  return (suiteHook ??= responseValidation(openApiDocument(allRoutes()), recordViolation));
}
