/**
 * Rejection: status `rejected`, created with If-None-Match like a claim, then one `rejected` event
 * through the outbox. The status comes first, so a retry knows a rejection is under way.
 */
import type { ErrorInfo, HeritageError } from '../../contracts/errors.js';
import type { Manifest } from '../../contracts/manifest.js';
import { METRIC_NAMES } from '../../contracts/metrics.js';
import { type PublishOutcome, publishTerminalEvent } from '../../contracts/terminal-event.js';
import { failureEvent } from '../failure-event.js';
import { countMetric } from '../observability.js';
import type { DispatchContext } from './dispatch-context.js';

export async function publishRejection(
  ctx: DispatchContext,
  error: ErrorInfo,
  clientReference: string | undefined,
  manifest: Manifest | undefined,
): Promise<PublishOutcome> {
  const { deps, input, requestId, log } = ctx;
  const event = failureEvent({
    status: 'rejected',
    requestId,
    bucket: deps.bucket,
    error,
    clientReference,
    manifest,
  });
  const outcome = await publishTerminalEvent(deps, event, { owner: input.deliveryId, leaseMs: deps.leaseMs });
  if (outcome === 'published') {
    log.info('request rejected', { error_code: error.code, error_message: error.message });
    countMetric(deps.metrics, METRIC_NAMES.requestsRejected, { code: error.code, requestId });
  }
  return outcome;
}

/** 'claimed-elsewhere' when the request already had a status: the caller resumes it instead. */
export async function rejectRequest(
  ctx: DispatchContext,
  error: HeritageError,
  manifest: Manifest | undefined,
): Promise<'rejected' | 'claimed-elsewhere'> {
  const { deps, input, requestId } = ctx;
  const now = deps.now().toISOString();
  const clientReference = manifest?.client_reference;
  const created = await deps.statuses.create({
    version: 1,
    request_id: requestId,
    state: 'rejected',
    created_at: now,
    updated_at: now,
    claimed_by: input.deliveryId,
    error: error.toInfo(),
    ...(clientReference === undefined ? {} : { client_reference: clientReference }),
  });
  if (!created) return 'claimed-elsewhere';
  await publishRejection(ctx, error.toInfo(), clientReference, manifest);
  return 'rejected';
}
