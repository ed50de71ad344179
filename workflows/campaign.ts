import {
  ApplicationFailure,
  allHandlersFinished,
  condition,
  continueAsNew,
  defineQuery,
  defineSignal,
  defineUpdate,
  proxyActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { createActivities } from '../activities';
import type { Actor } from '../domain/case';
import { addDuration, durationMs, type HolidayCalendar } from '../domain/calendar';
import {
  comparisonWindows,
  relativeChange,
  type CampaignCriteria,
  type DeadlineTightening,
  type Tighten,
} from '../domain/governance';
import type { CampaignPolicy } from '../domain/governance-policy';

import { INVALID_TRANSITION } from './contracts/errors';
/**
 * A campaign against a recurring problem (集中治理), e.g. road and construction dust: for its
 * period it tags the open cases that match its criteria (category, divisions, keywords), and the
 * new ones as they arrive, by querying the projection every `scanInterval`; it can tighten the
 * tagged cases' handling deadlines (a signal to each complaint workflow); it can be paused and
 * resumed; and it ends with a before/after comparison of complaint volume.
 */

const activities = proxyActivities<ReturnType<typeof createActivities>>({
  startToCloseTimeout: '5 minutes',
  heartbeatTimeout: '1 minute',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
});

export interface CampaignDefinition {
  name: string;
  criteria: CampaignCriteria;
  /** Epoch ms. */
  period: { from: number; to: number };
}

export interface CampaignInput {
  campaignId: string;
  definition: CampaignDefinition;
  policy: CampaignPolicy;
  calendar: HolidayCalendar;
  startedBy: Actor;
  /** Tighten the deadlines of every tagged case from the start. */
  tighten?: Omit<Tighten, 'actor'>;
  /** Tests only: continue-as-new after this many scans in one run. */
  continueAsNewAfterScans?: number;
}

export interface CampaignResult {
  campaignId: string;
  before: { from: string; to: string; count: number };
  during: { from: string; to: string; count: number };
  /** Relative change of the volume (-0.2 = 20% fewer complaints); null when there were none before. */
  change: number | null;
  tagged: number;
  tightened: number;
}

export type CampaignStatus = 'running' | 'paused' | 'finished';

interface CampaignState {
  campaignId: string;
  definition: CampaignDefinition;
  policy: CampaignPolicy;
  calendar: HolidayCalendar;
  startedBy: Actor;
  startedAt: number;
  status: CampaignStatus;
  tightening?: DeadlineTightening;
  tighteningVersion: number;
  tagged: number;
  tightened: number;
  scans: number;
  lastScanAt?: number;
  nextScanAt: number;
  scanRequested: boolean;
  /** The latest pause or resume, for the progress report. */
  lastControl?: { action: 'paused' | 'resumed'; by: string; at: number; reason?: string };
  runs: number;
  result?: CampaignResult;
}

export interface CampaignProgress {
  campaignId: string;
  name: string;
  status: CampaignStatus;
  criteria: CampaignCriteria;
  period: { from: string; to: string };
  tagged: number;
  tightened: number;
  tightening?: { key: string; factor?: number; dueBy?: string; reason: string };
  scans: number;
  lastScanAt?: string;
  nextScanAt?: string;
  lastControl?: { action: 'paused' | 'resumed'; by: string; at: string; reason?: string };
  /** How many workflow runs the campaign has spanned (continue-as-new). */
  runs: number;
  /** A scan is under way (a pause takes effect after it). */
  scanning: boolean;
  result?: CampaignResult;
}

export const campaignProgressQuery = defineQuery<CampaignProgress>('campaignProgress');
export const pauseCampaignSignal = defineSignal<[{ actor: Actor; reason?: string }]>('pauseCampaign');
export const resumeCampaignSignal = defineSignal<[{ actor: Actor }]>('resumeCampaign');
/** Look for matching cases now (instead of at the next scan). */
export const rescanCampaignSignal = defineSignal('rescanCampaign');
export const tightenCampaignUpdate = defineUpdate<CampaignProgress, [Tighten]>('tightenCampaign');

export function campaignWorkflowId(campaignId: string): string {
  return `campaign-${campaignId}`;
}

export async function campaignWorkflow(input: CampaignInput | { resume: CampaignState; continueAsNewAfterScans?: number }): Promise<CampaignResult> {
  const s: CampaignState = 'resume' in input ? input.resume : initialState(input);
  if ('resume' in input) s.runs++;
  const casAfterScans = input.continueAsNewAfterScans;
  const scansAtStart = s.scans;
  const { policy, definition } = s;
  let version = 0;
  let savedVersion = -1;
  let scanning = false;
  const touch = () => void version++;

  function setTightening(t: Omit<Tighten, 'actor'>, actor: Actor) {
    s.tighteningVersion++;
    s.tightening = {
      key: `${s.campaignId}:${s.tighteningVersion}`,
      campaignId: s.campaignId,
      ...(t.factor !== undefined && { factor: t.factor }),
      ...(t.dueBy !== undefined && { dueBy: Date.parse(t.dueBy) }),
      minimumRemainingMs: durationMs(policy.minimumRemaining),
      reason: t.reason,
      actor,
    };
    s.scanRequested = true;
    touch();
  }
  if (!('resume' in input) && input.tighten) setTightening(input.tighten, s.startedBy);

  const iso = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString());
  const progress = (): CampaignProgress => ({
    campaignId: s.campaignId,
    name: definition.name,
    status: s.status,
    criteria: definition.criteria,
    period: { from: iso(definition.period.from)!, to: iso(definition.period.to)! },
    tagged: s.tagged,
    tightened: s.tightened,
    tightening: s.tightening && {
      key: s.tightening.key,
      factor: s.tightening.factor,
      dueBy: iso(s.tightening.dueBy),
      reason: s.tightening.reason,
    },
    scans: s.scans,
    lastScanAt: iso(s.lastScanAt),
    nextScanAt: s.status === 'running' ? iso(s.nextScanAt) : undefined,
    lastControl: s.lastControl && { ...s.lastControl, at: iso(s.lastControl.at)! },
    runs: s.runs,
    scanning,
    result: s.result,
  });

  setHandler(campaignProgressQuery, progress);
  setHandler(pauseCampaignSignal, ({ actor, reason }) => {
    if (s.status !== 'running') return;
    s.status = 'paused';
    s.lastControl = { action: 'paused', by: actor.id, at: Date.now(), ...(reason && { reason }) };
    touch();
  });
  setHandler(resumeCampaignSignal, ({ actor }) => {
    if (s.status !== 'paused') return;
    s.status = 'running';
    s.lastControl = { action: 'resumed', by: actor.id, at: Date.now() };
    // Catch up at once with what arrived while paused.
    s.scanRequested = true;
    touch();
  });
  setHandler(rescanCampaignSignal, () => {
    s.scanRequested = true;
    touch();
  });
  setHandler(
    tightenCampaignUpdate,
    (u) => {
      setTightening(u, u.actor);
      return progress();
    },
    {
      validator: (u) => {
        const fail = (message: string): never => {
          throw ApplicationFailure.create({ type: INVALID_TRANSITION, message, nonRetryable: true, details: [{ status: s.status }] });
        };
        if (s.status === 'finished') fail('The campaign is finished.');
        const { min, max } = policy.tightenFactor;
        if (u.factor !== undefined && (u.factor < min || u.factor > max)) fail(`The factor must be from ${min} to ${max} (policy).`);
        if (u.dueBy !== undefined && Date.parse(u.dueBy) <= Date.now()) fail('The date must be in the future.');
      },
    },
  );

  const record = () => ({
    campaignId: s.campaignId,
    name: definition.name,
    criteria: definition.criteria,
    period: definition.period,
    status: s.status,
    startedBy: s.startedBy.id,
    startedAt: s.startedAt,
    tagged: s.tagged,
    tightened: s.tightened,
    result: s.result,
  });

  async function scan(): Promise<void> {
    const now = Date.now();
    s.scanRequested = false;
    scanning = true;
    try {
      s.tagged = await activities.tagCampaignCases({
        campaignId: s.campaignId,
        criteria: definition.criteria,
        startedAt: s.startedAt,
        now,
        batchSize: policy.batchSize,
      });
      if (s.tightening) s.tightened = await activities.tightenCampaignCases({ tightening: s.tightening, batchSize: policy.batchSize });
    } finally {
      scanning = false;
    }
    s.scans++;
    s.lastScanAt = now;
    s.nextScanAt = addDuration(now, policy.scanInterval, s.calendar);
    touch();
  }

  for (;;) {
    if (savedVersion !== version) {
      savedVersion = version;
      await activities.saveCampaign(record());
      continue;
    }
    const now = Date.now();
    if (now >= definition.period.to) break;
    if (s.status === 'running' && (s.scanRequested || now >= s.nextScanAt)) {
      await scan();
      continue;
    }
    if (workflowInfo().continueAsNewSuggested || (casAfterScans !== undefined && s.scans - scansAtStart >= casAfterScans)) {
      await condition(allHandlersFinished);
      await continueAsNew<typeof campaignWorkflow>({ resume: s, continueAsNewAfterScans: casAfterScans });
    }
    const wakeAt = s.status === 'running' ? Math.min(s.nextScanAt, definition.period.to) : definition.period.to;
    const seen = version;
    await condition(() => version !== seen, wakeAt - now);
  }

  const windows = comparisonWindows(definition.period, policy);
  const volume = await activities.compareComplaintVolume({ criteria: definition.criteria, ...windows });
  s.status = 'finished';
  s.result = {
    campaignId: s.campaignId,
    before: { from: iso(volume.before.from)!, to: iso(volume.before.to)!, count: volume.before.count },
    during: { from: iso(volume.during.from)!, to: iso(volume.during.to)!, count: volume.during.count },
    change: relativeChange(volume.before.count, volume.during.count) ?? null,
    tagged: s.tagged,
    tightened: s.tightened,
  };
  await activities.saveCampaign(record());
  await condition(allHandlersFinished);
  return s.result;
}

function initialState(input: CampaignInput): CampaignState {
  const now = Date.now();
  return {
    campaignId: input.campaignId,
    definition: input.definition,
    policy: input.policy,
    calendar: input.calendar,
    startedBy: input.startedBy,
    startedAt: now,
    status: 'running',
    tighteningVersion: 0,
    tagged: 0,
    tightened: 0,
    scans: 0,
    nextScanAt: now,
    scanRequested: true,
    runs: 1,
  };
}
