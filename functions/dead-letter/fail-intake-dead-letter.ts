/**
 * An S3 event in the intake DLQ: dispatch failed on it every time (AWS kept failing, or a bug). Its
 * manifest must still end in one terminal event. A request never claimed, or claimed and never
 * enqueued, becomes `failed` with RETRIES_EXHAUSTED; a rejection whose event never went out is
 * published; anything further along is only logged.
 */
import { type ErrorInfo, RetriesExhaustedError } from '../../contracts/errors.js';
import { parseInboxManifestKey } from '../../contracts/keys.js';
import { failureEvent } from '../../contracts/lifecycle/completion-event.js';
import type { StatusDocument } from '../../contracts/lifecycle/status.js';
import { publishTerminalEvent } from '../../contracts/lifecycle/terminal-event.js';
import { fail, failedStatus, isUnsent } from '../../contracts/lifecycle/transitions.js';
import { METRIC_NAMES } from '../../contracts/metrics.js';
import type { ObjectCreated } from '../dispatch/read-s3-event.js';
import { isReusedUpload, rejectReusedUpload } from '../dispatch/reject-upload.js';
import { tryReadManifest } from '../dispatch/validate-request.js';
import { countMetric, requestLogger } from '../observability.js';
import type { DeadLetter, DeadLetterDeps, DeadLetterResult } from './fail-dead-letter.js';

function requestIdOf(deps: DeadLetterDeps, object: ObjectCreated): string | undefined {
  if (object.bucket !== deps.bucket) return undefined;
  try {
    return parseInboxManifestKey(object.key);
  } catch {
    return undefined;
  }
}

/**
 * Fails the request unless it got further; returns the status to publish for, if any, and whether
 * this call moved it (only that call counts the outcome).
 */
async function failUnfinished(
  deps: DeadLetterDeps,
  requestId: string,
  letter: DeadLetter,
  error: ErrorInfo,
): Promise<{ status: StatusDocument; moved: boolean } | undefined> {
  const failed = failedStatus({ requestId, deliveryId: letter.deliveryId, error, now: deps.now() });
  if (await deps.statuses.create(failed)) return { status: failed, moved: true };
  const updated = await deps.statuses.update(
    requestId,
    fail({ error, now: deps.now(), only: isUnsent, claimedBy: letter.deliveryId }),
  );
  if (updated !== undefined) return { status: updated.status, moved: true };
  const status = (await deps.statuses.read(requestId))?.status;
  // A rejection whose event may not have gone out, or our own failure from an earlier delivery.
  const ours = status?.state === 'failed' && status.claimed_by === letter.deliveryId;
  return status !== undefined && (status.state === 'rejected' || ours) ? { status, moved: false } : undefined;
}

async function eventManifest(deps: DeadLetterDeps, requestId: string) {
  const { manifest, echo } = await tryReadManifest(deps.objects, requestId);
  return { manifest, echo };
}

async function failIntakeObject(
  deps: DeadLetterDeps,
  letter: DeadLetter,
  requestId: string,
  object: ObjectCreated,
): Promise<DeadLetterResult> {
  const log = requestLogger(deps.logger, requestId);
  const current = (await deps.statuses.read(requestId))?.status;
  if (
    current !== undefined &&
    current.claimed_by !== letter.deliveryId &&
    isReusedUpload(current, object.etag)
  ) {
    // Another upload under a used id: it must not fail the request that owns the id.
    await rejectReusedUpload(deps, current, { ...object, attemptId: letter.attemptId });
    return 'already-terminal';
  }
  const error = new RetriesExhaustedError(
    `dispatch could not handle the manifest of ${requestId}: the intake message ran out of retries`,
  ).toInfo();
  const ended = await failUnfinished(deps, requestId, letter, error);
  if (ended === undefined) {
    log.info('intake dead letter for a request already enqueued or finished; nothing to do');
    return 'already-terminal';
  }
  const { status } = ended;
  const state = status.state === 'rejected' ? 'rejected' : 'failed';
  if (ended.moved) countMetric(deps.metrics, METRIC_NAMES.requestsFailed, { code: error.code, requestId });
  const event = failureEvent({
    status: state,
    requestId,
    bucket: deps.bucket,
    error: status.error ?? error,
    clientReference: status.client_reference,
    ...(await eventManifest(deps, requestId)),
  });
  const outcome = await publishTerminalEvent(deps, event, {
    owner: letter.attemptId,
    leaseMs: deps.leaseMs,
  });
  if (outcome === 'published') {
    log.warn('request ended from the intake dead-letter queue', { state, error_code: event.error?.code });
  }
  return state === 'rejected' ? 'already-terminal' : 'failed';
}

export async function failIntakeDeadLetter(
  deps: DeadLetterDeps,
  letter: DeadLetter,
  objects: ObjectCreated[],
): Promise<DeadLetterResult[]> {
  const results: DeadLetterResult[] = [];
  for (const object of objects) {
    const requestId = requestIdOf(deps, object);
    if (requestId === undefined) {
      deps.logger.warn('intake dead letter for an object that is not a request manifest', { ...object });
      results.push('unreadable');
      continue;
    }
    results.push(await failIntakeObject(deps, letter, requestId, object));
  }
  return results;
}
