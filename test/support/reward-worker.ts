import fs from 'node:fs';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import { DevPaymentGateway } from '../../activities/payments';
import { createPool } from '../../db/pool';
import { developmentKeyRing, encryptingDataConverter } from '../../runtime/encryption';
import { developmentReporterKeyRing } from '../../runtime/reporter-seal';
import { createWorker } from '../../worker/worker';

/**
 * A worker process for test/reward-payment.test.ts: EcoLoop's worker on the prebuilt test bundle,
 * with the test key ring (as test/support/temporal.ts), paying through the development gateway.
 *
 * With REWARD_WORKER_PAUSE_FILE set, the gateway, once it has recorded a payment and before the
 * payment activity returns, writes the payment's idempotency key to that file and blocks: the test
 * then kills this process with SIGKILL in the middle of the payment. Prints `reward-worker ready`
 * once it polls.
 *
 * Environment: TEMPORAL_ADDRESS, DATABASE_URL, TEMPORAL_TASK_QUEUE, ECOLOOP_TEST_WORKFLOW_BUNDLE,
 * REWARD_WORKER_PAUSE_FILE (optional).
 */
async function main(): Promise<void> {
  const { TEMPORAL_ADDRESS, DATABASE_URL, TEMPORAL_TASK_QUEUE, ECOLOOP_TEST_WORKFLOW_BUNDLE, REWARD_WORKER_PAUSE_FILE } = process.env;
  if (!TEMPORAL_ADDRESS || !DATABASE_URL || !TEMPORAL_TASK_QUEUE || !ECOLOOP_TEST_WORKFLOW_BUNDLE) {
    throw new Error('TEMPORAL_ADDRESS, DATABASE_URL, TEMPORAL_TASK_QUEUE and ECOLOOP_TEST_WORKFLOW_BUNDLE are required');
  }
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  const keyRing = developmentKeyRing();
  const dataConverter = encryptingDataConverter(keyRing);
  const pool = createPool(DATABASE_URL, { max: 3 });
  const connection = await NativeConnection.connect({ address: TEMPORAL_ADDRESS });
  const clientConnection = Connection.lazy({ address: TEMPORAL_ADDRESS });
  const client = new Client({ connection: clientConnection, dataConverter });
  const paymentGateway = new DevPaymentGateway(pool, {
    afterRecord: REWARD_WORKER_PAUSE_FILE
      ? async (request) => {
          fs.writeFileSync(REWARD_WORKER_PAUSE_FILE, request.idempotencyKey);
          await new Promise(() => undefined); // never returns: the test kills this process here
        }
      : undefined,
  });
  const worker = await createWorker({
    connection,
    namespace: 'default',
    taskQueue: TEMPORAL_TASK_QUEUE,
    pool,
    activityDeps: { client, reporterKeys: developmentReporterKeyRing(), paymentGateway },
    workflowBundle: { codePath: ECOLOOP_TEST_WORKFLOW_BUNDLE },
    dataConverter,
  });
  const running = worker.run();
  process.stdout.write('reward-worker ready\n');
  await running;
  await clientConnection.close();
  await connection.close();
  await pool.end();
}

main().catch((err) => {
  process.stderr.write(`reward-worker failed: ${(err as Error).stack ?? err}\n`);
  process.exit(1);
});
