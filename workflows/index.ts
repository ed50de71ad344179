// Every workflow the worker registers.
export { complaintWorkflow } from './complaint';
