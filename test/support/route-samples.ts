import type { Express } from 'express';
import { expressPath, type RouteSpec } from '../../api/validate';

/**
 * What the tests that run over every route table need: a path of each route with a valid value in
 * each parameter, and the routes Express really serves (to find one served outside the tables).
 */

/** Values tried in order for a path parameter; the first its schema accepts is used. */
const candidates = [
  'EC-2026-0000001',
  'backlog-scan-manual-2026-03-02',
  '2026-03-02',
  '2026-Q1',
  'monthly-2026-03',
  'W-M-EC-2026-0000001',
  'CP-0123456789ab',
  '1',
];
/** `unitId`: a unit every test database has (test/support/units.ts). */
const byName: Record<string, string> = { format: 'json', code: 'noise', token: '0'.repeat(32), unitId: 'unit-a' };

/** A value of a path parameter, valid by its schema; `given` first (a case of the test's own). */
export function sampleParam(r: RouteSpec, name: string, given: Record<string, string> = {}): string {
  const schema = r.params?.shape[name] as { safeParse(v: unknown): { success: boolean } } | undefined;
  const value = [given[name], byName[name], ...candidates].find((v) => v !== undefined && (!schema || schema.safeParse(v).success));
  if (value === undefined) throw new Error(`no sample for {${name}} of ${r.operationId}`);
  return value;
}

/** The names of a route's path parameters, in order. */
export function pathParams(r: RouteSpec): string[] {
  return [...r.path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]);
}

/** The route's path with each parameter's encoded `segments` value, or a valid sample. */
export function fillPath(r: RouteSpec, segments: Record<string, string>): string {
  return r.path.replace(/\{(\w+)\}/g, (_m, name: string) => segments[name]);
}

/** The route's path with a valid value in each parameter. */
export function samplePath(r: RouteSpec, given: Record<string, string> = {}): string {
  return fillPath(r, Object.fromEntries(pathParams(r).map((name) => [name, encodeURIComponent(sampleParam(r, name, given))])));
}

interface Layer {
  route?: { path: string; methods: Record<string, boolean> };
  handle?: { stack?: Layer[] };
}

/** `get /v1/reports/:reportId` for every route Express serves, routers mounted at the root included. */
export function servedRoutes(app: Express): string[] {
  const walk = (stack: Layer[]): string[] =>
    stack.flatMap((layer) => {
      if (layer.route) {
        return Object.keys(layer.route.methods)
          .filter((m) => m !== '_all') // the 405 and OPTIONS answer of a known path
          .map((m) => `${m} ${layer.route!.path}`);
      }
      return layer.handle?.stack ? walk(layer.handle.stack) : [];
    });
  return walk((app as unknown as { router: { stack: Layer[] } }).router.stack).sort();
}

/** `get /v1/reports/:reportId`, as Express spells the route of a table. */
export function servedAs(r: RouteSpec): string {
  return `${r.method} ${expressPath(r.path)}`;
}
