/**
 * The campaign workflow's contract (workflows/campaign.ts): its messages, id function, input and
 * output types. No workflow code: the API and tests import this module, never the workflow.
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { Actor } from '../../domain/case';
import type { HolidayCalendar } from '../../domain/calendar';
import type { CampaignCriteria, DeadlineTightening, Tighten } from '../../domain/governance';
import type { CampaignPolicy } from '../../domain/governance-policy';

export { campaignWorkflowId } from '../../domain/governance';
export { INVALID_TRANSITION } from './errors';

/** The workflow type, as registered by the worker. */
export const CAMPAIGN_WORKFLOW = 'campaignWorkflow';

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

/** The state a campaign carries across continue-as-new. */
export interface CampaignState {
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

export type CampaignWorkflowInput = CampaignInput | { resume: CampaignState; continueAsNewAfterScans?: number };

/** The workflow's signature, for starting it by type name without importing its implementation. */
export type CampaignWorkflow = (input: CampaignWorkflowInput) => Promise<CampaignResult>;
