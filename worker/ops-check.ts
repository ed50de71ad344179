import { parseArgs } from 'node:util';
import { Client, Connection, WorkflowNotFoundError, type WorkflowExecutionStatusName } from '@temporalio/client';
import type { Pool } from 'pg';
import { getCase, listCaseViewsAfter } from '../db/cases';
import { createPool } from '../db/pool';
import type { CaseView } from '../domain/case';
import {
  foundSearchAttributes,
  searchAttributeDifferences,
  searchAttributesOfView,
  type SearchAttributeDifference,
} from '../domain/search-attributes';
import { API_DEFAULTS, loadConfigOrExit } from '../runtime/config';
import { encryptingDataConverter, keyRingFromConfig } from '../runtime/encryption';
import { COMPLAINT_WORKFLOW, syncSearchAttributesUpdate, workflowIdFor } from '../workflows/contracts/complaint';

/**
 * `npm run ops:check`: the complaint workflows whose search attributes disagree with the read model
 * (the `cases` table), and the cases of the read model that have no workflow. `--fix` has each
 * running workflow upsert its attributes again from its own state (the `syncSearchAttributes`
 * update); a closed workflow's attributes cannot be changed (docs/operations.md, "ops:check").
 *
 * It walks the read model in case-id order, one page at a time, and asks Temporal's visibility for
 * the workflows of that page in one list query; each finding is confirmed against the workflow's
 * own state (describe) and the case row read again, so a case that moved during the scan is not
 * reported.
 */

/** Cases read, and workflows asked for, per page. */
export const OPS_CHECK_PAGE_SIZE = 100;

export interface OpsCheckOptions {
  /** Repair what can be repaired: running workflows upsert their attributes again. */
  fix: boolean;
  /** Check at most this many cases (a sample; the count of workflows without a case is then skipped). */
  limit?: number;
  /** Start after this case id (keyset), e.g. to go on from where a limited run stopped. */
  after?: string;
  pageSize: number;
  /** How long one fix may wait for its workflow to answer, in ms. */
  fixTimeoutMs: number;
}

export type FixOutcome =
  | { result: 'fixed' }
  /** Temporal keeps a closed execution's search attributes as they were. */
  | { result: 'closed' }
  /** The workflow's own state disagrees with the read model: the projection, not the attributes, is behind. */
  | { result: 'state-differs'; differences: SearchAttributeDifference[] }
  | { result: 'failed'; error: string };

export type Finding =
  | {
      kind: 'mismatch';
      caseId: string;
      workflowId: string;
      workflowStatus: WorkflowExecutionStatusName;
      differences: SearchAttributeDifference[];
      fix?: FixOutcome;
    }
  | { kind: 'no-workflow'; caseId: string; workflowId: string };

export interface OpsCheckReport {
  /** Cases of the read model checked. */
  cases: number;
  /** Of them, cases whose workflow was found. */
  workflows: number;
  findings: Finding[];
  /** Complaint workflows in the namespace (latest runs), when the whole read model was checked. */
  complaintWorkflows?: number;
  /** Of them, workflows with no case in the read model (not yet projected, or wedged). */
  notInReadModel?: number;
}

export interface OpsCheckDeps {
  client: Client;
  pool: Pool;
}

/** The latest run of each complaint workflow, not the runs that continued as new (their attributes are frozen). */
const COMPLAINT_RUNS = `WorkflowType = '${COMPLAINT_WORKFLOW}' AND ExecutionStatus != 'ContinuedAsNew'`;

interface Run {
  workflowId: string;
  status: WorkflowExecutionStatusName;
  startTime: number;
  found: ReturnType<typeof foundSearchAttributes>;
}

/**
 * What differs between a workflow and the read model. A closed workflow that carries no `EcoSummary`
 * closed before the attribute existed: Temporal keeps a closed execution's attributes as they are,
 * so that is no drift and nothing could fix it. A running one without it is reported (`--fix` sets it).
 */
function differencesOf(run: Pick<Run, 'status' | 'found'>, view: CaseView): SearchAttributeDifference[] {
  return searchAttributeDifferences(run.found, searchAttributesOfView(view)).filter(
    (d) => !(d.attribute === 'EcoSummary' && d.workflow === null && run.status !== 'RUNNING'),
  );
}

/** Case ids are `EC-YYYY-NNNNNNN`; anything that could break out of a quoted visibility string is looked up alone. */
const QUOTABLE = /^[\w.:-]+$/;

/** The latest run of each of these workflows, from one visibility query (describe for an id that cannot be quoted). */
async function latestRuns(client: Client, workflowIds: string[]): Promise<Map<string, Run>> {
  const runs = new Map<string, Run>();
  const keep = (run: Run) => {
    const known = runs.get(run.workflowId);
    if (!known || known.startTime < run.startTime) runs.set(run.workflowId, run);
  };
  const quotable = workflowIds.filter((id) => QUOTABLE.test(id));
  if (quotable.length) {
    const query = `${COMPLAINT_RUNS} AND WorkflowId IN (${quotable.map((id) => `'${id}'`).join(', ')})`;
    for await (const w of client.workflow.list({ query, pageSize: quotable.length })) {
      keep({
        workflowId: w.workflowId,
        status: w.status.name,
        startTime: w.startTime.getTime(),
        found: foundSearchAttributes(w.typedSearchAttributes),
      });
    }
  }
  for (const id of workflowIds.filter((i) => !QUOTABLE.test(i))) {
    const run = await describe(client, id);
    if (run) keep(run);
  }
  return runs;
}

/** The workflow's latest run as its own state has it (not visibility, which may lag), or undefined when there is none. */
async function describe(client: Client, workflowId: string): Promise<Run | undefined> {
  try {
    const d = await client.workflow.getHandle(workflowId).describe();
    if (d.type !== COMPLAINT_WORKFLOW) return undefined;
    return { workflowId, status: d.status.name, startTime: d.startTime.getTime(), found: foundSearchAttributes(d.typedSearchAttributes) };
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return undefined;
    throw err;
  }
}

/** A finding seen in the scan, looked at again: the case row read anew, the workflow described. Undefined: it was a case in motion. */
async function confirm(deps: OpsCheckDeps, caseId: string): Promise<Finding | undefined> {
  const workflowId = workflowIdFor(caseId);
  const [record, run] = await Promise.all([getCase(deps.pool, caseId), describe(deps.client, workflowId)]);
  if (!record) return undefined;
  if (!run) return { kind: 'no-workflow', caseId, workflowId };
  const differences = differencesOf(run, record.view);
  if (!differences.length) return undefined;
  return { kind: 'mismatch', caseId, workflowId, workflowStatus: run.status, differences };
}

/** `--fix` for one mismatch: a running workflow upserts its attributes again from its state. */
async function fix(deps: OpsCheckDeps, finding: Extract<Finding, { kind: 'mismatch' }>, timeoutMs: number): Promise<FixOutcome> {
  if (finding.workflowStatus !== 'RUNNING') return { result: 'closed' };
  try {
    const handle = deps.client.workflow.getHandle(finding.workflowId);
    const upserted = await deps.client.withDeadline(Date.now() + timeoutMs, () => handle.executeUpdate(syncSearchAttributesUpdate));
    const record = await getCase(deps.pool, finding.caseId);
    const differences = record ? searchAttributeDifferences(upserted, searchAttributesOfView(record.view)) : [];
    return differences.length ? { result: 'state-differs', differences } : { result: 'fixed' };
  } catch (err) {
    return { result: 'failed', error: (err as Error).message };
  }
}

/** Compare every case of the read model (or `limit` of them) with its workflow's search attributes. */
export async function opsCheck(
  deps: OpsCheckDeps,
  options: OpsCheckOptions,
  onFinding: (finding: Finding) => void = () => {},
): Promise<OpsCheckReport> {
  const report: OpsCheckReport = { cases: 0, workflows: 0, findings: [] };
  const record = (finding: Finding) => {
    report.findings.push(finding);
    onFinding(finding);
  };
  let after = options.after;
  for (;;) {
    const size = options.limit === undefined ? options.pageSize : Math.min(options.pageSize, options.limit - report.cases);
    if (size <= 0) break;
    const views: CaseView[] = await listCaseViewsAfter(deps.pool, after, size);
    if (!views.length) break;
    after = views[views.length - 1].caseId;
    report.cases += views.length;
    const runs = await latestRuns(
      deps.client,
      views.map((v) => workflowIdFor(v.caseId)),
    );
    for (const view of views) {
      const run = runs.get(workflowIdFor(view.caseId));
      if (run) report.workflows++;
      if (run && !differencesOf(run, view).length) continue;
      const finding = await confirm(deps, view.caseId);
      if (!finding) continue;
      if (finding.kind === 'mismatch' && options.fix) finding.fix = await fix(deps, finding, options.fixTimeoutMs);
      record(finding);
    }
  }
  if (options.limit === undefined && options.after === undefined) {
    report.complaintWorkflows = (await deps.client.workflow.count(COMPLAINT_RUNS)).count;
    report.notInReadModel = Math.max(0, report.complaintWorkflows - report.workflows);
  }
  return report;
}

// ---- Output ----

const value = (v: unknown) => JSON.stringify(v);

/** The lines of one finding: one per attribute that differs, then what `--fix` did. */
export function findingLines(f: Finding): string[] {
  if (f.kind === 'no-workflow') return [`no workflow ${f.caseId}: the read model has the case, Temporal has no ${f.workflowId}`];
  const status = f.workflowStatus.toLowerCase();
  const lines = f.differences.map(
    (d) => `mismatch ${f.caseId} ${d.attribute}: workflow ${value(d.workflow)}, read model ${value(d.readModel)} (${status})`,
  );
  const fix = f.fix;
  if (!fix) return lines;
  if (fix.result === 'fixed') lines.push(`fixed ${f.caseId}: the workflow upserted its attributes again from its state`);
  else if (fix.result === 'closed')
    lines.push(`cannot fix ${f.caseId}: the workflow is ${status}, and Temporal keeps a closed execution's attributes as they are`);
  else if (fix.result === 'state-differs')
    lines.push(
      `not fixed ${f.caseId}: the workflow's own state differs from the read model (${fix.differences
        .map((d) => `${d.attribute} ${value(d.workflow)} vs ${value(d.readModel)}`)
        .join(', ')}); the projection is behind, not the attributes`,
    );
  else lines.push(`fix failed ${f.caseId}: ${fix.error}`);
  return lines;
}

const n = (x: number) => x.toLocaleString('en-US');
const count = (x: number, noun: string) => `${n(x)} ${noun}${x === 1 ? '' : 's'}`;

/** Whether a finding is still wrong after the run (a fixed mismatch is not). */
export function unresolved(f: Finding): boolean {
  return f.kind === 'no-workflow' || f.fix?.result !== 'fixed';
}

/** `ops:check: 1,234 cases, 1,233 workflows, 3 mismatched (2 fixed, 1 closed), 1 case without workflow; ...` */
export function summaryLine(r: OpsCheckReport): string {
  const mismatched = r.findings.filter((f) => f.kind === 'mismatch');
  const outcome = (result: FixOutcome['result']) => mismatched.filter((f) => f.fix?.result === result).length;
  const fixed = outcome('fixed');
  const notes = [
    fixed || mismatched.some((f) => f.fix) ? `${n(fixed)} fixed` : '',
    outcome('closed') ? `${n(outcome('closed'))} closed, cannot be fixed` : '',
    outcome('state-differs') ? `${n(outcome('state-differs'))} with the projection behind` : '',
    outcome('failed') ? `${n(outcome('failed'))} fix failed` : '',
  ].filter(Boolean);
  const noWorkflow = r.findings.length - mismatched.length;
  let line =
    `ops:check: ${count(r.cases, 'case')}, ${count(r.workflows, 'workflow')}, ${n(mismatched.length)} mismatched` +
    `${notes.length ? ` (${notes.join(', ')})` : ''}, ${count(noWorkflow, 'case')} without workflow`;
  if (r.complaintWorkflows !== undefined)
    line += `; ${count(r.complaintWorkflows, 'complaint workflow')} in Temporal, ${n(r.notInReadModel ?? 0)} not in the read model`;
  return line;
}

// ---- Command line ----

const USAGE = 'usage: npm run ops:check -- [--fix] [--limit N] [--after CASE_ID] [--page-size N] [--json]';

function positiveInt(name: string, raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const v = Number(raw);
  if (!Number.isInteger(v) || v < 1) throw new Error(`--${name} must be a positive integer, not ${JSON.stringify(raw)}`);
  return v;
}

async function main(): Promise<void> {
  const config = loadConfigOrExit();
  let options: OpsCheckOptions;
  let json: boolean;
  try {
    const { values } = parseArgs({
      options: {
        fix: { type: 'boolean', default: false },
        limit: { type: 'string' },
        after: { type: 'string' },
        'page-size': { type: 'string' },
        json: { type: 'boolean', default: false },
      },
    });
    json = values.json;
    options = {
      fix: values.fix,
      limit: positiveInt('limit', values.limit),
      after: values.after,
      pageSize: positiveInt('page-size', values['page-size']) ?? OPS_CHECK_PAGE_SIZE,
      fixTimeoutMs: config.TEMPORAL_RPC_TIMEOUT_MS ?? API_DEFAULTS.temporalTimeoutMs,
    };
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n${USAGE}\n`);
    process.exit(2);
  }
  // Unset, as in `npm start`: the dev server and the embedded PostgreSQL that `npm start` runs (runtime/start.ts).
  const address = config.TEMPORAL_ADDRESS ?? `127.0.0.1:${config.TEMPORAL_DEV_PORT}`;
  const databaseUrl = config.DATABASE_URL ?? `postgres://postgres@127.0.0.1:${config.EMBEDDED_PG_PORT}/ecoloop`;
  const connection = await Connection.connect({ address });
  // The worker's data converter: the answer of the sync update is encrypted like every payload.
  const client = new Client({
    connection,
    namespace: config.TEMPORAL_NAMESPACE,
    dataConverter: encryptingDataConverter(keyRingFromConfig(config)),
  });
  const pool = createPool(databaseUrl, { max: 2 });
  try {
    const report = await opsCheck({ client, pool }, options, (f) => {
      if (!json)
        process.stdout.write(
          findingLines(f)
            .map((l) => `${l}\n`)
            .join(''),
        );
    });
    process.stdout.write(json ? `${JSON.stringify({ ...report, summary: summaryLine(report) })}\n` : `${summaryLine(report)}\n`);
    process.exitCode = report.findings.some(unresolved) ? 1 : 0;
  } finally {
    await pool.end();
    await connection.close();
  }
}

if (require.main === module) {
  main().catch((err) => {
    process.stderr.write(`ops:check failed: ${(err as Error).message}\n`);
    process.exit(3);
  });
}
