import type { Response } from 'express';

/**
 * `202 Accepted` for an operation that runs a whole workflow (a report on demand, a backlog sweep):
 * the work was started, and `Location` names where to poll for its outcome.
 */
export function accepted(res: Response, location: string, body: Record<string, unknown> & { links?: Record<string, string> }): void {
  res
    .status(202)
    .location(location)
    .json({ ...body, links: { ...body.links, status: location } });
}
