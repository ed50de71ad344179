import { TypedSearchAttributes } from '@temporalio/common';
import { toView, type CaseState } from '../../domain/case';
import { initialState } from '../../domain/complaint-lifecycle';
import { newClock } from '../../domain/deadlines';
import { casePolicy, defaultPolicy } from '../../domain/policy';
import {
  foundSearchAttributes,
  searchAttributeDifferences,
  searchAttributesOfState,
  searchAttributesOfView,
  searchAttributeUpdates,
  type CaseSearchAttributes,
} from '../../domain/search-attributes';
import { complaintStartMetadata } from '../../domain/workflow-summaries';

const DAY = 86_400_000;
const T0 = Date.UTC(2026, 2, 2, 2, 0, 0);

function state(overrides: Partial<CaseState> = {}): CaseState {
  const registered = initialState({
    caseId: 'EC-2026-0000001',
    intake: {
      channel: 'web',
      category: 'water',
      urgency: 'normal',
      divisionCode: '370112',
      title: 't',
      description: 'd',
      location: {},
      reporter: { anonymous: true, consentToShareWithUnit: false },
      missing: [],
    },
    policy: casePolicy(defaultPolicy, 'water', 'normal'),
    owner: { id: 'clerk-li', role: 'clerk' },
    receivedAt: T0,
  });
  return {
    ...registered,
    status: 'handling',
    unitId: 'licheng-bureau',
    escalationLevel: 1,
    clock: newClock('handle', T0, T0 + 60 * DAY),
    ...overrides,
  };
}

const expected: CaseSearchAttributes = {
  EcoStatus: 'handling',
  EcoCategory: 'water',
  EcoDivision: '370112',
  EcoUnit: 'licheng-bureau',
  EcoOwner: 'clerk-li',
  EcoEscalationLevel: 1,
  EcoNextDeadline: new Date(T0 + 60 * DAY).toISOString(),
  EcoOverdue: false,
  EcoSummary: 'Case EC-2026-0000001 · water · division 370112',
};

describe('the search attributes of a case (domain/search-attributes.ts)', () => {
  test('when a workflow state is projected, then the attributes from the state and from the projected view are the same', () => {
    const s = state();
    expect(searchAttributesOfState(s)).toEqual(expected);
    expect(searchAttributesOfView(toView(s, T0 + DAY))).toEqual(expected);
  });

  test('when the ladder has started on the running clock, then both sides say overdue', () => {
    const s = state({ clock: { ...newClock('handle', T0, T0 + 60 * DAY), overdueSteps: 1 } });
    expect(searchAttributesOfState(s).EcoOverdue).toBe(true);
    expect(searchAttributesOfView(toView(s, T0 + 60 * DAY + 1)).EcoOverdue).toBe(true);
  });

  test('when a case has no unit and no running clock, then EcoUnit and EcoNextDeadline are unset and it is not overdue', () => {
    const s = state({ status: 'archived', unitId: undefined, clock: undefined });
    const a = searchAttributesOfState(s);
    expect(a).toMatchObject({ EcoStatus: 'archived', EcoUnit: null, EcoNextDeadline: null, EcoOverdue: false });
    expect(searchAttributesOfView(toView(s, T0))).toEqual(a);
  });

  test('when the attributes are upserted and read back as a workflow carries them, then nothing differs', () => {
    const updates = searchAttributeUpdates(expected);
    expect(updates.map((u) => u.key.name)).toEqual([
      'EcoStatus',
      'EcoCategory',
      'EcoDivision',
      'EcoUnit',
      'EcoOwner',
      'EcoEscalationLevel',
      'EcoNextDeadline',
      'EcoOverdue',
      'EcoSummary',
    ]);
    const carried = new TypedSearchAttributes().updateCopy(updates);
    expect(foundSearchAttributes(carried)).toEqual(expected);
    expect(searchAttributeDifferences(foundSearchAttributes(carried), expected)).toEqual([]);
  });

  test('when a null attribute is upserted, then the workflow carries none and it reads back as null', () => {
    const carried = new TypedSearchAttributes().updateCopy(searchAttributeUpdates({ ...expected, EcoUnit: null, EcoNextDeadline: null }));
    expect(foundSearchAttributes(carried)).toMatchObject({ EcoUnit: null, EcoNextDeadline: null });
  });

  test('when one attribute was broken or is missing, then exactly that attribute differs, with both values', () => {
    const found = { ...foundSearchAttributes(new TypedSearchAttributes().updateCopy(searchAttributeUpdates(expected))) };
    found.EcoStatus = 'pending_acceptance';
    found.EcoOverdue = null;
    expect(searchAttributeDifferences(found, expected)).toEqual([
      { attribute: 'EcoStatus', workflow: 'pending_acceptance', readModel: 'handling' },
      { attribute: 'EcoOverdue', workflow: null, readModel: false },
    ]);
  });

  test('when a case is registered, then EcoSummary is the summary line of its workflow start, from the state and from the view', () => {
    const s = state({ intake: { ...state().intake, category: 'solid_waste' } });
    const summary = searchAttributesOfState(s).EcoSummary;
    expect(summary).toBe('Case EC-2026-0000001 · solid waste · division 370112');
    expect(summary).toBe(complaintStartMetadata(s).staticSummary);
    expect(searchAttributesOfView(toView(s, T0)).EcoSummary).toBe(summary);
  });

  test('when a deadline is spelled differently but is the same instant, then it does not differ', () => {
    const found = { ...expected, EcoNextDeadline: expected.EcoNextDeadline!.replace('.000Z', '+00:00') };
    expect(searchAttributeDifferences(found, expected)).toEqual([]);
    expect(searchAttributeDifferences({ ...expected, EcoNextDeadline: new Date(T0).toISOString() }, expected)).toHaveLength(1);
  });
});
