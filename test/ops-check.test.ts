import { execFile } from 'node:child_process';
import path from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import { caseStatusKey, summaryKey, unitKey } from '../domain/search-attributes';
import { workflowsPath } from '../worker/worker';
import { findingLines, opsCheck, OPS_CHECK_PAGE_SIZE, summaryLine, type OpsCheckReport } from '../worker/ops-check';
import { ApiHarness } from './support/api-harness';
import { driftSearchAttributeSignal } from './support/search-attribute-drift';

/**
 * `npm run ops:check` (worker/ops-check.ts) against the real dev server and PostgreSQL. Attributes are
 * broken on purpose by a test-only interceptor (test/support/search-attribute-drift.ts) that upserts
 * a value the workflow's state does not hold; a workflow is deleted with Temporal's own
 * DeleteWorkflowExecution. The check reads this file's database only: the other workflows of the
 * shared dev server have no case in it, so they are never compared (only counted in the summary).
 */

const root = path.resolve(__dirname, '..');
let api: ApiHarness;
let clerk: string;

beforeAll(async () => {
  // Every workflow of this worker takes the drift signal (the real complaint workflow, plus the interceptor).
  const bundle = await bundleWorkflowCode({
    workflowsPath,
    workflowInterceptorModules: [require.resolve('./support/search-attribute-drift')],
    logger: { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error() {} },
  });
  api = await ApiHarness.create('ops-check', { workerOverrides: { workflowBundle: { code: bundle.code } } });
  clerk = await api.token({ sub: 'clerk-li', role: 'clerk' });
});
afterAll(async () => {
  await api?.teardown();
});

async function until<T>(what: string, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Register a complaint and have the clerk accept it for a unit: a running case in `handling`, projected. */
async function handlingCase(title: string): Promise<string> {
  const res = await api.request('POST', '/v1/complaints', {
    token: clerk,
    body: {
      channel: 'hotline',
      category: 'water',
      divisionCode: '370112',
      title,
      description: 'Dark water discharged into the river behind the paper mill every night.',
      reporter: { anonymous: true, consentToShareWithUnit: false },
    },
  });
  expect(res.status).toBe(201);
  const caseId: string = res.body.caseId;
  await api.eventually(`/v1/complaints/${caseId}`, clerk, (b) => b.status === 'pending_acceptance');
  const accepted = await api.request('POST', `/v1/complaints/${caseId}/accept`, {
    token: clerk,
    body: { unitId: 'licheng-bureau', note: 'county bureau has jurisdiction' },
  });
  expect(accepted.status).toBe(200);
  await until(`${caseId} carrying EcoUnit`, async () =>
    (await describeCase(caseId)).typedSearchAttributes.get(unitKey) ? true : undefined,
  );
  return caseId;
}

function describeCase(caseId: string) {
  return api.client.workflow.getHandle(`complaint-${caseId}`).describe();
}

/** Break one keyword attribute of the case's workflow (null: remove it), and wait until the workflow carries the broken value. */
async function drift(caseId: string, value: string | null, key: typeof unitKey = unitKey): Promise<void> {
  await api.client.workflow.getHandle(`complaint-${caseId}`).signal(driftSearchAttributeSignal, { name: key.name, value });
  await until(`${caseId} drifted`, async () =>
    ((await describeCase(caseId)).typedSearchAttributes.get(key) ?? null) === value ? true : undefined,
  );
}

function check(fix = false): Promise<OpsCheckReport> {
  return opsCheck({ client: api.client, pool: api.db.pool }, { fix, pageSize: OPS_CHECK_PAGE_SIZE, fixTimeoutMs: 10_000 });
}

/** `npm run ops:check -- args` as an operator runs it, configured like the worker: its exit code and output. */
function npmOpsCheck(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const env = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    TEMPORAL_ADDRESS: process.env.ECOLOOP_TEST_TEMPORAL_ADDRESS,
    DATABASE_URL: api.db.url,
  };
  return new Promise((resolve) => {
    execFile('npm', ['run', '--silent', 'ops:check', '--', ...args], { cwd: root, env, timeout: 90_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? -1) : 0, stdout, stderr });
    });
  });
}

let running: string; // a handling case whose EcoUnit was broken
let closed: string; // the same, then terminated: closed with the broken attribute
let orphan: string; // a case of the read model whose workflow was deleted
let healthy: string;

describe('npm run ops:check', () => {
  test('when the read model and the workflows agree, then the check finds nothing', async () => {
    healthy = await handlingCase('Paper mill discharge, healthy');
    const report = await check();
    expect(report.findings).toEqual([]);
    expect(report).toMatchObject({ cases: 1, workflows: 1 });
    expect(summaryLine(report)).toMatch(
      /^ops:check: 1 case, 1 workflow, 0 mismatched, 0 cases without workflow; \d[\d,]* complaint workflows?/,
    );
  });

  test('when one attribute is broken on a running and on a closed workflow, and a workflow is deleted, then each is reported with its values', async () => {
    running = await handlingCase('Paper mill discharge, drifted');
    closed = await handlingCase('Paper mill discharge, drifted and terminated');
    orphan = await handlingCase('Paper mill discharge, workflow deleted');
    await drift(running, 'bogus-bureau');
    await drift(closed, 'bogus-bureau');
    await api.client.workflow.getHandle(`complaint-${closed}`).terminate('ops:check test: a closed workflow with a stale attribute');
    await api.client.workflowService.deleteWorkflowExecution({
      namespace: 'default',
      workflowExecution: { workflowId: `complaint-${orphan}` },
    });
    await until(`complaint-${orphan} deleted`, () =>
      describeCase(orphan).then(
        () => undefined,
        () => true,
      ),
    );

    const report = await check();
    const byCase = Object.fromEntries(report.findings.map((f) => [f.caseId, f]));
    expect(Object.keys(byCase).sort()).toEqual([running, closed, orphan].sort());
    expect(byCase[running]).toEqual({
      kind: 'mismatch',
      caseId: running,
      workflowId: `complaint-${running}`,
      workflowStatus: 'RUNNING',
      differences: [{ attribute: 'EcoUnit', workflow: 'bogus-bureau', readModel: 'licheng-bureau' }],
    });
    expect(byCase[closed]).toMatchObject({ kind: 'mismatch', workflowStatus: 'TERMINATED' });
    expect(byCase[orphan]).toEqual({ kind: 'no-workflow', caseId: orphan, workflowId: `complaint-${orphan}` });
    expect(findingLines(byCase[running])).toEqual([
      `mismatch ${running} EcoUnit: workflow "bogus-bureau", read model "licheng-bureau" (running)`,
    ]);
    expect(summaryLine(report)).toMatch(/^ops:check: 4 cases, 3 workflows, 2 mismatched, 1 case without workflow; /);

    // The same through npm, as an operator runs it: one line per finding, the summary, exit status 1.
    const cli = await npmOpsCheck();
    expect(cli.stderr).toBe('');
    const lines = cli.stdout.trim().split('\n');
    expect(lines).toContain(`mismatch ${running} EcoUnit: workflow "bogus-bureau", read model "licheng-bureau" (running)`);
    expect(lines).toContain(`mismatch ${closed} EcoUnit: workflow "bogus-bureau", read model "licheng-bureau" (terminated)`);
    expect(lines).toContain(`no workflow ${orphan}: the read model has the case, Temporal has no complaint-${orphan}`);
    expect(lines[lines.length - 1]).toMatch(/^ops:check: 4 cases, 3 workflows, 2 mismatched, 1 case without workflow; /);
    expect(lines).toHaveLength(4);
    expect(cli.code).toBe(1);
  });

  test('when run with --fix, then the running workflow upserts its attributes again and the closed one is reported as unfixable', async () => {
    const cli = await npmOpsCheck('--fix');
    expect(cli.stderr).toBe('');
    const lines = cli.stdout.trim().split('\n');
    expect(lines).toContain(`fixed ${running}: the workflow upserted its attributes again from its state`);
    expect(lines).toContain(
      `cannot fix ${closed}: the workflow is terminated, and Temporal keeps a closed execution's attributes as they are`,
    );
    expect(lines[lines.length - 1]).toMatch(
      /^ops:check: 4 cases, 3 workflows, 2 mismatched \(1 fixed, 1 closed, cannot be fixed\), 1 case without workflow; /,
    );
    expect(cli.code).toBe(1); // the closed workflow and the deleted one remain

    // The running workflow carries what its state holds, and the check finds it clean.
    const d = await describeCase(running);
    expect(d.typedSearchAttributes.get(unitKey)).toBe('licheng-bureau');
    expect(d.typedSearchAttributes.get(caseStatusKey)).toBe('handling');
    const after = await until('the repaired attributes in visibility', async () => {
      const r = await check();
      return r.findings.some((f) => f.caseId === running) ? undefined : r;
    });
    expect(after.findings.map((f) => f.caseId).sort()).toEqual([closed, orphan].sort());
    expect(after.findings.some((f) => f.caseId === healthy)).toBe(false);

    // The repaired workflow goes on: a later decision is answered and its attributes follow.
    const status = await api.client.workflow.getHandle(`complaint-${running}`).describe();
    expect(status.status.name).toBe('RUNNING');
  });

  test('when --limit is given, then only that many cases are checked and the whole-namespace count is left out', async () => {
    const cli = await npmOpsCheck('--limit', '2', '--json');
    const report = JSON.parse(cli.stdout.trim().split('\n').pop()!);
    expect(report.cases).toBe(2);
    expect(report.complaintWorkflows).toBeUndefined();
    expect(report.summary).toMatch(/^ops:check: 2 cases, /);
  });

  test('when EcoSummary drifts on a running workflow, then it is reported and --fix restores the summary line; a closed workflow without one is not reported', async () => {
    const drifted = await handlingCase('Paper mill discharge, summary drifted');
    const summary = `Case ${drifted} · water · division 370112`;
    expect((await describeCase(drifted)).typedSearchAttributes.get(summaryKey)).toBe(summary);
    await drift(drifted, 'Case EC-0000-0000000 · noise · division 000000', summaryKey);
    // A workflow that closed before EcoSummary existed carries none, and Temporal cannot add it.
    const before = await handlingCase('Paper mill discharge, closed before EcoSummary');
    await drift(before, null, summaryKey);
    await api.client.workflow.getHandle(`complaint-${before}`).terminate('ops:check test: closed before EcoSummary existed');

    const report = await check();
    expect(report.findings.find((f) => f.caseId === drifted)).toEqual({
      kind: 'mismatch',
      caseId: drifted,
      workflowId: `complaint-${drifted}`,
      workflowStatus: 'RUNNING',
      differences: [{ attribute: 'EcoSummary', workflow: 'Case EC-0000-0000000 · noise · division 000000', readModel: summary }],
    });
    expect(report.findings.some((f) => f.caseId === before)).toBe(false);

    const fixed = await opsCheck(
      { client: api.client, pool: api.db.pool },
      { fix: true, pageSize: OPS_CHECK_PAGE_SIZE, fixTimeoutMs: 10_000 },
    );
    expect(fixed.findings.find((f) => f.caseId === drifted)).toMatchObject({ kind: 'mismatch', fix: { result: 'fixed' } });
    expect((await describeCase(drifted)).typedSearchAttributes.get(summaryKey)).toBe(summary);
  });
});
