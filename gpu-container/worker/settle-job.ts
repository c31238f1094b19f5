/**
 * How a run ends once its outcome is known: the status move, the event through the terminal-event
 * outbox (requests/<id>/event.json, shared with the Lambdas), and what happens to the message.
 */
import { type ErrorInfo, isHeritageError, RequestTimeoutError, toErrorInfo } from '../../contracts/errors.js';
import { requestKeys } from '../../contracts/keys.js';
import { failureEvent, succeededEvent } from '../../contracts/lifecycle/completion-event.js';
import type { StatusDocument } from '../../contracts/lifecycle/status.js';
import { publishTerminalEvent } from '../../contracts/lifecycle/terminal-event.js';
import { fail, requeue, resume, succeed } from '../../contracts/lifecycle/transitions.js';
import type { ReceivedMessage } from '../../contracts/ports.js';
import type { Result } from '../../contracts/result.js';
import type { WorkMessage } from '../../contracts/work-message.js';
import { describeError } from './log.js';
import type { JobOutcome, RequestDeps } from './run-job.js';

/**
 * Errors a later attempt can fix: the message is left to come back (the work DLQ catches the last try).
 * Upload failures are not among them although they are retryable for the client: the uploader has
 * already retried every frame, and re-rendering on GPU to retry S3 is the wrong trade.
 */
function shouldRedeliver(error: unknown): boolean {
  return isHeritageError(error) && error.retryable && error.code !== 'UPLOAD_FAILED';
}

const REDELIVERY_BACKOFF_SECONDS = 30;
const MAX_BACKOFF_SECONDS = 900;

function outbox(deps: RequestDeps) {
  return { objects: deps.store, events: deps.events, now: () => new Date() };
}

function succeeded(work: WorkMessage, result: Result) {
  return succeededEvent({
    bucket: work.bucket,
    result,
    clientReference: work.manifest.client_reference ?? null,
  });
}

function failed(deps: RequestDeps, work: WorkMessage, error: ErrorInfo, timingsMs: Record<string, number>) {
  return failureEvent({
    status: 'failed',
    requestId: work.request_id,
    bucket: work.bucket,
    error,
    manifest: work.manifest,
    engine: deps.engine.name,
    timingsMs,
  });
}

/**
 * -> succeeded, through running when a crash left the request queued after its result was written.
 * True when this call made the move (and so owns the completion event).
 */
async function markSucceeded(deps: RequestDeps, requestId: string, resultKey: string): Promise<boolean> {
  const { statuses } = deps;
  if ((await statuses.update(requestId, succeed({ resultKey, now: new Date() }))) !== undefined) return true;
  // Only a request a crash left queued needs the detour through running; the usual path is one write.
  const resumed = await statuses.update(requestId, resume({ now: new Date() }));
  return (
    resumed !== undefined &&
    (await statuses.update(requestId, succeed({ resultKey, now: new Date() }))) !== undefined
  );
}

/**
 * Status succeeded, then the event through the terminal-event outbox (requests/<id>/event.json), then
 * the message goes. A redelivery after a crash in between publishes the event the crash cut short,
 * and never a second one.
 */
export async function finish(
  deps: RequestDeps,
  message: ReceivedMessage,
  work: WorkMessage,
  result: Result,
): Promise<void> {
  const keys = requestKeys(work.request_id);
  const moved = await markSucceeded(deps, work.request_id, keys.result);
  const done = moved || (await deps.statuses.read(work.request_id))?.status.state === 'succeeded';
  if (done) await publishTerminalEvent(outbox(deps), succeeded(work, result), { owner: message.id });
  await deps.queue.delete(message.receiptHandle);
}

/** A redelivery of a finished request: complete an event publication a crash cut short, if any. */
export async function settleRedelivery(
  deps: RequestDeps,
  message: ReceivedMessage,
  work: WorkMessage,
  status: StatusDocument,
  committed: Result | undefined,
): Promise<void> {
  const event =
    status.state === 'succeeded' && committed !== undefined
      ? succeeded(work, committed)
      : status.state === 'failed' && status.error !== undefined
        ? failed(deps, work, status.error, {})
        : undefined;
  if (event !== undefined) await publishTerminalEvent(outbox(deps), event, { owner: message.id });
  await deps.queue.delete(message.receiptHandle);
}

/** Shutdown releases; a retryable error requeues with a backoff; anything else fails the request. */
export async function settleFailure(
  deps: RequestDeps,
  message: ReceivedMessage,
  work: WorkMessage,
  error: unknown,
  run: { shutdown: AbortSignal; timeout: AbortSignal; timings: Record<string, number>; startedAt: number },
): Promise<JobOutcome> {
  const { statuses, queue, log } = deps;
  const requestId = work.request_id;
  if (run.shutdown.aborted) {
    await statuses.update(requestId, requeue({ now: new Date() }));
    await queue.release(message.receiptHandle);
    log.info('released the request on shutdown', { request_id: requestId });
    return { kind: 'released', requestId };
  }
  const cause =
    run.timeout.aborted && !(isHeritageError(error) && error.code === 'REQUEST_TIMEOUT')
      ? new RequestTimeoutError(`request ran past its ${deps.requestTimeoutMs / 1000} s limit`, {
          cause: error,
        })
      : error;
  const info = toErrorInfo(cause);
  if (shouldRedeliver(cause)) {
    await statuses.update(requestId, requeue({ lastError: info, now: new Date() }));
    const backoff = Math.min(MAX_BACKOFF_SECONDS, REDELIVERY_BACKOFF_SECONDS * message.receiveCount);
    await queue.extendVisibility(message.receiptHandle, backoff);
    log.warn('request failed; it will be retried', { request_id: requestId, error: describeError(cause) });
    return { kind: 'requeued', requestId, error: info };
  }
  log.error('request failed', { request_id: requestId, error: describeError(cause) });
  run.timings.total = Date.now() - Date.parse(work.enqueued_at);
  if ((await statuses.update(requestId, fail({ error: info, now: new Date() }))) !== undefined) {
    await publishTerminalEvent(outbox(deps), failed(deps, work, info, run.timings), { owner: message.id });
  }
  await queue.delete(message.receiptHandle);
  return { kind: 'failed', requestId, error: info };
}
