import { z } from 'zod';
import { accountabilityMissing, accountableWhenFailed, findingMissing, findingWhenNonCompliant, inspectionFindings } from '../supervision';
import { actorSchema, text } from './case';

/**
 * The decisions of supervision as the API takes them: a reviewer's desk-check result and an
 * inspector's on-site finding. The workflows' update validators check the same rules without zod
 * (domain/supervision.ts deskReviewIssues, findingIssues).
 */

const deskReviewFields = z.object({
  actor: actorSchema,
  caseId: text(100),
  /** Whether the unit's handling and reply comply with the rules. */
  compliant: z.boolean(),
  /** What is wrong; required when not compliant (the unit is told). */
  finding: text(4000).optional(),
});
export const deskReviewSchema = deskReviewFields.refine(findingWhenNonCompliant, findingMissing);
export type DeskReview = z.infer<typeof deskReviewSchema>;
/** The API body: the actor comes from the token, the case from the path. */
export const deskReviewBodySchema = deskReviewFields
  .omit({ actor: true, caseId: true })
  .strict()
  .refine(findingWhenNonCompliant, findingMissing);

const findingFields = z.object({
  actor: actorSchema,
  finding: z.enum(inspectionFindings),
  note: text(4000).optional(),
  /** Who answers for a case not rectified or falsely reported (kept in the accountability record, not published). */
  responsiblePerson: text(200).optional(),
});
export const findingSchema = findingFields.refine(accountableWhenFailed, accountabilityMissing);
export type InspectionFindingInput = z.infer<typeof findingSchema>;
/** The API body: the actor comes from the token. */
export const findingBodySchema = findingFields.omit({ actor: true }).strict().refine(accountableWhenFailed, accountabilityMissing);
