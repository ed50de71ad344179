import { STATUS_CODES } from 'node:http';
import type { ErrorRequestHandler, Response } from 'express';
import { z, ZodError } from 'zod';
import {
  WorkflowExecutionAlreadyStartedError,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
  WorkflowUpdateRPCTimeoutOrCancelledError,
  isGrpcServiceError,
} from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { isDatabaseUnavailable } from '../db/pool';
import { INVALID_TRANSITION } from '../workflows/contracts/errors';

/**
 * RFC 9457 problem documents: one mapper turns every failure into `application/problem+json`
 * with the right status. Nothing leaks a stack trace, and bad input is never a 500.
 *
 * Statuses: 400 invalid input (with every zod issue: where, the field path, the message), 401 no
 * or bad token, 403 a role that may never take the action, 404 an unknown case or one outside
 * the principal's scope, 405 a known path with another method, 409 an impossible transition
 * (naming the current state) or conflict, 413 a body over the limit, 415 a body that is not JSON,
 * 422 a well-formed request the domain refuses, 429 over the rate limit, 503 Temporal or
 * PostgreSQL unavailable (with Retry-After).
 */

export class HttpProblem extends Error {
  constructor(
    readonly status: number,
    readonly title: string,
    readonly detail?: string,
    readonly extra: Record<string, unknown> = {},
    /** Response headers that belong to the problem (WWW-Authenticate, Allow, Retry-After). */
    readonly headers: Record<string, string> = {},
  ) {
    super(detail ?? title);
  }
}

/** The reason phrase of a status: the problem's title. */
export function titleOf(status: number): string {
  return STATUS_CODES[status] ?? 'Error';
}

export const notFound = (detail: string) => new HttpProblem(404, 'Not Found', detail);
export const forbidden = (detail: string) => new HttpProblem(403, 'Forbidden', detail);
export const unauthenticated = (detail: string, error?: 'invalid_token') =>
  new HttpProblem(
    401,
    'Unauthorized',
    detail,
    {},
    {
      'WWW-Authenticate': `Bearer realm="ecoloop"${error ? `, error="${error}"` : ''}`,
    },
  );
export const conflict = (detail: string, extra?: Record<string, unknown>) => new HttpProblem(409, 'Conflict', detail, extra);
export const methodNotAllowed = (allowed: string[]) =>
  new HttpProblem(405, titleOf(405), `Allowed methods: ${allowed.join(', ')}.`, {}, { Allow: allowed.join(', ') });
export const unsupportedMediaType = (detail: string) => new HttpProblem(415, titleOf(415), detail);
export const tooManyRequests = (detail: string) => new HttpProblem(429, titleOf(429), detail);

/** Where a request value was read from. */
export type InputLocation = 'body' | 'query' | 'params' | 'header';

/** One problem per invalid request, listing every zod issue with its location and field path. */
export function validationProblem(where: InputLocation | undefined, err: ZodError): HttpProblem {
  return new HttpProblem(400, 'Bad Request', 'The request is not valid.', {
    errors: err.issues.map((i) => ({
      ...(where && { in: where }),
      path: i.path.map(String).join('.'),
      message: i.message,
      code: i.code,
    })),
  });
}

/** The shape of every problem document, for the OpenAPI description. */
export const problemSchema = z.object({
  type: z.string(),
  title: z.string(),
  status: z.number().int(),
  detail: z.string().optional(),
  instance: z.string().optional(),
  errors: z
    .array(
      z.object({ in: z.enum(['body', 'query', 'params', 'header']).optional(), path: z.string(), message: z.string(), code: z.string() }),
    )
    .optional()
    .describe('400: every invalid field'),
  currentState: z.string().optional().describe("409: the case's (or campaign's) current state"),
  links: z.record(z.string(), z.string()).optional().describe('409: where the thing that already exists is'),
  retryAfter: z.number().optional().describe('503: seconds to wait before retrying'),
  reason: z
    .enum(['unknown_unit', 'inactive_unit', 'outside_division'])
    .optional()
    .describe('409/422 on accept or transfer: why the case may not go to that unit'),
});

export function sendProblem(res: Response, p: HttpProblem, instance?: string): void {
  res.set(p.headers);
  res
    .status(p.status)
    .type('application/problem+json')
    .json({
      // Extension members first: none of them may stand in for a member RFC 9457 defines.
      ...p.extra,
      type: `https://ecoloop.example/problems/${p.title.toLowerCase().replace(/[^a-z]+/g, '-')}`,
      title: p.title,
      status: p.status,
      ...(p.detail && { detail: p.detail }),
      ...(instance && { instance }),
    });
}

const GRPC_UNAVAILABLE = new Set([1 /* CANCELLED */, 4 /* DEADLINE_EXCEEDED */, 14 /* UNAVAILABLE */, 8 /* RESOURCE_EXHAUSTED */]);
const FAILED_PRECONDITION = 9;

/**
 * The server aborts an update it had not yet handed to the workflow when the workflow task fails
 * (a worker killed or restarting mid-task): FAILED_PRECONDITION, "workflow is not ready". Nothing was
 * applied, and a retry (with the same Idempotency-Key) is safe: a 503, not a 500.
 */
function isWorkflowNotReady(err: { code: number; details?: string; message?: string }): boolean {
  return err.code === FAILED_PRECONDITION && /not ready/i.test(`${err.details ?? ''} ${err.message ?? ''}`);
}

function isTemporalUnavailable(err: unknown): boolean {
  if (err instanceof WorkflowUpdateRPCTimeoutOrCancelledError) return true;
  if (isGrpcServiceError(err)) return GRPC_UNAVAILABLE.has(err.code) || isWorkflowNotReady(err);
  if (err instanceof Error && err.cause) return isTemporalUnavailable(err.cause);
  return err instanceof Error && /(UNAVAILABLE|DEADLINE_EXCEEDED|Failed to connect|TransportError|tcp connect error)/i.test(err.message);
}

/**
 * Errors of the HTTP layer (body-parser, the router's parameter decoding, http-errors) carry a
 * 4xx `status`; their own message is shown only when they mark it safe (`expose`).
 */
const HTTP_LAYER_DETAILS: Record<string, [number, string]> = {
  'entity.too.large': [413, 'The request body is too large.'],
  'entity.parse.failed': [400, 'The request body is not valid JSON.'],
  'encoding.unsupported': [415, 'The content encoding of the request body is not supported.'],
  'charset.unsupported': [415, 'The charset of the request body is not supported; send UTF-8.'],
  'request.aborted': [400, 'The request body was not received in full.'],
  'request.size.invalid': [400, 'The request body does not match its Content-Length.'],
  'parameters.too.many': [413, 'The request has too many parameters.'],
};

function httpLayerProblem(err: unknown): HttpProblem | undefined {
  const e = err as { type?: string; status?: number; statusCode?: number; expose?: boolean; message?: string };
  if (typeof e !== 'object' || e === null) return undefined;
  const known = e.type ? HTTP_LAYER_DETAILS[e.type] : undefined;
  if (known) return new HttpProblem(known[0], titleOf(known[0]), known[1]);
  if (err instanceof URIError) return new HttpProblem(400, 'Bad Request', 'The request path is not valid percent-encoding.');
  const status = e.status ?? e.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    return new HttpProblem(status, titleOf(status), e.expose && e.message ? e.message : undefined);
  }
  return undefined;
}

/** Map any error to a problem document. */
export function toProblem(err: unknown): HttpProblem {
  if (err instanceof HttpProblem) return err;
  if (err instanceof ZodError) return validationProblem(undefined, err);
  if (err instanceof WorkflowUpdateFailedError && err.cause instanceof ApplicationFailure) {
    const failure = err.cause;
    if (failure.type === INVALID_TRANSITION) {
      const details = (failure.details?.[0] ?? {}) as { status?: string };
      return conflict(failure.message, { currentState: details.status });
    }
    return new HttpProblem(422, 'Unprocessable Content', failure.message);
  }
  if (err instanceof WorkflowNotFoundError) return notFound('No such case is running.');
  if (err instanceof WorkflowExecutionAlreadyStartedError) return conflict('The case already exists.');
  const httpLayer = httpLayerProblem(err);
  if (httpLayer) return httpLayer;
  if (isDatabaseUnavailable(err)) {
    return new HttpProblem(503, 'Service Unavailable', 'The database is unavailable; nothing was changed. Retry later.', {
      retryAfter: 5,
    });
  }
  if (isTemporalUnavailable(err)) {
    return new HttpProblem(
      503,
      'Service Unavailable',
      'The workflow service did not answer. Retry later; with an Idempotency-Key, a retried request is never applied twice.',
      { retryAfter: 5 },
    );
  }
  return new HttpProblem(500, 'Internal Server Error', 'An unexpected error occurred.');
}

/**
 * The error handler: every failure as a problem document. `onUnexpected` hears of each 500 (a bug:
 * log it with its stack); `onUnavailable`, of each 503 (Temporal or PostgreSQL away: expected in an
 * outage, worth a line, not a stack).
 */
export function problemHandler(onUnexpected: (err: unknown) => void, onUnavailable?: (err: unknown) => void): ErrorRequestHandler {
  return (err, req, res, _next) => {
    const problem = toProblem(err);
    if (problem.status === 503) onUnavailable?.(err);
    else if (problem.status >= 500) onUnexpected(err);
    if (problem.status === 503) res.setHeader('Retry-After', '5');
    if (res.headersSent) {
      res.destroy();
      return;
    }
    // The path only: a query string may carry what should not be echoed (an api_key, a token).
    sendProblem(res, problem, req.originalUrl.split('?')[0]);
  };
}
