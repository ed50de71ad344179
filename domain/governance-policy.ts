import { z } from 'zod';

/** Rewards for reporting, backlog cases and campaigns (issue: supervision). Part of the policy document (domain/policy.ts). */
export const governancePolicySchema = z.object({});
export type GovernancePolicy = z.infer<typeof governancePolicySchema>;

export const defaultGovernancePolicy: GovernancePolicy = {};
