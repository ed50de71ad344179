import { Client, Connection, WorkflowNotFoundError } from '@temporalio/client';
import { loadConfigOrExit } from '../runtime/config';
import { encryptingDataConverter, keyRingFromConfig } from '../runtime/encryption';
import { replayProjectionUpdate, workflowIdFor, type ProjectionReplay } from '../workflows/contracts/complaint';

/**
 * `npm run projection:replay -- <caseId> [...]`: once the cause of a failed projection is fixed (the
 * schema, the projection's code, a constraint), have each case's workflow project again every event
 * the read model is missing (the `replayProjection` update). The workflow takes the events from its
 * own state; the dead-letter table (`projection_dead_letters`) keeps them for reading meanwhile.
 * Exit code 0 when every case's read model is complete, 1 when one still refuses, 2 on bad usage.
 */

const USAGE = 'usage: npm run projection:replay -- <caseId> [<caseId> ...]';

export type ReplayOutcome = ProjectionReplay | { projected: false; replayed: 0; error: string };

/** Ask one case's workflow to replay its projection; a case without a running workflow cannot be replayed. */
export async function replayProjection(client: Client, caseId: string): Promise<ReplayOutcome> {
  try {
    return await client.workflow.getHandle(workflowIdFor(caseId)).executeUpdate(replayProjectionUpdate);
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return { projected: false, replayed: 0, error: `no running workflow for case ${caseId}` };
    throw err;
  }
}

async function main(): Promise<void> {
  const config = loadConfigOrExit();
  const caseIds = process.argv.slice(2).filter((a) => a !== '--');
  if (caseIds.length === 0) {
    process.stderr.write(`${USAGE}\n`);
    process.exit(2);
  }
  // Unset, as in `npm start`: the dev server that `npm start` runs (runtime/start.ts).
  const address = config.TEMPORAL_ADDRESS ?? `127.0.0.1:${config.TEMPORAL_DEV_PORT}`;
  const connection = await Connection.connect({ address });
  const client = new Client({
    connection,
    namespace: config.TEMPORAL_NAMESPACE,
    dataConverter: encryptingDataConverter(keyRingFromConfig(config)),
  });
  try {
    let failed = 0;
    for (const caseId of caseIds) {
      const r = await replayProjection(client, caseId);
      if (!r.projected) failed++;
      process.stdout.write(
        r.projected
          ? `${caseId}: read model complete (${r.replayed} event(s) projected now)\n`
          : `${caseId}: still refused: ${r.error ?? 'unknown error'}\n`,
      );
    }
    process.exitCode = failed ? 1 : 0;
  } finally {
    await connection.close();
  }
}

if (require.main === module) {
  main().catch((err) => {
    process.stderr.write(`projection:replay failed: ${(err as Error).message}\n`);
    process.exit(3);
  });
}
