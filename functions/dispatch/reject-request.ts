/**
 * Rejection: status `rejected`, created with If-None-Match like a claim, then one `rejected` event
 * through the outbox. The status comes first, so a retry knows a rejection is under way.
 */
import type { ErrorInfo, HeritageError } from '../../contracts/errors.js';
import { type PublishOutcome, publishTerminalEvent } from '../../contracts/terminal-event.js';
import { failureEvent } from '../failure-event.js';
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
  const outcome = await publishTerminalEvent(deps, event, { owner: input.deliveryId, leaseMs: deps.leaseMs });
  if (outcome === 'published') {
    log.info('request rejected', { error_code: error.code, error_message: error.message });
    countMetric(deps.metrics, 'RequestsRejected', { code: error.code });
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
  const now = deps.now().toISOString();
  const clientReference = read.manifest?.client_reference ?? read.echo?.client_reference;
  // The ETag tells a later upload under this id from a duplicate delivery of this one (reject-upload.ts).
  const manifestEtag = read.etag ?? input.etag;
  const created = await deps.statuses.create({
    version: 1,
    request_id: requestId,
    state: 'rejected',
    created_at: now,
    updated_at: now,
    claimed_by: input.deliveryId,
    error: error.toInfo(),
    ...(clientReference === undefined ? {} : { client_reference: clientReference }),
    ...(manifestEtag === undefined ? {} : { manifest_etag: manifestEtag }),
  });
  if (!created) return 'claimed-elsewhere';
  await publishRejection(ctx, error.toInfo(), clientReference, read);
  return 'rejected';
}
