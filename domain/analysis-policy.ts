import { z } from 'zod';

/** The four rates, monthly and quarterly reports, early-warning thresholds (issue: analysis). Part of the policy document (domain/policy.ts). */
export const analysisPolicySchema = z.object({});
export type AnalysisPolicy = z.infer<typeof analysisPolicySchema>;

export const defaultAnalysisPolicy: AnalysisPolicy = {};
