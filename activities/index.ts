import { Context } from '@temporalio/activity';
import type { Client } from '@temporalio/client';
import type { Pool } from 'pg';
import { defaultPolicy, type Policy } from '../domain/policy';
import type { ReporterIndexer } from '../db/reporters';
import type { KeyRing } from '../runtime/encryption';
import { analysisActivities } from './analysis';
import { governanceActivities } from './governance';
import { findRelatedCase, type RelatedCaseQuery } from './intake';
import type { PaymentGateway } from './payments';
import { deadLetterProjection, projectCase, type DeadLetterInput, type ProjectionInput } from './projection';
import { spotCheckActivities } from './spot-checks';
import { feedWarningWatchers } from './warning-intake';

/**
 * What activities may need besides the database. Optional, so that a test passes only what the
 * activities under test use. Add a field here for a new dependency (a gateway, a client...).
 */
export interface ActivityDeps {
  /** A Temporal client, for activities that start or message other workflows. */
  client?: Client;
  /**
   * The reporter ring (runtime/reporter-seal.ts): opens the identity the workflow carries sealed and
   * seals it at rest; projectCase and payReward need it.
   */
  reporterKeys?: KeyRing;
  /** The reporter's blind index (runtime/reporter-index.ts): projectCase stores the digests beside the sealed reporter. */
  reporterIndex?: ReporterIndexer;
  /** Pays rewards (activities/payments.ts); the development gateway (table gateway_payments) when not given. */
  paymentGateway?: PaymentGateway;
  /** The policy in force (POLICY_FILE), for the reports (activities/analysis.ts); the defaults when not given. */
  policy?: () => Policy;
}

/**
 * Every activity, bound to its dependencies. Workflows import this module as a type only:
 * `proxyActivities<ReturnType<typeof createActivities>>`.
 */
export function createActivities(pool: Pool, deps: ActivityDeps = {}) {
  const policy = () => deps.policy?.() ?? defaultPolicy;
  return {
    /** The case's new events into the read model; a new case then feeds its early-warning watchers. */
    projectCase: async (input: ProjectionInput) => {
      const reporter = await projectCase(pool, input, deps.reporterKeys, deps.reporterIndex);
      if (!deps.client || !input.events.some((e) => e.type === 'registered')) return;
      const { view } = input;
      await feedWarningWatchers(
        { client: deps.client, analysis: policy().analysis, taskQueue: Context.current().info.taskQueue },
        {
          caseId: view.caseId,
          receivedAt: Date.parse(view.receivedAt),
          category: view.category,
          divisionCode: view.divisionCode,
          location: input.location,
          reporter,
        },
      );
    },
    /** Events the read model refused for good into the dead-letter table; operations told of the first refusal. */
    deadLetterProjection: (input: DeadLetterInput) => deadLetterProjection(pool, input),
    findRelatedCase: (query: RelatedCaseQuery) => findRelatedCase(pool, query),
    ...governanceActivities(pool, deps),
    ...spotCheckActivities(pool, deps.client),
    ...analysisActivities(pool, deps),
  };
}

export type Activities = ReturnType<typeof createActivities>;
