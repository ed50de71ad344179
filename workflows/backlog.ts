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
import { addDuration } from '../domain/calendar';
import { backlogListingFinished, clearingDueAt, clearingReminderAt, localYear } from '../domain/governance';
import { iso } from '../domain/instant';
import { backlogCaseSummary, detailLines } from '../domain/workflow-summaries';
import {
  assignLeadersUpdate,
  backlogStatusQuery,
  checkBacklogSignal,
  type BacklogCaseInput,
  type BacklogCaseState,
  type BacklogCaseView,
  type BacklogSweepInput,
  type BacklogSweepResult,
} from './contracts/backlog';
import { INVALID_TRANSITION } from './contracts/errors';

/**
 * Backlog cases (积案). Two workflows:
 *
 * - `backlogSweepWorkflow`, started by two Schedules (worker/governance-schedules.ts): the daily
 *   scan lists new backlog as it appears (open cases overdue past the threshold, reopened often
 *   enough, or taken to the provincial step, read from the projection); the yearly sort re-lists the
 *   uncleared backlog younger than the re-sort window for the new year. Both then start one
 *   `backlogCaseWorkflow` per new listing.
 * - `backlogCaseWorkflow` (id `backlog-<caseId>-<year>`), one per listing: waits for its two
 *   leaders (system and territorial; the `assignLeaders` update, with a reminder to the
 *   supervisors if they do not come), then runs the clearing deadline as a durable timer with a
 *   reminder before it, and checks periodically whether the case has been cleared (closed).
 */

/** The activities, with the summary the Temporal UI shows on the call. */
const activities = (summary: string) =>
  proxyActivities<ReturnType<typeof createActivities>>({
    summary,
    // Database work: an outage only delays it.
    startToCloseTimeout: '2 minutes',
    heartbeatTimeout: '1 minute',
    retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
  });

// ---- The sweep ----

export async function backlogSweepWorkflow(input: BacklogSweepInput): Promise<BacklogSweepResult> {
  const now = Date.now();
  const year = localYear(now, input.settings.calendar);
  const result = await activities(`list the backlog (${input.kind})`).sweepBacklog({
    sweepId: workflowInfo().workflowId,
    kind: input.kind,
    now,
    year,
    settings: input.settings,
  });
  const started = await activities('start the workflows of the new listings').startBacklogWorkflows({
    taskQueue: workflowInfo().taskQueue,
    settings: input.settings,
    batchSize: input.batchSize ?? 100,
  });
  return { ...result, started };
}

// ---- One listing ----

export async function backlogCaseWorkflow(input: BacklogCaseInput | { resume: BacklogCaseState }): Promise<BacklogCaseView> {
  const s: BacklogCaseState =
    'resume' in input
      ? input.resume
      : {
          caseId: input.caseId,
          year: input.year,
          settings: input.settings,
          status: 'listed',
          listedAt: Date.now(),
          assignment: 0,
          assignmentReminded: false,
          reminded: false,
          nextCheckAt: Date.now(),
        };
  const { backlog, calendar } = s.settings;
  const view = (): BacklogCaseView => ({
    caseId: s.caseId,
    year: s.year,
    status: s.status,
    systemLeader: s.systemLeader,
    territorialLeader: s.territorialLeader,
    assignedAt: iso(s.assignedAt),
    clearingDueAt: iso(s.clearingDueAt),
    reminded: s.reminded,
    clearedAt: iso(s.clearedAt),
  });
  let version = 0;
  const done = () => backlogListingFinished(s.status);

  setHandler(backlogStatusQuery, view);

  /** The current details the Temporal UI shows: status, leaders, the clearing deadline. */
  function showDetails(): void {
    const v = view();
    setCurrentDetails(
      detailLines(
        [
          ['Status', v.status],
          ['Leaders', v.systemLeader && v.territorialLeader && `${v.systemLeader.id} (system), ${v.territorialLeader.id} (territorial)`],
          ['Clearing due', v.clearingDueAt],
          ['Cleared', v.clearedAt],
        ],
        backlogCaseSummary(s.caseId, s.year),
      ),
    );
  }
  setHandler(checkBacklogSignal, () => {
    s.nextCheckAt = Date.now();
    version++;
  });
  setHandler(
    assignLeadersUpdate,
    async (u) => {
      const now = Date.now();
      s.assignment++;
      s.systemLeader = u.systemLeader;
      s.territorialLeader = u.territorialLeader;
      s.assignedAt = now;
      s.assignedBy = u.actor.id;
      s.clearingDueAt = u.clearingDueAt ? Date.parse(u.clearingDueAt) : clearingDueAt(now, s.settings);
      s.reminded = false;
      s.status = 'assigned';
      version++;
      await activities('record the leaders assigned').recordBacklogMilestone({
        caseId: s.caseId,
        year: s.year,
        at: now,
        milestone: {
          kind: 'assigned',
          version: s.assignment,
          systemLeader: u.systemLeader,
          territorialLeader: u.territorialLeader,
          assignedBy: u.actor.id,
          clearingDueAt: s.clearingDueAt,
        },
      });
      return view();
    },
    {
      validator: (u) => {
        if (done()) {
          throw ApplicationFailure.create({
            type: INVALID_TRANSITION,
            message: `The backlog listing is '${s.status}'; leaders can no longer be assigned.`,
            nonRetryable: true,
            details: [{ status: s.status }],
          });
        }
        if (u.systemLeader.id === u.territorialLeader.id) {
          throw ApplicationFailure.create({
            type: INVALID_TRANSITION,
            message: 'The system and territorial leaders must be two people.',
            nonRetryable: true,
          });
        }
        if (u.clearingDueAt && Date.parse(u.clearingDueAt) <= Date.now()) {
          throw ApplicationFailure.create({
            type: INVALID_TRANSITION,
            message: 'The clearing deadline must be in the future.',
            nonRetryable: true,
          });
        }
      },
    },
  );

  /** The next moment time alone changes something, and what. */
  function nextTimer(): { at: number; kind: 'check' | 'assignment_reminder' | 'clearing_reminder' | 'overdue' } {
    const timers: Array<{ at: number; kind: 'check' | 'assignment_reminder' | 'clearing_reminder' | 'overdue' }> = [
      { at: s.nextCheckAt, kind: 'check' },
    ];
    if (s.status === 'listed' && !s.assignmentReminded) {
      timers.push({ at: addDuration(s.listedAt, backlog.assignWithin, calendar), kind: 'assignment_reminder' });
    }
    if (s.clearingDueAt !== undefined && s.assignedAt !== undefined && s.status === 'assigned') {
      if (!s.reminded) timers.push({ at: clearingReminderAt(s.assignedAt, s.clearingDueAt, s.settings), kind: 'clearing_reminder' });
      timers.push({ at: s.clearingDueAt, kind: 'overdue' });
    }
    return timers.sort((a, b) => a.at - b.at)[0];
  }

  while (!done()) {
    const timer = nextTimer();
    const now = Date.now();
    if (timer.at > now) {
      if (workflowInfo().continueAsNewSuggested) {
        await condition(allHandlersFinished);
        await continueAsNew<typeof backlogCaseWorkflow>({ resume: s });
      }
      const seen = version;
      showDetails();
      await condition(() => version !== seen, timer.at - now, { summary: BACKLOG_TIMER_SUMMARIES[timer.kind] });
      continue;
    }
    switch (timer.kind) {
      case 'check': {
        const state = await activities('check whether the case is cleared').checkBacklogListing({ caseId: s.caseId, year: s.year });
        if (backlogListingFinished(state.listing)) {
          // Cleared, or taken over by a yearly sort (relisted, aged out): the table says so, and so does the workflow.
          s.status = state.listing;
        } else if (state.caseStatus === 'closed' || state.caseStatus === 'archived') {
          s.clearedAt = state.closedAt ?? Date.now();
          await activities('record the case cleared').recordBacklogMilestone({
            caseId: s.caseId,
            year: s.year,
            at: s.clearedAt,
            milestone: { kind: 'cleared' },
          });
          s.status = 'cleared';
        }
        s.nextCheckAt = addDuration(Date.now(), backlog.progressCheckInterval, calendar);
        break;
      }
      case 'assignment_reminder':
        s.assignmentReminded = true;
        await activities('record the reminder to assign the leaders').recordBacklogMilestone({
          caseId: s.caseId,
          year: s.year,
          at: timer.at,
          milestone: { kind: 'assignment_reminder' },
        });
        break;
      case 'clearing_reminder':
        s.reminded = true;
        await activities('record the reminder before the clearing deadline').recordBacklogMilestone({
          caseId: s.caseId,
          year: s.year,
          at: timer.at,
          milestone: { kind: 'clearing_reminder', version: s.assignment, clearingDueAt: s.clearingDueAt! },
        });
        break;
      case 'overdue':
        s.status = 'overdue';
        await activities('record the listing overdue').recordBacklogMilestone({
          caseId: s.caseId,
          year: s.year,
          at: timer.at,
          milestone: { kind: 'overdue', version: s.assignment, clearingDueAt: s.clearingDueAt! },
        });
        break;
    }
    version++;
  }
  await condition(allHandlersFinished);
  showDetails();
  return view();
}

/** What each timer of a backlog listing stands for, as the Temporal UI shows it. */
const BACKLOG_TIMER_SUMMARIES = {
  check: 'progress check: is the case cleared?',
  assignment_reminder: 'reminder to assign the leaders',
  clearing_reminder: 'reminder before the clearing deadline',
  overdue: 'clearing deadline',
} as const;
