import {
  WorkflowNotFoundError,
  type Client,
  type QueryDefinition,
  type SignalDefinition,
  type UpdateDefinition,
  type Workflow,
  type WorkflowExecutionDescription,
  type WorkflowHandle,
  type WorkflowStartOptions,
} from '@temporalio/client';
import { notFound } from './problem';

/** A workflow run's status, and its result once it completed. */
export interface WorkflowOutcome<R> {
  status: 'running' | 'completed' | 'failed' | 'canceled' | 'terminated' | 'continued_as_new' | 'timed_out' | 'unspecified' | 'paused';
  result?: R;
}

/**
 * The API's one way to Temporal. Every call carries a deadline (`timeoutMs`: a timeout is a 503,
 * never a hung request), and a workflow that does not exist is a 404 naming what was asked for.
 * Every other failure goes to the one error mapper (api/problem.ts) as it is.
 *
 * Routes import workflow contracts (workflows/contracts/*) for message definitions and workflow
 * type names, never a workflow's implementation.
 */
export class TemporalGateway {
  constructor(
    readonly client: Client,
    readonly timeoutMs: number,
    /** The task queue workflows are started on. */
    readonly taskQueue: string,
  ) {}

  /** Any call to Temporal, bounded by the deadline. */
  call<T>(work: (client: Client) => Promise<T>): Promise<T> {
    return this.client.withDeadline(Date.now() + this.timeoutMs, () => work(this.client));
  }

  /** A query; `what` names the resource in the 404 when the workflow does not exist. */
  query<R>(workflowId: string, query: QueryDefinition<R, []>, what: string): Promise<R> {
    return this.found(what, () => this.call((c) => c.workflow.getHandle(workflowId).query(query)));
  }

  /** An update, applied once per `updateId` (the request's Idempotency-Key) when one is given. */
  update<R, A extends [unknown, ...unknown[]]>(
    workflowId: string,
    update: UpdateDefinition<R, A>,
    args: A,
    what: string,
    updateId?: string,
  ): Promise<R> {
    return this.found(what, () =>
      this.call((c) => c.workflow.getHandle(workflowId).executeUpdate<R, A>(update, { args, ...(updateId && { updateId }) })),
    );
  }

  /** A signal. */
  signal<A extends unknown[]>(workflowId: string, signal: SignalDefinition<A>, args: A, what: string): Promise<void> {
    return this.found(what, () => this.call((c) => c.workflow.getHandle(workflowId).signal(signal, ...args)));
  }

  /** Start a workflow by its type name (from its contract) on the API's task queue. */
  start<W extends Workflow>(
    workflowType: string,
    options: Omit<WorkflowStartOptions<W>, 'taskQueue'> & { taskQueue?: string },
  ): Promise<WorkflowHandle<W>> {
    const full = { taskQueue: this.taskQueue, ...options } as WorkflowStartOptions<W>;
    return this.call((c) => c.workflow.start<W>(workflowType, full));
  }

  /** What Temporal knows of a workflow (its status): the answer to a poll of a 202's Location. */
  describe(workflowId: string, what: string): Promise<WorkflowExecutionDescription> {
    return this.found(what, () => this.call((c) => c.workflow.getHandle(workflowId).describe()));
  }

  /**
   * Where a workflow run stands (its status, lower-case: running, completed, failed, …) and, once it
   * completed, its result: the poll behind the Location of a 202.
   */
  async outcome<R>(workflowId: string, what: string): Promise<WorkflowOutcome<R>> {
    const run = await this.describe(workflowId, what);
    const status = run.status.name.toLowerCase() as WorkflowOutcome<R>['status'];
    if (status !== 'completed') return { status };
    return { status, result: (await this.call((c) => c.workflow.getHandle(workflowId).result())) as R };
  }

  /** The handle of a workflow (no call is made). */
  handle(workflowId: string): WorkflowHandle {
    return this.client.workflow.getHandle(workflowId);
  }

  private async found<T>(what: string, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (err) {
      if (err instanceof WorkflowNotFoundError || (err as Error)?.name === 'WorkflowNotFoundError') throw notFound(`No ${what}.`);
      throw err;
    }
  }
}
