// Every workflow the worker registers.
export { complaintWorkflow } from './complaint';
export { deskCheckWorkflow } from './desk-check';
export { reInspectionWorkflow, inspectionWorkflow } from './re-inspection';
export { rewardWorkflow } from './reward';
export { backlogSweepWorkflow, backlogCaseWorkflow } from './backlog';
export { campaignWorkflow } from './campaign';
export { reportWorkflow } from './monthly-report';
export { warningWatcherWorkflow } from './warning-watcher';
