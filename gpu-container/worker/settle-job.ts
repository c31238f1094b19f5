/**
 * How a run ends once its outcome is known: the status move, the event through the terminal-event
 * outbox (requests/<id>/event.json, shared with the Lambdas), and what happens to the message.
 */
import { isHeritageError, RequestTimeoutError, toErrorInfo } from '../../contracts/errors.js';
import { requestKeys } from '../../contracts/keys.js';
import type { ReceivedMessage } from '../../contracts/ports.js';
import type { Result } from '../../contracts/result.js';
import type { StatusDocument } from '../../contracts/status.js';
import { publishTerminalEvent } from '../../contracts/terminal-event.js';
import type { WorkMessage } from '../../contracts/work-message.js';
import { gpuHeldSeconds, provisionOf, succeededReport } from './attempt-report.js';
import { failedEvent, succeededEvent } from './completion.js';
import { markFailed, markSucceeded, requeue } from './job-status.js';
import { describeError } from './log.js';
import type { JobOutcome, RunJobDeps } from './run-job.js';

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

function outbox(deps: RunJobDeps) {
  return { objects: deps.store, events: deps.events, now: () => new Date() };
}

/**
 * Status succeeded, then the event through the terminal-event outbox (requests/<id>/event.json), then
 * the message goes. A redelivery after a crash in between publishes the event the crash cut short,
 * and never a second one. The attempt that moves the status reports the request's figures, before
 * the event, so that whoever sees the event finds them.
 */
export async function finish(
  deps: RunJobDeps,
  message: ReceivedMessage,
  work: WorkMessage,
  result: Result,
  provisionMs: number | undefined,
): Promise<void> {
  const keys = requestKeys(work.request_id);
  const moved = await markSucceeded(deps.statuses, work.request_id, keys.result, new Date());
  if (moved) deps.metrics.record(succeededReport(result, provisionMs));
  const succeeded = moved || (await deps.statuses.read(work.request_id))?.status.state === 'succeeded';
  if (succeeded)
    await publishTerminalEvent(outbox(deps), succeededEvent(work, result), { owner: message.id });
  await deps.queue.delete(message.receiptHandle);
}

/** A redelivery of a finished request: complete an event publication a crash cut short, if any. */
export async function settleRedelivery(
  deps: RunJobDeps,
  message: ReceivedMessage,
  work: WorkMessage,
  status: StatusDocument,
  committed: Result | undefined,
): Promise<void> {
  const event =
    status.state === 'succeeded' && committed !== undefined
      ? succeededEvent(work, committed)
      : status.state === 'failed' && status.error !== undefined
        ? failedEvent(work, deps.engine.name, status.error, {}, null)
        : undefined;
  if (event !== undefined) await publishTerminalEvent(outbox(deps), event, { owner: message.id });
  await deps.queue.delete(message.receiptHandle);
}

export interface FailedRun {
  shutdown: AbortSignal;
  timeout: AbortSignal;
  timings: Record<string, number>;
  /** When the worker took the message (epoch ms). */
  startedAt: number;
  /** Set on the worker's first request: its model provisioning. */
  provisionMs: number | undefined;
}

/**
 * Shutdown releases; a retryable error requeues with a backoff; anything else fails the request. Each
 * reports the GPU time the attempt held, a released or retried one too: it was spent.
 */
export async function settleFailure(
  deps: RunJobDeps,
  message: ReceivedMessage,
  work: WorkMessage,
  error: unknown,
  run: FailedRun,
): Promise<JobOutcome> {
  const { statuses, queue, log } = deps;
  const requestId = work.request_id;
  const held = { requestId, gpuSeconds: gpuHeldSeconds(run.startedAt), ...provisionOf(run.provisionMs) };
  if (run.shutdown.aborted) {
    await requeue(statuses, requestId, new Date());
    deps.metrics.record({ ...held, outcome: 'released' });
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
    await requeue(statuses, requestId, new Date(), info);
    deps.metrics.record({ ...held, outcome: 'retried', errorCode: info.code });
    const backoff = Math.min(MAX_BACKOFF_SECONDS, REDELIVERY_BACKOFF_SECONDS * message.receiveCount);
    await queue.extendVisibility(message.receiptHandle, backoff);
    log.warn('request failed; it will be retried', { request_id: requestId, error: describeError(cause) });
    return { kind: 'requeued', requestId, error: info };
  }
  log.error('request failed', { request_id: requestId, error: describeError(cause) });
  run.timings.total = Date.now() - Date.parse(work.enqueued_at);
  const moved = await markFailed(statuses, requestId, info, new Date());
  deps.metrics.record({ ...held, outcome: moved ? 'failed' : 'superseded', errorCode: info.code });
  if (moved) {
    const event = failedEvent(work, deps.engine.name, info, run.timings, held.gpuSeconds);
    await publishTerminalEvent(outbox(deps), event, { owner: message.id });
  }
  await queue.delete(message.receiptHandle);
  return { kind: 'failed', requestId, error: info };
}
