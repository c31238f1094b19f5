/**
 * Rejection: status `rejected`, created with If-None-Match like a claim, then one `rejected` event
 * through the outbox. The status comes first, so a retry knows a rejection is under way. Like every
 * path that ends a request, it counts the outcome where it moves the status: the event may go out
 * later, from a retry, dead-letter or reconcile.
 */
import type { ErrorInfo, HeritageError } from '../../contracts/errors.js';
import { failureEvent } from '../../contracts/lifecycle/completion-event.js';
import { type PublishOutcome, publishTerminalEvent } from '../../contracts/lifecycle/terminal-event.js';
import { rejectedStatus } from '../../contracts/lifecycle/transitions.js';
import { METRIC_NAMES } from '../../contracts/metrics.js';
import { countMetric } from '../observability.js';
import type { DispatchContext } from './dispatch-context.js';
import type { ManifestForEvent } from './validate-request.js';

export async function publishRejection(
  ctx: DispatchContext,
  error: ErrorInfo,
  clientReference: string | undefined,
  read: ManifestForEvent,
): Promise<PublishOutcome> {
  const { deps, input, requestId, log } = ctx;
  const event = failureEvent({
    status: 'rejected',
    requestId,
    bucket: deps.bucket,
    error,
    clientReference,
    manifest: read.manifest,
    echo: read.echo,
  });
  const outcome = await publishTerminalEvent(deps, event, { owner: input.attemptId, leaseMs: deps.leaseMs });
  if (outcome === 'published') {
    log.info('request rejected', { error_code: error.code, error_message: error.message });
  }
  return outcome;
}

/** 'claimed-elsewhere' when the request already had a status: the caller resumes it instead. */
export async function rejectRequest(
  ctx: DispatchContext,
  error: HeritageError,
  read: ManifestForEvent,
): Promise<'rejected' | 'claimed-elsewhere'> {
  const { deps, input, requestId } = ctx;
  const clientReference = read.manifest?.client_reference ?? read.echo?.client_reference;
  const created = await deps.statuses.create(
    rejectedStatus({
      requestId,
      deliveryId: input.deliveryId,
      error: error.toInfo(),
      clientReference,
      // The ETag tells a later upload under this id from a redelivery of this one (reject-upload.ts).
      manifestEtag: read.etag ?? input.etag,
      now: deps.now(),
    }),
  );
  if (!created) return 'claimed-elsewhere';
  // Counted where the status moved, once, whichever path gets the event out.
  countMetric(deps.metrics, METRIC_NAMES.requestsRejected, { code: error.code, requestId });
  await publishRejection(ctx, error.toInfo(), clientReference, read);
  return 'rejected';
}
