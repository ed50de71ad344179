import type { ErrorRequestHandler, Response } from 'express';
import { ZodError } from 'zod';
import {
  WorkflowExecutionAlreadyStartedError,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
  isGrpcServiceError,
} from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { isDatabaseUnavailable } from '../db/pool';
import { INVALID_TRANSITION } from '../workflows/complaint';

/**
 * RFC 9457 problem documents: one mapper turns every failure into `application/problem+json`
 * with the right status. Nothing leaks a stack trace.
 */

export class HttpProblem extends Error {
  constructor(
    readonly status: number,
    readonly title: string,
    readonly detail?: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(detail ?? title);
  }
}

export const notFound = (detail: string) => new HttpProblem(404, 'Not Found', detail);
export const forbidden = (detail: string) => new HttpProblem(403, 'Forbidden', detail);
export const unauthenticated = (detail: string) => new HttpProblem(401, 'Unauthorized', detail);
export const conflict = (detail: string, extra?: Record<string, unknown>) => new HttpProblem(409, 'Conflict', detail, extra);

export function sendProblem(res: Response, p: HttpProblem, instance?: string): void {
  res
    .status(p.status)
    .type('application/problem+json')
    .json({
      type: `https://ecoloop.example/problems/${p.title.toLowerCase().replace(/[^a-z]+/g, '-')}`,
      title: p.title,
      status: p.status,
      ...(p.detail && { detail: p.detail }),
      ...(instance && { instance }),
      ...p.extra,
    });
}

const GRPC_UNAVAILABLE = new Set([4 /* DEADLINE_EXCEEDED */, 14 /* UNAVAILABLE */, 8 /* RESOURCE_EXHAUSTED */]);

function isTemporalUnavailable(err: unknown): boolean {
  if (isGrpcServiceError(err)) return GRPC_UNAVAILABLE.has(err.code);
  if (err instanceof Error && err.cause) return isTemporalUnavailable(err.cause);
  return err instanceof Error && /(UNAVAILABLE|DEADLINE_EXCEEDED|Failed to connect|TransportError|tcp connect error)/i.test(err.message);
}

/** Map any error to a problem document. */
export function toProblem(err: unknown): HttpProblem {
  if (err instanceof HttpProblem) return err;
  if (err instanceof ZodError) {
    return new HttpProblem(400, 'Bad Request', 'The request is not valid.', {
      errors: err.issues.map((i) => ({ path: i.path.map(String).join('.'), message: i.message, code: i.code })),
    });
  }
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
  const e = err as { type?: string; status?: number; expose?: boolean; message?: string };
  if (e?.type === 'entity.too.large') return new HttpProblem(413, 'Content Too Large', 'The request body is too large.');
  if (e?.type === 'entity.parse.failed') return new HttpProblem(400, 'Bad Request', 'The request body is not valid JSON.');
  if (e?.expose && typeof e.status === 'number' && e.status >= 400 && e.status < 500) {
    return new HttpProblem(e.status, 'Bad Request', e.message);
  }
  if (isDatabaseUnavailable(err)) {
    return new HttpProblem(503, 'Service Unavailable', 'The database is unavailable; nothing was changed. Retry later.', {
      retryAfter: 5,
    });
  }
  if (isTemporalUnavailable(err)) {
    return new HttpProblem(503, 'Service Unavailable', 'The workflow service is unavailable; nothing was lost. Retry later.', {
      retryAfter: 5,
    });
  }
  return new HttpProblem(500, 'Internal Server Error', 'An unexpected error occurred.');
}

export function problemHandler(onUnexpected: (err: unknown) => void): ErrorRequestHandler {
  return (err, req, res, _next) => {
    const problem = toProblem(err);
    if (problem.status >= 500) onUnexpected(err);
    if (problem.status === 503) res.setHeader('Retry-After', '5');
    sendProblem(res, problem, req.originalUrl);
  };
}
