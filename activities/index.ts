import type { Client } from '@temporalio/client';
import type { Pool } from 'pg';
import type { Policy } from '../domain/policy';
import type { KeyRing } from '../runtime/encryption';
import { analysisActivities } from './analysis';
import { governanceActivities } from './governance';
import { findRelatedCase, type RelatedCaseQuery } from './intake';
import type { PaymentGateway } from './payments';
import { projectCase, type ProjectionInput } from './projection';
import { supervisionActivities } from './supervision';

/**
 * What activities may need besides the database. Optional, so that a test passes only what the
 * activities under test use. Add a field here for a new dependency (a gateway, a client...).
 */
export interface ActivityDeps {
  /** A Temporal client, for activities that start or message other workflows. */
  client?: Client;
  /** Encrypts the reporter's identity at rest (runtime/encryption.ts); projectCase needs it. */
  keyRing?: KeyRing;
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
  void deps;
  return {
    projectCase: (input: ProjectionInput) => projectCase(pool, input, deps.keyRing),
    findRelatedCase: (query: RelatedCaseQuery) => findRelatedCase(pool, query),
    ...governanceActivities(pool, deps),
    ...supervisionActivities(pool, deps.client),
    ...analysisActivities(pool, deps),
  };
}

export type Activities = ReturnType<typeof createActivities>;
