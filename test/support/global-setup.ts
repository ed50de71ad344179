import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import { startEmbeddedPostgres } from '../../runtime/embedded-postgres';
import { ensureTemporalBinaries } from '../../runtime/temporal-binaries';
import { startTemporalDevServer } from '../../runtime/temporal-dev-server';
import { workflowsPath } from '../../worker/worker';
import { freePort } from './ports';

/**
 * Once per `npm test`: the Temporal binaries (installed when missing), one real Temporal dev server,
 * a real PostgreSQL (DATABASE_URL when set, an embedded one otherwise), and one workflow bundle.
 * Test files get their own task queues and databases on these, so they run side by side (and
 * beside a running `npm start`).
 */
export default async function globalSetup(): Promise<void> {
  const bins = ensureTemporalBinaries();
  process.env.TEMPORAL_CLI_PATH = bins.cli;
  process.env.TEMPORAL_TEST_SERVER_PATH = bins.testServer;

  const temporal = await startTemporalDevServer({ cli: bins.cli, port: await freePort() });
  process.env.ECOLOOP_TEST_TEMPORAL_ADDRESS = temporal.address;

  let stopPostgres: (() => Promise<void>) | undefined;
  let pgDir: string | undefined;
  if (process.env.DATABASE_URL) {
    process.env.ECOLOOP_TEST_PG_ADMIN_URL = process.env.DATABASE_URL;
  } else {
    pgDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ecoloop-test-pg-'));
    fs.chmodSync(pgDir, 0o755);
    const pg = await startEmbeddedPostgres({ dataDir: path.join(pgDir, 'data'), port: await freePort(), database: 'ecoloop_test' });
    process.env.ECOLOOP_TEST_PG_ADMIN_URL = pg.url;
    stopPostgres = () => pg.stop();
  }

  const bundle = await bundleWorkflowCode({
    workflowsPath,
    logger: { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error() {} },
  });
  const artifacts = path.resolve(__dirname, '..', '..', '.test-artifacts');
  fs.mkdirSync(artifacts, { recursive: true });
  const bundlePath = path.join(artifacts, `workflow-bundle-${process.pid}.js`);
  fs.writeFileSync(bundlePath, bundle.code);
  process.env.ECOLOOP_TEST_WORKFLOW_BUNDLE = bundlePath;

  // Every answer of the in-process API is validated against /openapi.json; each violation is
  // recorded here (test/support/response-validation.ts) and fails the run in the global teardown.
  const violations = path.join(artifacts, `response-violations-${process.pid}`);
  fs.rmSync(violations, { recursive: true, force: true });
  fs.mkdirSync(violations);
  process.env.ECOLOOP_TEST_RESPONSE_VALIDATION = violations;

  (globalThis as Record<string, unknown>).__ECOLOOP_TEARDOWN__ = async () => {
    await temporal.stop();
    await stopPostgres?.();
    if (pgDir) fs.rmSync(pgDir, { recursive: true, force: true });
    fs.rmSync(bundlePath, { force: true });
    fs.rmSync(violations, { recursive: true, force: true });
  };
}
