import { Router, type Request } from 'express';
import { z } from 'zod';
import type { Pool } from 'pg';
import { ratesFor } from '../../db/rates';
import { getReport, listReports } from '../../db/reports';
import type { Policy } from '../../domain/policy';
import { rateNames } from '../../domain/rates';
import { parsePeriod, periodKinds, reportIdFor } from '../../domain/report';
import { REPORT_WORKFLOW, reportWorkflowIdFor, type GeneratedReport, type ReportWorkflow } from '../../workflows/contracts/monthly-report';
import type { PrincipalRole } from '../auth';
import { commonProblems, instantField, isoTime, noQuery, pageAnswer, pageFields, pageSchema, pageWindow } from '../fields';
import { HttpProblem, notFound } from '../problem';
import { renderReportCsv } from '../report-csv';
import { renderReportHtml } from '../report-html';
import { accepted } from '../respond';
import type { TemporalGateway } from '../temporal-gateway';
import { mountRoutes, route, type Route } from '../validate';
import { reportSummary } from '../../domain/workflow-summaries';

/**
 * `/v1/reports`: the stored monthly and quarterly reports as JSON, CSV or an HTML page with charts;
 * generating one on demand (the same workflow the Schedules run: 202 Accepted, then poll its
 * generation); and the four rates for any period, per city, county, unit or category. For analysts
 * and supervisors; not for units. One table, mounted by the router and described in the OpenAPI document.
 */

export interface ReportRoutesDeps {
  pool: Pool;
  policy: () => Policy;
  temporal: TemporalGateway;
  jwtSecret: string;
}

const readers: readonly PrincipalRole[] = ['analyst', 'supervisor'];
const TAG = 'reports';

// ---- Inputs ----

const reportIdParams = z.strictObject({
  reportId: z
    .string()
    .regex(/^(monthly-\d{4}-(0[1-9]|1[0-2])|quarterly-\d{4}-Q[1-4])$/, 'a report id like monthly-2026-03 or quarterly-2026-Q1'),
});
const reportFormats = ['json', 'csv', 'html'] as const;
type ReportFormat = (typeof reportFormats)[number];
const formatQuery = z.strictObject({
  format: z.enum(reportFormats).optional().describe('json, csv or html; unset: by the Accept header, else json'),
});
const listQuery = z.strictObject({ kind: z.enum(periodKinds).optional(), ...pageFields });
const generateBody = z.strictObject({
  kind: z.enum(periodKinds),
  /** "2026-03" (monthly) or "2026-Q1" (quarterly). */
  period: z.string().min(7).max(7).describe('2026-03 (monthly) or 2026-Q1 (quarterly)'),
});
const rateDimensions = ['overall', 'city', 'county', 'unit', 'category'] as const;
const ratesQuery = z
  .strictObject({ from: instantField, to: instantField, by: z.enum(rateDimensions).default('overall') })
  .refine((q) => Date.parse(q.from) < Date.parse(q.to), { path: ['to'], message: "must be after 'from'" });

// ---- Answers (for the OpenAPI document) ----

const rateSchema = z.object({ numerator: z.number().int(), denominator: z.number().int(), value: z.number().nullable() });
const rateSetFields = Object.fromEntries(rateNames.map((n) => [n, rateSchema]));
const rateRowSchema = z.object({ key: z.string(), name: z.string(), ...rateSetFields });
const reportLinks = z.object({ json: z.string(), csv: z.string(), html: z.string() });
const reportSummarySchema = z.object({
  id: z.string(),
  kind: z.enum(periodKinds),
  period: z.string(),
  from: isoTime,
  to: isoTime,
  generatedAt: isoTime,
  received: z.number().int(),
  links: reportLinks,
});
const reportSchema = z
  .object({
    id: z.string(),
    kind: z.enum(periodKinds),
    period: z.object({
      label: z.string(),
      from: isoTime,
      to: isoTime,
      utcOffsetMinutes: z.number().int(),
      partial: z.boolean().describe('the period was still running when the report was built: its figures run to `through`'),
      through: isoTime.describe('the end of what the figures cover: `to`, or the build time of a partial period'),
    }),
    generatedAt: isoTime,
    policyVersion: z.string(),
    totals: z.object({ received: z.number().int() }).loose(),
    rates: z.object({ overall: z.object(rateSetFields) }).loose(),
  })
  .loose()
  .describe('The report document (domain/report.ts); as CSV, one row per figure; as HTML, a page with charts');
const generationStatuses = ['running', 'completed', 'failed', 'canceled', 'terminated', 'timed_out'] as const;
const generationSchema = z.object({
  reportId: z.string(),
  workflowId: z.string(),
  status: z.enum(generationStatuses),
  period: z.string().optional().describe('completed: the period reported on'),
  received: z.number().int().optional().describe('completed: complaints received in the period'),
  links: z.object({ status: z.string(), report: z.string() }),
});

// ---- Helpers ----

/** The representation asked for: `?format=`, else the Accept header, else JSON. */
function formatOf(req: Request, asked: ReportFormat | undefined): ReportFormat {
  if (asked) return asked;
  const best = req.accepts(['application/json', 'text/csv', 'text/html']);
  return best === 'text/csv' ? 'csv' : best === 'text/html' ? 'html' : 'json';
}

const generationPath = (reportId: string) => `/v1/reports/${reportId}/generation`;

/** The poll's answer: where the generation of a report stands, and what it generated once done. */
async function generationOf(temporal: TemporalGateway, reportId: string) {
  const workflowId = reportWorkflowIdFor(reportId);
  const { status, result: generated } = await temporal.outcome<GeneratedReport>(workflowId, `generation of report ${reportId}`);
  return {
    reportId,
    workflowId,
    status,
    ...(generated && { period: generated.period, received: generated.received }),
    links: { status: generationPath(reportId), report: `/v1/reports/${reportId}` },
  };
}

// ---- The table ----

export const reportRouteTable: Route<ReportRoutesDeps>[] = [
  route(
    {
      operationId: 'listReports',
      method: 'get',
      path: '/v1/reports',
      summary: 'The stored reports, newest period first',
      tag: TAG,
      access: readers,
      query: listQuery,
      response: {
        status: 200,
        description: 'A page of reports',
        schema: pageSchema(reportSummarySchema),
      },
      problems: commonProblems,
    },
    async (deps, { query: q }, _req, res) => {
      const page = await listReports(deps.pool, { kind: q.kind, ...pageWindow(q) });
      const items = page.items.map((r) => ({
        ...r,
        links: { json: `/v1/reports/${r.id}`, csv: `/v1/reports/${r.id}?format=csv`, html: `/v1/reports/${r.id}?format=html` },
      }));
      res.json(pageAnswer(q, items, page.total));
    },
  ),
  route(
    {
      operationId: 'generateReport',
      method: 'post',
      path: '/v1/reports',
      summary: 'Generate the report of a month or quarter (202: poll its generation)',
      description:
        'Starts the report workflow the Schedules run, for the given period; a request while one runs joins it. ' +
        'Answers 202 Accepted with a Location to poll; the generated report replaces an earlier one of the period.',
      tag: TAG,
      access: readers,
      body: generateBody,
      response: {
        status: 202,
        description: 'Generation started; poll Location',
        schema: generationSchema.omit({ period: true, received: true }),
      },
      problems: [...commonProblems, 415],
    },
    async (deps, { body }, _req, res) => {
      const period = parsePeriod(body.kind, body.period, deps.policy().calendar.utcOffsetMinutes);
      if (!period) {
        throw new HttpProblem(400, 'Bad Request', 'The request is not valid.', {
          errors: [
            {
              in: 'body',
              path: 'period',
              message: body.kind === 'monthly' ? 'a month like 2026-03' : 'a quarter like 2026-Q1',
              code: 'invalid_format',
            },
          ],
        });
      }
      const reportId = reportIdFor(period);
      const workflowId = reportWorkflowIdFor(reportId);
      // One run per period at a time: a second request joins the running one.
      await deps.temporal.start<ReportWorkflow>(REPORT_WORKFLOW, {
        workflowId,
        args: [{ kind: period.kind, period: period.label }],
        staticSummary: reportSummary(period.kind, period.label),
        workflowIdConflictPolicy: 'USE_EXISTING',
      });
      accepted(res, generationPath(reportId), { reportId, workflowId, status: 'running', links: { report: `/v1/reports/${reportId}` } });
    },
  ),
  route(
    {
      operationId: 'reportRates',
      method: 'get',
      path: '/v1/reports/rates',
      summary: 'The four rates for any period, overall or per city, county, unit or category',
      tag: TAG,
      access: readers,
      query: ratesQuery,
      response: {
        status: 200,
        description: 'The rates',
        schema: z.object({
          from: isoTime,
          to: isoTime,
          by: z.enum(rateDimensions),
          overall: z.object(rateSetFields),
          rows: z.array(rateRowSchema).optional(),
        }),
      },
      problems: commonProblems,
    },
    async (deps, { query: q }, _req, res) => {
      const result = await ratesFor(deps.pool, { from: Date.parse(q.from), to: Date.parse(q.to), by: q.by === 'overall' ? 'city' : q.by });
      res.json({ from: q.from, to: q.to, by: q.by, overall: result.overall, ...(q.by !== 'overall' && { rows: result.rows }) });
    },
  ),
  route(
    {
      operationId: 'getReport',
      method: 'get',
      path: '/v1/reports/{reportId}',
      summary: 'One stored report, as JSON, CSV or an HTML page with charts',
      tag: TAG,
      access: readers,
      params: reportIdParams,
      query: formatQuery,
      response: { status: 200, description: 'The report', schema: reportSchema, mediaTypes: ['application/json', 'text/csv', 'text/html'] },
      problems: [...commonProblems, 404],
    },
    async (deps, { params: { reportId }, query: { format } }, req, res) => {
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
    },
  ),
  route(
    {
      operationId: 'getReportGeneration',
      method: 'get',
      path: '/v1/reports/{reportId}/generation',
      summary: 'Where the latest generation of a report stands (the Location of POST /v1/reports)',
      tag: TAG,
      access: readers,
      params: reportIdParams,
      query: noQuery,
      response: { status: 200, description: 'Running, or completed with what it generated', schema: generationSchema },
      problems: [...commonProblems, 404],
    },
    async (deps, { params: { reportId } }, _req, res) => {
      res.json(await generationOf(deps.temporal, reportId));
    },
  ),
];

export function reportRoutes(deps: ReportRoutesDeps): Router {
  const router = Router();
  mountRoutes(router, reportRouteTable, deps, { jwtSecret: deps.jwtSecret });
  return router;
}
