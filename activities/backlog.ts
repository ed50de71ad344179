import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import { heartbeat } from '@temporalio/activity';
import type { Pool } from 'pg';
import {
  getListingState,
  listingsAwaitingWorkflow,
  markListingWorkflowStarted,
  recordBacklogMilestone,
  sweepBacklog,
  type BacklogListingState,
  type BacklogSweepRequest,
} from '../db/backlog';
import type { BacklogMilestone, BacklogSettings } from '../domain/governance';
import { BACKLOG_CASE_WORKFLOW, backlogWorkflowId, type BacklogCaseWorkflow } from '../workflows/contracts/backlog';
import { backlogCaseSummary } from '../domain/workflow-summaries';

/**
 * Backlog I/O: the sweeps that list backlog from the case projection (db/backlog.ts), the start of
 * each listing's workflow, and the listings' milestones (with their notifications, through the
 * outbox). Every write is keyed, so a retried activity changes nothing twice.
 */
export function backlogActivities(pool: Pool, client: Client | undefined) {
  return {
    sweepBacklog: (input: BacklogSweepRequest) => sweepBacklog(pool, input),
    startBacklogWorkflows: (input: StartBacklogWorkflows) => startBacklogWorkflows(pool, client, input),
    checkBacklogListing: (input: { caseId: string; year: number }) => checkBacklogListing(pool, input),
    recordBacklogMilestone: (input: { caseId: string; year: number; at: number; milestone: BacklogMilestone }) =>
      recordBacklogMilestone(pool, input),
  };
}

export interface StartBacklogWorkflows {
  taskQueue: string;
  settings: BacklogSettings;
  batchSize: number;
}

/**
 * Start the workflow of every active listing that has none yet (`backlog-<case>-<year>`; one that
 * is already running counts as started). Driven by the table, so a retry after a crash starts what
 * the first attempt did not.
 */
export async function startBacklogWorkflows(pool: Pool, client: Client | undefined, input: StartBacklogWorkflows): Promise<number> {
  if (!client) throw new Error('startBacklogWorkflows needs a Temporal client (ActivityDeps.client)');
  let started = 0;
  for (;;) {
    const listings = await listingsAwaitingWorkflow(pool, input.batchSize);
    for (const { caseId, year } of listings) {
      try {
        await client.workflow.start<BacklogCaseWorkflow>(BACKLOG_CASE_WORKFLOW, {
          taskQueue: input.taskQueue,
          workflowId: backlogWorkflowId(caseId, year),
          staticSummary: backlogCaseSummary(caseId, year),
          args: [{ caseId, year, settings: input.settings }],
        });
      } catch (err) {
        if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
      }
      await markListingWorkflowStarted(pool, caseId, year);
      started++;
      heartbeat(started);
    }
    if (listings.length < input.batchSize) return started;
  }
}

export async function checkBacklogListing(pool: Pool, input: { caseId: string; year: number }): Promise<BacklogListingState> {
  const state = await getListingState(pool, input.caseId, input.year);
  if (!state) throw new Error(`no backlog listing ${input.caseId} for ${input.year}`);
  return state;
}
