/**
 * How a workflow writes the read model (the complaint's events, a reward's payments): an activity,
 * local where it runs in the workflow task that produced the change, never given up: a database
 * outage only delays it, retried at most a minute apart. Shared by the workflows that project; no
 * workflow code.
 */
export const PROJECTION_ACTIVITY_OPTIONS = {
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
} as const;
