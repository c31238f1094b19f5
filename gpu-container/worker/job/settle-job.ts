/**
 * How a run ends once its outcome is known: the status move (made with the attempt's lease token, so
 * only the attempt that holds the request moves it), the event through the terminal-event outbox
 * (requests/<id>/event.json, shared with the Lambdas, owned by the same token), and what happens to
 * the message.
 */
import {
  type ErrorInfo,
  isHeritageError,
  RequestTimeoutError,
  toErrorInfo,
} from '../../../contracts/errors.js';
import { requestKeys } from '../../../contracts/keys.js';
import { completeTerminalEvent } from '../../../contracts/lifecycle/complete-event.js';
import { failureEvent, succeededEvent } from '../../../contracts/lifecycle/completion-event.js';
import type { StatusDocument } from '../../../contracts/lifecycle/status.js';
import { publishTerminalEvent } from '../../../contracts/lifecycle/terminal-event.js';
import { fail, requeue, succeed } from '../../../contracts/lifecycle/transitions.js';
import type { ReceivedMessage } from '../../../contracts/ports.js';
import type { Result } from '../../../contracts/result.js';
import type { WorkMessage } from '../../../contracts/work-message.js';
import { describeError } from '../log.js';
import { gpuHeldSeconds, provisionOf, succeededReport } from './attempt-report.js';
import { clock, type JobOutcome, outboxLease, type RequestDeps } from './job-deps.js';

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
  return { objects: deps.store, events: deps.events, now: () => clock(deps) };
}

function failed(
  deps: RequestDeps,
  work: WorkMessage,
  error: ErrorInfo,
  timingsMs: Record<string, number>,
  gpuSeconds: number,
) {
  return failureEvent({
    status: 'failed',
    requestId: work.request_id,
    bucket: work.bucket,
    error,
    manifest: work.manifest,
    engine: deps.engine.name,
    timingsMs,
    gpuSeconds,
  });
}

/**
 * Status succeeded, then the event through the outbox, then the message goes. Only the attempt that
 * holds the request may: one that lost its lease meanwhile leaves both to the holder. The attempt that
 * moves the status reports the request's figures, before the event, so whoever sees the event finds
 * them.
 */
export async function finish(
  deps: RequestDeps,
  message: ReceivedMessage,
  work: WorkMessage,
  result: Result,
  token: string,
  provisionMs: number | undefined,
): Promise<JobOutcome> {
  const requestId = work.request_id;
  const moved = await deps.statuses.update(
    requestId,
    succeed({ token, resultKey: requestKeys(requestId).result, now: clock(deps) }),
  );
  if (moved === undefined) {
    deps.metrics.record({
      requestId,
      outcome: 'superseded',
      gpuSeconds: result.gpu_seconds,
      ...provisionOf(provisionMs),
    });
    deps.log.warn('lost the request before marking it succeeded; leaving it to its holder', {
      request_id: requestId,
    });
    return { kind: 'lost', requestId };
  }
  deps.metrics.record(succeededReport(result, provisionMs));
  const event = succeededEvent({
    bucket: work.bucket,
    result,
    clientReference: work.manifest.client_reference ?? null,
  });
  await publishTerminalEvent(outbox(deps), event, { owner: token, leaseMs: outboxLease(deps) });
  await deps.queue.delete(message.receiptHandle);
  return { kind: 'succeeded', requestId, timingsMs: result.timings_ms };
}

/**
 * A redelivery of a finished request: publishes its event if it never went out (the outbox keeps a
 * publication under way with its owner), then drops the message.
 */
export async function redelivered(
  deps: RequestDeps,
  message: ReceivedMessage,
  status: StatusDocument,
  token: string,
): Promise<JobOutcome> {
  const requestId = status.request_id;
  const bucket = deps.bucket;
  const outcome = await completeTerminalEvent({ ...outbox(deps), bucket }, status, {
    owner: token,
    leaseMs: outboxLease(deps),
    graceMs: 0,
  });
  deps.log.info('request already finished; dropping the redelivered message', {
    request_id: requestId,
    state: status.state,
    event: outcome,
  });
  await deps.queue.delete(message.receiptHandle);
  return { kind: 'duplicate', requestId };
}

export interface FailedRun {
  shutdown: AbortSignal;
  timeout: AbortSignal;
  /** Aborts when this attempt's lease on the request lapsed. */
  lease: AbortSignal;
  token: string;
  timings: Record<string, number>;
  /** When the worker took the message (epoch ms). */
  startedAt: number;
  /** When it handed the GPU over to the next request (epoch ms), if it got that far. */
  gpuReleasedAt: number | undefined;
  /** Set on the worker's first request: its model provisioning. */
  provisionMs: number | undefined;
}

/**
 * A lost lease stops without a status write or event; shutdown releases; a retryable error requeues
 * with a backoff; anything else fails the request. Each reports the GPU time the attempt held, a lost,
 * released or retried one too: it was spent.
 */
export async function settleFailure(
  deps: RequestDeps,
  message: ReceivedMessage,
  work: WorkMessage,
  error: unknown,
  run: FailedRun,
): Promise<JobOutcome> {
  const { statuses, queue, log } = deps;
  const requestId = work.request_id;
  const { token } = run;
  const held = {
    requestId,
    gpuSeconds: gpuHeldSeconds(run.startedAt, run.gpuReleasedAt),
    ...provisionOf(run.provisionMs),
  };
  if (run.lease.aborted && !run.shutdown.aborted) {
    deps.metrics.record({ ...held, outcome: 'superseded' });
    // Someone else may hold the request now: no status write, no event, and the message stays.
    log.warn('stopped: this worker no longer holds the request', {
      request_id: requestId,
      error: describeError(run.lease.reason),
    });
    return { kind: 'lost', requestId };
  }
  if (run.shutdown.aborted) {
    await statuses.update(requestId, requeue({ token, now: clock(deps) }));
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
    await statuses.update(requestId, requeue({ token, lastError: info, now: clock(deps) }));
    deps.metrics.record({ ...held, outcome: 'retried', errorCode: info.code });
    const backoff = Math.min(MAX_BACKOFF_SECONDS, REDELIVERY_BACKOFF_SECONDS * message.receiveCount);
    await queue.extendVisibility(message.receiptHandle, backoff);
    log.warn('request failed; it will be retried', { request_id: requestId, error: describeError(cause) });
    return { kind: 'requeued', requestId, error: info };
  }
  log.error('request failed', { request_id: requestId, error: describeError(cause) });
  run.timings.total = Date.now() - Date.parse(work.enqueued_at);
  if ((await statuses.update(requestId, fail({ error: info, now: clock(deps), token }))) === undefined) {
    deps.metrics.record({ ...held, outcome: 'superseded', errorCode: info.code });
    log.warn('lost the request before marking it failed; leaving it to its holder', {
      request_id: requestId,
    });
    return { kind: 'lost', requestId };
  }
  deps.metrics.record({ ...held, outcome: 'failed', errorCode: info.code });
  await publishTerminalEvent(outbox(deps), failed(deps, work, info, run.timings, held.gpuSeconds), {
    owner: token,
    leaseMs: outboxLease(deps),
  });
  await queue.delete(message.receiptHandle);
  return { kind: 'failed', requestId, error: info };
}
