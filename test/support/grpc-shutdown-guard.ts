import { Channel, Metadata, status, type StatusObject } from '@grpc/grpc-js';

type ChannelCall = ReturnType<Channel['createCall']>;

/**
 * Jest setup (every test file): a call started on a gRPC channel that was already closed ends with
 * CANCELLED instead of throwing.
 *
 * Why: @temporalio/client's retry interceptor schedules each retry with a timer, and
 * `Connection.close()` does not clear those timers. When a test closes a connection (or a
 * TestWorkflowEnvironment tears down its server) while a call is between two attempts, the timer
 * later calls `createCall` on the closed channel, which throws "Channel has been shut down" inside
 * the timer: an uncaught exception that jest charges to whichever test file is running then, after
 * all its tests passed. Here that retry ends the call with a status instead, which nobody waits for.
 */
// eslint-disable-next-line @typescript-eslint/unbound-method -- called with each channel as `this` below
const createCall = Channel.prototype.createCall;

function closedChannelCall(): ChannelCall {
  const ended = { code: status.CANCELLED, details: 'Channel has been shut down', metadata: new Metadata() } satisfies StatusObject;
  return {
    start: (_metadata: Metadata, listener: { onReceiveStatus(s: StatusObject): void }) =>
      setImmediate(() => listener.onReceiveStatus(ended)),
    sendMessageWithContext: (context: { callback?: () => void }) => context.callback?.(),
    startRead: () => undefined,
    halfClose: () => undefined,
    cancelWithStatus: () => undefined,
    getPeer: () => '',
    setCredentials: () => undefined,
    getCallNumber: () => 0,
    getAuthContext: () => null,
  };
}

Channel.prototype.createCall = function guardedCreateCall(this: Channel, ...args: Parameters<Channel['createCall']>) {
  try {
    return createCall.apply(this, args);
  } catch (err) {
    if ((err as Error).message === 'Channel has been shut down') return closedChannelCall();
    throw err;
  }
};
