import { z } from 'zod';
import type { Actor } from '../case';
import { text } from './case';
import { categorySchema } from './policy';
import { violationSeveritySchema } from './governance-policy';

/**
 * The bodies of the rewards', backlog listings' and campaigns' messages as the API takes them
 * (domain/governance.ts has the arithmetic); the workflows receive them with the actor.
 */

const divisionPrefix = z.string().regex(/^\d{2,6}$/, 'a division code or prefix (2 to 6 digits)');

// The bodies of the reward's findings and decisions, as the API takes them; the workflow receives them with the actor.

export const preliminaryCheckBodySchema = z.strictObject({
  /** Whether the preliminary check found the report true (a violation is plausible). */
  passed: z.boolean(),
  note: text(2000).optional(),
});
export const confirmationBodySchema = z.discriminatedUnion('confirmed', [
  z.strictObject({
    confirmed: z.literal(true),
    severity: violationSeveritySchema,
    /** The penalty imposed for the violation, when known; the tier pays a share of it. */
    penaltyAmount: z.number().nonnegative().max(1e10).optional(),
    note: text(2000).optional(),
  }),
  z.strictObject({ confirmed: z.literal(false), note: text(2000).optional() }),
]);
export const paymentApprovalBodySchema = z.strictObject({
  decision: z.enum(['approved', 'rejected']),
  note: text(2000).optional(),
});
export type PreliminaryCheck = z.infer<typeof preliminaryCheckBodySchema> & { actor: Actor };
export type Confirmation = z.infer<typeof confirmationBodySchema> & { actor: Actor };
export type PaymentApproval = z.infer<typeof paymentApprovalBodySchema> & { actor: Actor; seq: number };

const leaderSchema = z.object({ id: text(200), name: text(200), organisation: text(200) });
export const assignLeadersBodySchema = z.strictObject({
  /** The leader from the environment system. */
  systemLeader: leaderSchema,
  /** The leader from the local (territorial) government. */
  territorialLeader: leaderSchema,
  /** Defaults to the policy's clearing deadline from now. */
  clearingDueAt: z.iso.datetime({ offset: true }).optional(),
  note: text(2000).optional(),
});
export type Leader = z.infer<typeof leaderSchema>;
export type AssignLeaders = z.infer<typeof assignLeadersBodySchema> & { actor: Actor };

export const campaignCriteriaSchema = z.object({
  categories: z.array(categorySchema).min(1).max(10),
  /** Division codes or prefixes ("37" a province, "3701" a city). */
  divisions: z.array(divisionPrefix).min(1).max(200),
  /** A case matches when its title or description contains any of them (none: every case of the categories and divisions). */
  keywords: z.array(text(100)).max(50).default([]),
});
export type CampaignCriteria = z.infer<typeof campaignCriteriaSchema>;

export const tightenBodySchema = z
  .strictObject({
    /** Multiply each tagged case's current handling or rework period by this factor... */
    factor: z.number().gt(0).max(1).optional(),
    /** ...or move it to this date at the latest. */
    dueBy: z.iso.datetime({ offset: true }).optional(),
    reason: text(2000),
  })
  .refine((t) => (t.factor === undefined) !== (t.dueBy === undefined), { message: 'give either factor or dueBy' });
export type Tighten = z.infer<typeof tightenBodySchema> & { actor: Actor };
