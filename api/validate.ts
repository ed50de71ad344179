import type { RequestHandler } from 'express';
import type { z } from 'zod';

/**
 * zod at the edge: the parsed value replaces the raw one, so handlers never re-parse.
 * `res.locals.body`, `res.locals.query`, `res.locals.params` hold the parsed values.
 */
export function validate<B extends z.ZodType, Q extends z.ZodType, P extends z.ZodType>(schemas: {
  body?: B;
  query?: Q;
  params?: P;
}): RequestHandler {
  return (req, res, next) => {
    try {
      if (schemas.params) res.locals.params = schemas.params.parse(req.params);
      if (schemas.query) res.locals.query = schemas.query.parse(req.query);
      if (schemas.body) res.locals.body = schemas.body.parse(req.body ?? {});
      next();
    } catch (err) {
      next(err);
    }
  };
}
