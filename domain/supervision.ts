import { roles } from './case';

/**
 * The decisions of supervision: a reviewer's desk-check result and an inspector's on-site finding.
 * Validated at the API edge (domain/schemas/supervision.ts) and again by the workflows' update
 * validators, with the plain checks below: no schema library in the workflow bundle.
 */

// Inferred from the API's schemas; type-only, so no zod in the workflow bundle.
export type { DeskReview, InspectionFindingInput } from './schemas/supervision';

export const inspectionFindings = ['rectified', 'not_rectified', 'false_report'] as const;
export type InspectionFinding = (typeof inspectionFindings)[number];

/** A non-compliant desk review says what is wrong. */
export const findingWhenNonCompliant = (r: { compliant: boolean; finding?: string }) => r.compliant || r.finding !== undefined;
export const findingMissing = { path: ['finding'], message: 'a non-compliant review must say what is wrong' };

/** A case found not rectified or falsely reported names who answers for it. */
export const accountableWhenFailed = (f: { finding: InspectionFinding; note?: string; responsiblePerson?: string }) =>
  f.finding === 'rectified' || (f.note !== undefined && f.responsiblePerson !== undefined);
export const accountabilityMissing = {
  path: ['responsiblePerson'],
  message: 'a case not rectified or falsely reported needs a note and the responsible person',
};

type Fields = Record<string, unknown>;
const isFields = (v: unknown): v is Fields => typeof v === 'object' && v !== null && !Array.isArray(v);
/** Text as the schemas take it: a string of 1 to `max` characters once trimmed. */
const textIssue = (v: unknown, name: string, max: number, optional = false): string[] => {
  if (v === undefined && optional) return [];
  if (typeof v !== 'string') return [`${name}: expected text`];
  const length = v.trim().length;
  return length >= 1 && length <= max ? [] : [`${name}: from 1 to ${max} characters`];
};
const actorIssues = (v: unknown): string[] =>
  isFields(v) && typeof v.id === 'string' && v.id.length >= 1 && v.id.length <= 200 && (roles as readonly unknown[]).includes(v.role)
    ? []
    : ['actor: expected an id and a role'];

/** What is wrong with a desk review, as the update validator sees it (empty: nothing). */
export function deskReviewIssues(r: unknown): string[] {
  if (!isFields(r)) return ['expected an object'];
  const issues = [...actorIssues(r.actor), ...textIssue(r.caseId, 'caseId', 100), ...textIssue(r.finding, 'finding', 4000, true)];
  if (typeof r.compliant !== 'boolean') issues.push('compliant: expected true or false');
  else if (issues.length === 0 && !findingWhenNonCompliant(r as { compliant: boolean; finding?: string }))
    issues.push(findingMissing.message);
  return issues;
}

/** What is wrong with an inspection finding, as the update validator sees it (empty: nothing). */
export function findingIssues(f: unknown): string[] {
  if (!isFields(f)) return ['expected an object'];
  const issues = [
    ...actorIssues(f.actor),
    ...textIssue(f.note, 'note', 4000, true),
    ...textIssue(f.responsiblePerson, 'responsiblePerson', 200, true),
  ];
  if (!(inspectionFindings as readonly unknown[]).includes(f.finding)) issues.push(`finding: one of ${inspectionFindings.join(', ')}`);
  else if (issues.length === 0 && !accountableWhenFailed(f as { finding: InspectionFinding; note?: string; responsiblePerson?: string })) {
    issues.push(accountabilityMissing.message);
  }
  return issues;
}
