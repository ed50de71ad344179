import type { Actor, CaseState } from '../../domain/case';
import * as lifecycle from '../../domain/complaint-lifecycle';
import { nextTrigger } from '../../domain/deadlines';
import { casePolicy, defaultPolicy } from '../../domain/policy';
import {
  complaintDetails,
  complaintStartMetadata,
  complaintTimerSummary,
  detailLines,
  projectionSummary,
  warningWatcherSummary,
} from '../../domain/workflow-summaries';

/**
 * What the Temporal UI shows of a workflow (domain/workflow-summaries.ts), from the complaint state
 * machine's own states: no Temporal, no database.
 */

const T0 = Date.UTC(2026, 2, 2, 2, 0, 0); // Mon 2 March 2026, 10:00 in China
const clerk: Actor = { id: 'clerk-1', role: 'clerk' };
const REPORTER = { anonymous: false, name: 'Li Wei', phone: '13900001111', email: 'li@example.org', address: '7 Quiet Lane' };

function newCase(): CaseState {
  return lifecycle.initialState({
    caseId: 'EC-2026-0000001',
    intake: {
      channel: 'web',
      category: 'solid_waste',
      urgency: 'normal',
      divisionCode: '370102',
      title: 'Waste burnt behind the market',
      description: 'Every night',
      location: {},
      reporter: { ...REPORTER, consentToShareWithUnit: false },
      missing: [],
    },
    policy: casePolicy(defaultPolicy, 'solid_waste', 'normal'),
    owner: clerk,
    receivedAt: T0,
  });
}

/** A case put up for acceptance: the acceptance clock runs. */
function pending(): CaseState {
  const registered = lifecycle.register(newCase(), T0).state;
  return lifecycle.registerForAcceptance(registered, T0, T0).state;
}

describe('complaint start metadata', () => {
  test('when a complaint starts, then its summary names the case number, category and division, and its details the title', () => {
    const m = complaintStartMetadata(newCase());
    expect(m.staticSummary).toBe('Case EC-2026-0000001 · solid waste · division 370102');
    expect(m.staticDetails).toContain('Waste burnt behind the market');
  });

  test('when the reporter is named, then neither summary nor details carry any of their fields', () => {
    const m = complaintStartMetadata(newCase());
    const text = `${m.staticSummary}\n${m.staticDetails}`;
    for (const value of Object.values(REPORTER).filter((v) => typeof v === 'string')) expect(text).not.toContain(value);
  });
});

describe('complaint current details', () => {
  test('when a case awaits acceptance, then its details say so, with the acceptance deadline and no unit', () => {
    const s = pending();
    const details = complaintDetails(s);
    expect(details.split('\n\n')[0]).toBe('Case EC-2026-0000001 · solid waste · division 370102');
    expect(details).toContain('**Status:** pending acceptance');
    expect(details).toContain('**Unit:** none yet');
    expect(details).toContain(`**Deadline:** acceptance deadline due ${new Date(s.clock!.dueAt).toISOString()}`);
    expect(details).toContain('**Escalation:** none (level 0)');
  });

  test('when the case is accepted, then its details change to handling, the unit and the handling deadline', () => {
    const before = pending();
    const s = lifecycle.accept(before, { actor: clerk, unitId: 'unit-a' }, T0 + 3_600_000).state;
    const details = complaintDetails(s);
    expect(details).not.toBe(complaintDetails(before));
    expect(details).toContain('**Status:** handling');
    expect(details).toContain('**Unit:** unit-a');
    expect(details).toContain('**Deadline:** handling deadline due');
  });

  test('when the acceptance deadline has passed, then the details show it overdue at the escalation level reached', () => {
    let s = pending();
    for (let step = 0; step < 2; step++) {
      let t = nextTrigger(s)!;
      while (t.kind !== 'ladder') {
        s = lifecycle.fire(s, t).state;
        t = nextTrigger(s)!;
      }
      s = lifecycle.fire(s, t).state;
    }
    const details = complaintDetails(s);
    expect(details).toMatch(/\*\*Deadline:\*\* acceptance deadline due \S+, overdue/);
    expect(details).toContain('**Escalation:** city (level 2)');
  });

  test('when the reporter is named, then the details carry none of their fields', () => {
    const details = complaintDetails(pending());
    for (const value of Object.values(REPORTER).filter((v) => typeof v === 'string')) expect(details).not.toContain(value);
  });
});

describe('complaint timer summaries', () => {
  test('when the acceptance clock runs, then its timers read as the warning, the deadline and each escalation step', () => {
    let s = pending();
    const seen: string[] = [];
    for (let t = nextTrigger(s); t && seen.length < 4; t = nextTrigger(s)) {
      seen.push(complaintTimerSummary(s, t));
      s = lifecycle.fire(s, t).state;
    }
    expect(seen).toEqual([
      'warning before the acceptance deadline',
      'acceptance deadline: escalation to supervision',
      'escalation to the city (acceptance deadline passed)',
      'escalation to the province (acceptance deadline passed)',
    ]);
  });

  test('when a supplement clock runs, then its timer is the supplement deadline', () => {
    const s = lifecycle.register({ ...newCase(), intake: { ...newCase().intake, missing: ['location'] } }, T0).state;
    expect(s.status).toBe('awaiting_supplement');
    expect(complaintTimerSummary(s, nextTrigger(s)!)).toBe('supplement deadline');
  });
});

describe('projection summaries', () => {
  test('when events 5 to 7 are projected, then the activity reads "project events 5–7"', () => {
    expect(projectionSummary([{ seq: 5 }, { seq: 6 }, { seq: 7 }])).toBe('project events 5–7');
    expect(projectionSummary([{ seq: 3 }])).toBe('project event 3');
  });
});

describe('other workflows', () => {
  test('when details are listed, then fields without a value are left out', () => {
    expect(
      detailLines([
        ['Status', 'running'],
        ['Next', undefined],
        ['Tagged', 0],
        ['Empty', ''],
      ]),
    ).toBe('**Status:** running\n\n**Tagged:** 0');
    expect(detailLines([['Status', 'running']], 'Campaign CP-1: Dust')).toBe('Campaign CP-1: Dust\n\n**Status:** running');
  });

  test('when a watcher watches a site, then its summary names the kind, category and area key, not its address', () => {
    const summary = warningWatcherSummary({ kind: 'repeated', category: 'dust', area: { kind: 'site', key: 'site-9' } });
    expect(summary).toBe('Warning watcher (repeated) · dust · site site-9');
  });
});
