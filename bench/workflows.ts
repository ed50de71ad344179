import { condition, defineUpdate, setHandler, sleep } from '@temporalio/workflow';

/**
 * The raw-Temporal baselines the benchmarks compare EcoLoop with. Bundled on their own, for a
 * worker of their own on a task queue of their own: nothing of EcoLoop runs in them.
 */

/** Does nothing: what a bare client start costs. */
export async function emptyWorkflow(): Promise<void> {}

export const stepUpdate = defineUpdate<number, [number]>('step');

export interface LifecycleBaselineInput {
  /** Updates to wait for, one after the other (EcoLoop's decisions). */
  updates: number;
  /** The first this many waits have a timeout, i.e. a timer each (EcoLoop's deadline clocks); the others none. */
  timedWaits: number;
  /** The timeout of a timed wait. */
  waitTimeoutMs: number;
  /** A final durable timer (EcoLoop's monitoring window before the archive). */
  finalTimerMs: number;
}

/** The same number of starts, updates and timers as one EcoLoop case, and nothing else. */
export async function lifecycleBaselineWorkflow(input: LifecycleBaselineInput): Promise<number> {
  let received = 0;
  setHandler(stepUpdate, (step) => {
    received++;
    return step;
  });
  while (received < input.updates) {
    const seen = received;
    if (seen < input.timedWaits) await condition(() => received > seen, input.waitTimeoutMs);
    else await condition(() => received > seen);
  }
  await sleep(input.finalTimerMs);
  return received;
}
