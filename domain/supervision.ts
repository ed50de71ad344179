import { z } from 'zod';
import { actorSchema, text } from './case';

/**
 * The decisions of supervision: a reviewer's desk-check result and an inspector's on-site finding.
 * Validated at the API edge and again by the workflows' update validators.
 */

const deskReviewFields = z.object({
  actor: actorSchema,
  caseId: text(100),
  /** Whether the unit's handling and reply comply with the rules. */
  compliant: z.boolean(),
  /** What is wrong; required when not compliant (the unit is told). */
  finding: text(4000).optional(),
});
const findingWhenNonCompliant = (r: { compliant: boolean; finding?: string }) => r.compliant || r.finding !== undefined;
const findingMissing = { path: ['finding'], message: 'a non-compliant review must say what is wrong' };
export const deskReviewSchema = deskReviewFields.refine(findingWhenNonCompliant, findingMissing);
export type DeskReview = z.infer<typeof deskReviewSchema>;
/** The API body: the actor comes from the token, the case from the path. */
export const deskReviewBodySchema = deskReviewFields
  .omit({ actor: true, caseId: true })
  .strict()
  .refine(findingWhenNonCompliant, findingMissing);

export const inspectionFindings = ['rectified', 'not_rectified', 'false_report'] as const;
export type InspectionFinding = (typeof inspectionFindings)[number];

const findingFields = z.object({
  actor: actorSchema,
  finding: z.enum(inspectionFindings),
  note: text(4000).optional(),
  /** Who answers for a case not rectified or falsely reported (kept in the accountability record, not published). */
  responsiblePerson: text(200).optional(),
});
const accountableWhenFailed = (f: { finding: InspectionFinding; note?: string; responsiblePerson?: string }) =>
  f.finding === 'rectified' || (f.note !== undefined && f.responsiblePerson !== undefined);
const accountabilityMissing = {
  path: ['responsiblePerson'],
  message: 'a case not rectified or falsely reported needs a note and the responsible person',
};
export const findingSchema = findingFields.refine(accountableWhenFailed, accountabilityMissing);
export type InspectionFindingInput = z.infer<typeof findingSchema>;
/** The API body: the actor comes from the token. */
export const findingBodySchema = findingFields.omit({ actor: true }).strict().refine(accountableWhenFailed, accountabilityMissing);
