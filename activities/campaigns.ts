import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { heartbeat } from '@temporalio/activity';
import type { Pool } from 'pg';
import {
  casesToTighten,
  compareComplaintVolume,
  countTaggedCases,
  countTightenedCases,
  markCaseTightened,
  saveCampaign,
  tagMatchingCases,
  type CampaignRecord,
} from '../db/campaigns';
import type { CampaignCriteria, DeadlineTightening } from '../domain/governance';
import { tightenDeadlineSignal, workflowIdFor } from '../workflows/contracts/complaint';

/**
 * Campaign I/O: its row, the tagging of matching cases, the tightening sent to each tagged case's
 * complaint workflow, and the before/after counts (db/campaigns.ts). Every write is keyed, so a
 * retried activity changes nothing twice.
 */
export function campaignActivities(pool: Pool, client: Client | undefined) {
  return {
    saveCampaign: (record: CampaignRecord) => saveCampaign(pool, record),
    tagCampaignCases: (input: TagCampaignCases) => tagCampaignCases(pool, input),
    tightenCampaignCases: (input: { tightening: DeadlineTightening; batchSize: number }) => tightenCampaignCases(pool, client, input),
    compareComplaintVolume: (input: Parameters<typeof compareComplaintVolume>[1]) => compareComplaintVolume(pool, input),
  };
}

export interface TagCampaignCases {
  campaignId: string;
  criteria: CampaignCriteria;
  startedAt: number;
  now: number;
  batchSize: number;
}

/**
 * Tag the open cases that match the campaign and are not tagged yet, batch by batch. Returns how
 * many cases the campaign has tagged in all.
 */
export async function tagCampaignCases(pool: Pool, input: TagCampaignCases): Promise<number> {
  for (;;) {
    const tagged = await tagMatchingCases(pool, input);
    heartbeat();
    if (tagged < input.batchSize) break;
  }
  return countTaggedCases(pool, input.campaignId);
}

/**
 * Send the tightening to every tagged case that is being handled (a handle or rework deadline runs)
 * and has not had this tightening yet; the complaint workflow applies a key once. Returns how many
 * tagged cases have had a tightening in all.
 */
export async function tightenCampaignCases(
  pool: Pool,
  client: Client | undefined,
  input: { tightening: DeadlineTightening; batchSize: number },
): Promise<number> {
  if (!client) throw new Error('tightenCampaignCases needs a Temporal client (ActivityDeps.client)');
  const t = input.tightening;
  for (;;) {
    const caseIds = await casesToTighten(pool, t.campaignId, t.key, input.batchSize);
    for (const caseId of caseIds) {
      try {
        await client.workflow.getHandle(workflowIdFor(caseId)).signal(tightenDeadlineSignal, t);
      } catch (err) {
        if (!(err instanceof WorkflowNotFoundError)) throw err;
      }
      await markCaseTightened(pool, t.campaignId, caseId, t.key);
      heartbeat();
    }
    if (caseIds.length < input.batchSize) break;
  }
  return countTightenedCases(pool, t.campaignId);
}
