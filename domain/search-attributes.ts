import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import type { SearchAttributeKey, SearchAttributeUpdatePair, TypedSearchAttributes } from '@temporalio/common/lib/search-attributes';
import type { CaseState, CaseView } from './case';
import { complaintSummary } from './workflow-summaries';

/**
 * The custom search attributes a complaint workflow keeps current, so an operator can filter cases
 * in the Temporal UI (for example `EcoStatus="handling" AND EcoOverdue=true`). Declared once here;
 * `npm start` registers them on the dev server and the worker registers them on any other server.
 */
export const caseStatusKey = defineSearchAttributeKey('EcoStatus', SearchAttributeType.KEYWORD);
export const categoryKey = defineSearchAttributeKey('EcoCategory', SearchAttributeType.KEYWORD);
export const divisionKey = defineSearchAttributeKey('EcoDivision', SearchAttributeType.KEYWORD);
export const unitKey = defineSearchAttributeKey('EcoUnit', SearchAttributeType.KEYWORD);
export const ownerKey = defineSearchAttributeKey('EcoOwner', SearchAttributeType.KEYWORD);
export const escalationLevelKey = defineSearchAttributeKey('EcoEscalationLevel', SearchAttributeType.INT);
export const nextDeadlineKey = defineSearchAttributeKey('EcoNextDeadline', SearchAttributeType.DATETIME);
export const overdueKey = defineSearchAttributeKey('EcoOverdue', SearchAttributeType.BOOL);
/**
 * The case's summary line ("Case <id> · <category> · division <code>", domain/workflow-summaries.ts),
 * for a column of the Temporal UI's workflow list: the UI (2.54.1) lists no workflow's user-metadata
 * summary, only fixed columns and custom search attributes (docs/operations.md). Nothing in it is
 * not already in EcoCategory and EcoDivision; it never names the reporter. It rides in the upserts
 * the workflow already makes, without `patched()`: replay matches an upsert command by its kind, not
 * by its attributes (test/replay.test.ts replays the histories recorded without EcoSummary).
 */
export const summaryKey = defineSearchAttributeKey('EcoSummary', SearchAttributeType.KEYWORD);
/**
 * True while the read model refuses the case's events (a projection failed with an error retrying
 * cannot fix; see docs/operations.md): `EcoAttention = true` lists the cases operations must look at.
 * Unset on every other case. Not part of the read model, so `npm run ops:check` does not compare it.
 */
export const attentionKey = defineSearchAttributeKey('EcoAttention', SearchAttributeType.BOOL);

export const allSearchAttributes: SearchAttributeKey<SearchAttributeType>[] = [
  caseStatusKey,
  categoryKey,
  divisionKey,
  unitKey,
  ownerKey,
  escalationLevelKey,
  nextDeadlineKey,
  overdueKey,
  summaryKey,
  attentionKey,
];

/** `temporal server start-dev --search-attribute NAME=TYPE` spelling of each type. */
const cliTypeName: Record<SearchAttributeType, string> = {
  TEXT: 'Text',
  KEYWORD: 'Keyword',
  INT: 'Int',
  DOUBLE: 'Double',
  BOOL: 'Bool',
  DATETIME: 'Datetime',
  KEYWORD_LIST: 'KeywordList',
};

export function devServerSearchAttributeArgs(): string[] {
  return allSearchAttributes.flatMap((key) => ['--search-attribute', `${key.name}=${cliTypeName[key.type]}`]);
}

// ---- What a case's attributes are: the one rule, for the workflow and for `npm run ops:check` ----

/** A complaint's search attributes by name, as plain JSON (the deadline as an ISO instant; null: unset). */
export interface CaseSearchAttributes {
  EcoStatus: string;
  EcoCategory: string;
  EcoDivision: string;
  EcoUnit: string | null;
  EcoOwner: string;
  EcoEscalationLevel: number;
  EcoNextDeadline: string | null;
  EcoOverdue: boolean;
  EcoSummary: string;
}

export type CaseSearchAttributeName = keyof CaseSearchAttributes;

/** What a workflow carries: any attribute may be missing (null), whatever its type. */
export type FoundSearchAttributes = { [K in CaseSearchAttributeName]: CaseSearchAttributes[K] | null };

interface CaseFacts {
  caseId: string;
  status: string;
  category: string;
  divisionCode: string;
  unitId?: string;
  ownerId: string;
  escalationLevel: number;
  /** The running deadline, epoch ms. */
  dueAt?: number;
  overdue: boolean;
}

function caseSearchAttributes(c: CaseFacts): CaseSearchAttributes {
  return {
    EcoStatus: c.status,
    EcoCategory: c.category,
    EcoDivision: c.divisionCode,
    EcoUnit: c.unitId ?? null,
    EcoOwner: c.ownerId,
    EcoEscalationLevel: c.escalationLevel,
    EcoNextDeadline: c.dueAt === undefined ? null : new Date(c.dueAt).toISOString(),
    EcoOverdue: c.overdue,
    EcoSummary: complaintSummary({ caseId: c.caseId, category: c.category, divisionCode: c.divisionCode }),
  };
}

/** The attributes a complaint workflow upserts from its state. Overdue: the escalation ladder has started on the running clock. */
export function searchAttributesOfState(s: CaseState): CaseSearchAttributes {
  return caseSearchAttributes({
    caseId: s.caseId,
    status: s.status,
    category: s.intake.category,
    divisionCode: s.intake.divisionCode,
    unitId: s.unitId,
    ownerId: s.owner.id,
    escalationLevel: s.escalationLevel,
    dueAt: s.clock?.dueAt,
    overdue: !!s.clock && s.clock.overdueSteps > 0,
  });
}

/**
 * The attributes the read model says a case's workflow carries: the view its last projection wrote.
 * Overdue there is "past the deadline when projected"; the ladder's first step fires at the deadline
 * (policy `ladder.supervision`, 0 by default) and is projected in the same task, so the two agree,
 * unless that task ran in the very millisecond of the deadline (a time-skipping test server can).
 */
export function searchAttributesOfView(v: CaseView): CaseSearchAttributes {
  return caseSearchAttributes({
    caseId: v.caseId,
    status: v.status,
    category: v.category,
    divisionCode: v.divisionCode,
    unitId: v.unitId ?? undefined,
    ownerId: v.owner.id,
    escalationLevel: v.escalationLevel,
    dueAt: v.deadline ? Date.parse(v.deadline.dueAt) : undefined,
    overdue: v.deadline?.overdue ?? false,
  });
}

/** The pairs `upsertSearchAttributes` takes: every attribute, null ones removed from the workflow. */
export function searchAttributeUpdates(a: CaseSearchAttributes): SearchAttributeUpdatePair[] {
  return [
    { key: caseStatusKey, value: a.EcoStatus },
    { key: categoryKey, value: a.EcoCategory },
    { key: divisionKey, value: a.EcoDivision },
    { key: unitKey, value: a.EcoUnit },
    { key: ownerKey, value: a.EcoOwner },
    { key: escalationLevelKey, value: a.EcoEscalationLevel },
    { key: nextDeadlineKey, value: a.EcoNextDeadline === null ? null : new Date(a.EcoNextDeadline) },
    { key: overdueKey, value: a.EcoOverdue },
    { key: summaryKey, value: a.EcoSummary },
  ];
}

/** The pair that sets `EcoAttention` (true) or removes it. */
export function attentionUpdate(attention: boolean): SearchAttributeUpdatePair {
  return { key: attentionKey, value: attention ? true : null };
}

/** What a workflow carries, read from its typed search attributes (a list entry or a describe). */
export function foundSearchAttributes(found: Pick<TypedSearchAttributes, 'get'>): FoundSearchAttributes {
  const deadline = found.get(nextDeadlineKey);
  return {
    EcoStatus: found.get(caseStatusKey) ?? null,
    EcoCategory: found.get(categoryKey) ?? null,
    EcoDivision: found.get(divisionKey) ?? null,
    EcoUnit: found.get(unitKey) ?? null,
    EcoOwner: found.get(ownerKey) ?? null,
    EcoEscalationLevel: found.get(escalationLevelKey) ?? null,
    EcoNextDeadline: deadline ? deadline.toISOString() : null,
    EcoOverdue: found.get(overdueKey) ?? null,
    EcoSummary: found.get(summaryKey) ?? null,
  };
}

export interface SearchAttributeDifference {
  attribute: CaseSearchAttributeName;
  workflow: string | number | boolean | null;
  readModel: string | number | boolean | null;
}

/** Each attribute whose value on the workflow is not the expected one (instants compared to the millisecond). */
export function searchAttributeDifferences(found: FoundSearchAttributes, expected: CaseSearchAttributes): SearchAttributeDifference[] {
  const same = (name: CaseSearchAttributeName) => {
    const [a, b] = [found[name], expected[name]];
    if (name === 'EcoNextDeadline' && typeof a === 'string' && typeof b === 'string') return Date.parse(a) === Date.parse(b);
    return a === b;
  };
  return (Object.keys(expected) as CaseSearchAttributeName[])
    .filter((name) => !same(name))
    .map((name) => ({ attribute: name, workflow: found[name], readModel: expected[name] }));
}
