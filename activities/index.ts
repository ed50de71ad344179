import type { Client } from '@temporalio/client';
import type { Pool } from 'pg';
import { findRelatedCase, type RelatedCaseQuery } from './intake';
import { projectCase, type ProjectionInput } from './projection';

/**
 * What activities may need besides the database. Optional, so that a test passes only what the
 * activities under test use. Add a field here for a new dependency (a gateway, a client...).
 */
export interface ActivityDeps {
  /** A Temporal client, for activities that start or message other workflows. */
  client?: Client;
}

/**
 * Every activity, bound to its dependencies. Workflows import this module as a type only:
 * `proxyActivities<ReturnType<typeof createActivities>>`.
 */
export function createActivities(pool: Pool, deps: ActivityDeps = {}) {
  void deps;
  return {
    projectCase: (input: ProjectionInput) => projectCase(pool, input),
    findRelatedCase: (query: RelatedCaseQuery) => findRelatedCase(pool, query),
  };
}

export type Activities = ReturnType<typeof createActivities>;
