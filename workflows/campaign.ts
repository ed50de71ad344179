import {
  ApplicationFailure,
  allHandlersFinished,
  condition,
  continueAsNew,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { createActivities } from '../activities';
import type { Actor } from '../domain/case';
import { addDuration, durationMs } from '../domain/calendar';
import { campaignLimitBreach, comparisonWindows, relativeChange, type Tighten } from '../domain/governance';
import { iso } from '../domain/instant';
import { campaignSummary, detailLines } from '../domain/workflow-summaries';
import {
  campaignProgressQuery,
  pauseCampaignSignal,
  rescanCampaignSignal,
  resumeCampaignSignal,
  tightenCampaignUpdate,
  type CampaignInput,
  type CampaignProgress,
  type CampaignResult,
  type CampaignState,
  type CampaignWorkflowInput,
} from './contracts/campaign';
import { INVALID_TRANSITION } from './contracts/errors';

/**
 * A campaign against a recurring problem (集中治理), e.g. road and construction dust: for its
 * period it tags the open cases that match its criteria (category, divisions, keywords), and the
 * new ones as they arrive, by querying the projection every `scanInterval`; it can tighten the
 * tagged cases' handling deadlines (a signal to each complaint workflow); it can be paused and
 * resumed; and it ends with a before/after comparison of complaint volume.
 */

/** The activities, with the summary the Temporal UI shows on the call. */
const activities = (summary: string) =>
  proxyActivities<ReturnType<typeof createActivities>>({
    summary,
    startToCloseTimeout: '5 minutes',
    heartbeatTimeout: '1 minute',
    retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
  });

export async function campaignWorkflow(input: CampaignWorkflowInput): Promise<CampaignResult> {
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

  /** The current details the Temporal UI shows: status, cases tagged and tightened, the next scan. */
  function showDetails(): void {
    const p = progress();
    setCurrentDetails(
      detailLines(
        [
          ['Status', p.status],
          ['Period', `${p.period.from} to ${p.period.to}`],
          ['Tagged', p.tagged],
          ['Tightened', p.tightening ? p.tightened : undefined],
          ['Scans', p.scans],
          ['Next scan', p.nextScanAt],
        ],
        campaignSummary({ campaignId: s.campaignId, name: definition.name, categories: definition.criteria.categories }),
      ),
    );
  }
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
        const dueBy = u.dueBy === undefined ? undefined : Date.parse(u.dueBy);
        const breach = campaignLimitBreach(policy, { factor: u.factor, dueBy }, Date.now());
        if (breach) fail(breach);
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
      s.tagged = await activities('tag the open cases that match').tagCampaignCases({
        campaignId: s.campaignId,
        criteria: definition.criteria,
        startedAt: s.startedAt,
        now,
        batchSize: policy.batchSize,
      });
      if (s.tightening)
        s.tightened = await activities("tighten the tagged cases' deadlines").tightenCampaignCases({
          tightening: s.tightening,
          batchSize: policy.batchSize,
        });
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
      await activities('save the campaign').saveCampaign(record());
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
    showDetails();
    const summary = wakeAt < definition.period.to ? 'next scan' : 'end of the campaign period';
    await condition(() => version !== seen, wakeAt - now, { summary });
  }

  const windows = comparisonWindows(definition.period, policy);
  const volume = await activities('compare complaint volume before and during').compareComplaintVolume({
    criteria: definition.criteria,
    ...windows,
  });
  s.status = 'finished';
  s.result = {
    campaignId: s.campaignId,
    before: { from: iso(volume.before.from)!, to: iso(volume.before.to)!, count: volume.before.count },
    during: { from: iso(volume.during.from)!, to: iso(volume.during.to)!, count: volume.during.count },
    change: relativeChange(volume.before.count, volume.during.count) ?? null,
    tagged: s.tagged,
    tightened: s.tightened,
  };
  await activities('save the campaign').saveCampaign(record());
  showDetails();
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
