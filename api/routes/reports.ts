import { Router, type Request } from 'express';
import { z } from 'zod';
import type { Client } from '@temporalio/client';
import type { Pool } from 'pg';
import { ratesFor } from '../../db/rates';
import { getReport, listReports } from '../../db/reports';
import type { Policy } from '../../domain/policy';
import { parsePeriod, periodKinds, reportIdFor } from '../../domain/report';
import { reportWorkflow } from '../../workflows/monthly-report';
import { authenticate, requireRole, type PrincipalRole } from '../auth';
import { HttpProblem, notFound } from '../problem';
import { renderReportCsv } from '../report-csv';
import { renderReportHtml } from '../report-html';
import { validate } from '../validate';

/**
 * `/v1/reports`: the stored monthly and quarterly reports as JSON, CSV or an HTML page with charts;
 * generating one on demand (the same workflow the Schedules run); and the four rates for any period,
 * per city, county, unit or category. For analysts, supervisors and administrators; not for units.
 */

export interface ReportRoutesDeps {
  client: Client;
  pool: Pool;
  policy: () => Policy;
  taskQueue: string;
  jwtSecret: string;
}

const readers: readonly PrincipalRole[] = ['analyst', 'supervisor'];

const reportIdParams = z.strictObject({
  reportId: z.string().regex(/^(monthly-\d{4}-(0[1-9]|1[0-2])|quarterly-\d{4}-Q[1-4])$/, 'a report id like monthly-2026-03 or quarterly-2026-Q1'),
});
const formatQuery = z.strictObject({ format: z.enum(['json', 'csv', 'html']).optional() });
const listQuery = z.strictObject({
  kind: z.enum(periodKinds).optional(),
  page: z.coerce.number().int().min(1).max(100_000).default(1),
  pageSize: z.coerce.number().int().min(1).max(200).default(50),
});
const generateBody = z.strictObject({
  kind: z.enum(periodKinds),
  /** "2026-03" (monthly) or "2026-Q1" (quarterly). */
  period: z.string().min(7).max(7),
});
const ratesQuery = z
  .strictObject({
    from: z.iso.datetime({ offset: true }),
    to: z.iso.datetime({ offset: true }),
    by: z.enum(['overall', 'city', 'county', 'unit', 'category']).default('overall'),
  })
  .refine((q) => Date.parse(q.from) < Date.parse(q.to), { path: ['to'], message: "must be after 'from'" });

/** The representation asked for: `?format=`, else the Accept header, else JSON. */
function formatOf(req: Request, asked: 'json' | 'csv' | 'html' | undefined): 'json' | 'csv' | 'html' {
  if (asked) return asked;
  const best = req.accepts(['application/json', 'text/csv', 'text/html']);
  return best === 'text/csv' ? 'csv' : best === 'text/html' ? 'html' : 'json';
}

export function reportRoutes(deps: ReportRoutesDeps): Router {
  const router = Router();
  router.use(authenticate(deps.jwtSecret), requireRole(...readers));

  router.get('/', validate({ query: listQuery }), async (_req, res) => {
    const q = res.locals.query as z.infer<typeof listQuery>;
    const page = await listReports(deps.pool, { kind: q.kind, limit: q.pageSize, offset: (q.page - 1) * q.pageSize });
    res.json({
      page: q.page,
      pageSize: q.pageSize,
      total: page.total,
      items: page.items.map((r) => ({
        ...r,
        links: { json: `/v1/reports/${r.id}`, csv: `/v1/reports/${r.id}?format=csv`, html: `/v1/reports/${r.id}?format=html` },
      })),
    });
  });

  router.post('/', validate({ body: generateBody }), async (_req, res) => {
    const body = res.locals.body as z.infer<typeof generateBody>;
    const period = parsePeriod(body.kind, body.period, deps.policy().calendar.utcOffsetMinutes);
    if (!period) {
      throw new HttpProblem(400, 'Bad Request', 'The request is not valid.', {
        errors: [{ in: 'body', path: 'period', message: body.kind === 'monthly' ? 'a month like 2026-03' : 'a quarter like 2026-Q1' }],
      });
    }
    const id = reportIdFor(period);
    // One run per period at a time: a second request joins the running one.
    const generated = await deps.client.workflow.execute(reportWorkflow, {
      taskQueue: deps.taskQueue,
      workflowId: `report-${id}`,
      args: [{ kind: period.kind, period: period.label }],
      workflowIdConflictPolicy: 'USE_EXISTING',
    });
    res.status(201).location(`/v1/reports/${generated.reportId}`).json({ ...generated, links: { self: `/v1/reports/${generated.reportId}` } });
  });

  router.get('/rates', validate({ query: ratesQuery }), async (_req, res) => {
    const q = res.locals.query as z.infer<typeof ratesQuery>;
    const result = await ratesFor(deps.pool, { from: Date.parse(q.from), to: Date.parse(q.to), by: q.by === 'overall' ? 'city' : q.by });
    res.json({ from: q.from, to: q.to, by: q.by, overall: result.overall, ...(q.by !== 'overall' && { rows: result.rows }) });
  });

  router.get('/:reportId', validate({ params: reportIdParams, query: formatQuery }), async (req, res) => {
    const { reportId } = res.locals.params as z.infer<typeof reportIdParams>;
    const { format } = res.locals.query as z.infer<typeof formatQuery>;
    const report = await getReport(deps.pool, reportId);
    if (!report) throw notFound(`No report ${reportId}. Generate it with POST /v1/reports.`);
    switch (formatOf(req, format)) {
      case 'csv':
        res.type('text/csv; charset=utf-8').attachment(`${reportId}.csv`).send(renderReportCsv(report));
        return;
      case 'html':
        res.type('text/html; charset=utf-8').send(renderReportHtml(report));
        return;
      default:
        res.json(report);
    }
  });

  return router;
}
