import { z } from 'zod';

/** The daily desk check and the quarterly on-site re-inspection (issue: supervision). Part of the policy document (domain/policy.ts). */
export const supervisionPolicySchema = z.object({});
export type SupervisionPolicy = z.infer<typeof supervisionPolicySchema>;

export const defaultSupervisionPolicy: SupervisionPolicy = {};
