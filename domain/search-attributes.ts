import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import type { SearchAttributeKey } from '@temporalio/common/lib/search-attributes';

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

export const allSearchAttributes: SearchAttributeKey<SearchAttributeType>[] = [
  caseStatusKey,
  categoryKey,
  divisionKey,
  unitKey,
  ownerKey,
  escalationLevelKey,
  nextDeadlineKey,
  overdueKey,
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
