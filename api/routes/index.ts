import type { Router } from 'express';
import type { ApiLimits, AppDeps } from '../app';
import type { ApiMetrics } from '../metrics';
import { openApiRouteTable, openApiRoutes } from '../openapi';
import type { TemporalGateway } from '../temporal-gateway';
import type { RouteSpec } from '../validate';
import { caseNumberRouteTable, caseNumberRoutes } from './case-numbers';
import { codecRouteTable, codecRoutes } from './codec';
import { complaintRouteTable, complaintRoutes } from './complaints';
import { backlogRouteTable, backlogRoutes } from './backlog';
import { campaignRouteTable, campaignRoutes } from './campaigns';
import { healthRouteTable, healthRoutes } from './health';
import { metricsRouteTable, metricsRoutes } from './metrics';
import { open311RouteTable, open311Routes } from './open311';
import { publicRouteTable, publicRoutes } from './public';
import { queueRouteTable, queueRoutes } from './queues';
import { reportRouteTable, reportRoutes } from './reports';
import { rewardRouteTable, rewardRoutes } from './rewards';
import { supervisionRouteTable, supervisionRoutes } from './supervision';
import { unitRouteTable, unitRoutes } from './units';
import { warningRouteTable, warningRoutes } from './warnings';

/**
 * Every route table of the API, in the order the app mounts them. api/app.ts mounts each table's
 * router, /openapi.json describes every route of every table, and the authorization and fuzz tests
 * run over all of them: a route served outside this list is a defect (test/openapi.test.ts finds it).
 */

/** What the tables' routers are built from: the app's dependencies, its limits and the one Temporal gateway. */
export interface RouteDeps extends AppDeps {
  limits: ApiLimits;
  temporal: TemporalGateway;
  metrics: ApiMetrics;
}

export interface RouteTable {
  name: string;
  routes: readonly RouteSpec[];
  /** The table's router: its routes, and whatever it needs around them (a rate limit, CORS, its own error format). */
  router(deps: RouteDeps): Router;
}

export const routeTables: readonly RouteTable[] = [
  { name: 'health', routes: healthRouteTable, router: (d) => healthRoutes(d) },
  { name: 'metrics', routes: metricsRouteTable, router: (d) => metricsRoutes(d) }, // a scraper's METRICS_TOKEN, no role
  {
    name: 'codec',
    routes: codecRouteTable,
    // The codec decodes with the payload ring only: the reporter ring is left out (docs/privacy.md).
    router: ({ reporterKeys: _withheld, ...d }) => codecRoutes({ ...d, namespace: d.client.options.namespace }),
  },
  { name: 'open311', routes: open311RouteTable, router: (d) => open311Routes(d) },
  {
    name: 'complaints',
    routes: complaintRouteTable,
    router: (d) => complaintRoutes(d), // tokens checked per route
  },
  { name: 'case-numbers', routes: caseNumberRouteTable, router: (d) => caseNumberRoutes(d) },
  {
    name: 'public',
    routes: publicRouteTable,
    router: (d) => publicRoutes({ ...d, rateLimitPerMinute: d.limits.publicRateLimitPerMinute }),
  },
  { name: 'queues', routes: queueRouteTable, router: (d) => queueRoutes(d) },
  { name: 'rewards', routes: rewardRouteTable, router: (d) => rewardRoutes(d) },
  { name: 'backlog', routes: backlogRouteTable, router: (d) => backlogRoutes(d) },
  { name: 'campaigns', routes: campaignRouteTable, router: (d) => campaignRoutes(d) },
  { name: 'supervision', routes: supervisionRouteTable, router: (d) => supervisionRoutes(d) },
  { name: 'reports', routes: reportRouteTable, router: (d) => reportRoutes(d) },
  { name: 'warnings', routes: warningRouteTable, router: (d) => warningRoutes(d) },
  { name: 'units', routes: unitRouteTable, router: (d) => unitRoutes(d) },
  { name: 'openapi', routes: openApiRouteTable, router: () => openApiRoutes(allRoutes()) },
];

/** Every route of every table. */
export function allRoutes(): RouteSpec[] {
  return routeTables.flatMap((t) => t.routes);
}
