// Every workflow the worker registers.
export { complaintWorkflow } from './complaint';
export { deskCheckWorkflow, reInspectionWorkflow, inspectionWorkflow } from './spot-check';
export { rewardWorkflow } from './reward';
export { backlogSweepWorkflow, backlogCaseWorkflow } from './backlog';
export { campaignWorkflow } from './campaign';
export { reportWorkflow } from './monthly-report';
export { warningWatcherWorkflow } from './warning-watcher';
