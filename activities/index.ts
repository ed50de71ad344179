import type { Pool } from 'pg';
import { findRelatedCase, type RelatedCaseQuery } from './intake';
import { projectCase, type ProjectionInput } from './projection';

/**
 * The complaint workflow's activities, bound to their dependencies. Workflows import this module
 * as a type only: `proxyActivities<ReturnType<typeof createActivities>>`.
 */
export function createActivities(pool: Pool) {
  return {
    projectCase: (input: ProjectionInput) => projectCase(pool, input),
    findRelatedCase: (query: RelatedCaseQuery) => findRelatedCase(pool, query),
  };
}

export type Activities = ReturnType<typeof createActivities>;
