import type { Pool } from 'pg';
import { backlogActivities } from './backlog';
import { campaignActivities } from './campaigns';
import type { ActivityDeps } from './index';
import { rewardActivities } from './payments';

/**
 * The concentrated governance's activities: reward payments (activities/payments.ts), backlog
 * (activities/backlog.ts) and campaigns (activities/campaigns.ts), bound to their dependencies
 * (spread into activities/index.ts createActivities).
 */
export function governanceActivities(pool: Pool, deps: ActivityDeps) {
  return {
    ...rewardActivities(pool, deps),
    ...backlogActivities(pool, deps.client),
    ...campaignActivities(pool, deps.client),
  };
}
