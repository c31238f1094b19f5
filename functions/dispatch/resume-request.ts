/**
 * A request that already has a status: an earlier delivery claimed it. Finish what that delivery
 * left undone (a work message not sent, an event not published), or acknowledge a duplicate. An upload
 * of another manifest under the same id is not a duplicate: it is rejected on its own (reject-upload.ts).
 */
import { TransientError } from '../../contracts/errors.js';
import { failureEvent } from '../../contracts/lifecycle/completion-event.js';
import { publishTerminalEvent } from '../../contracts/lifecycle/terminal-event.js';
import { fail, isUnsent } from '../../contracts/lifecycle/transitions.js';
import { resolveSeed } from '../../contracts/manifest.js';
import { METRIC_NAMES } from '../../contracts/metrics.js';
import type { StatusRecord } from '../../contracts/ports.js';
import { countMetric, countRequestMetric } from '../observability.js';
import { enqueueWork, takeOverClaim } from './claim-request.js';
import type { DispatchContext, DispatchResult } from './dispatch-context.js';
import { publishRejection } from './reject-request.js';
import { isReusedUpload, rejectReusedUpload } from './reject-upload.js';
import {
  type ManifestForEvent,
  tryReadManifest,
  type ValidRequest,
  validateRequest,
} from './validate-request.js';

function duplicate(ctx: DispatchContext, record: StatusRecord): DispatchResult {
  ctx.log.info('duplicate event: request already claimed', {
    state: record.status.state,
    claimed_by: record.status.claimed_by,
    delivery_id: ctx.input.deliveryId,
  });
  countRequestMetric(ctx.deps.metrics, METRIC_NAMES.duplicateEvents, ctx.requestId);
  return 'duplicate';
}

/**
 * Validates again for a claim being finished. Input that went bad since the claim (a replaced manifest,
 * a deleted image) fails the queued request with its code; undefined then.
 */
async function validateClaimed(ctx: DispatchContext): Promise<ValidRequest | undefined> {
  const { deps, input, requestId, log } = ctx;
  const validation = await validateRequest(deps.objects, requestId);
  if (validation.valid) return validation.request;
  const info = validation.error.toInfo();
  const failed = await deps.statuses.update(
    requestId,
    fail({ error: info, now: deps.now(), only: isUnsent }),
  );
  if (failed !== undefined) {
    const event = failureEvent({
      status: 'failed',
      requestId,
      bucket: deps.bucket,
      error: info,
      manifest: validation.manifest,
      echo: validation.echo,
    });
    countMetric(deps.metrics, METRIC_NAMES.requestsFailed, { code: info.code, requestId });
    log.warn('claimed request failed: its input went bad before the work message was sent', {
      error_code: info.code,
    });
    await publishTerminalEvent(deps, event, { owner: input.attemptId, leaseMs: deps.leaseMs });
  }
  return undefined;
}

async function finishClaim(ctx: DispatchContext, record: StatusRecord): Promise<DispatchResult> {
  const { deps, input, requestId, log } = ctx;
  const { status } = record;
  if (!(await takeOverClaim(deps, requestId, input.deliveryId, deps.leaseMs))) return duplicate(ctx, record);
  const request = await validateClaimed(ctx);
  if (request === undefined) return 'rejected';
  if (request.manifestEtag !== status.manifest_etag) {
    log.warn('the manifest was replaced after the claim; sending the current one', {
      claimed_etag: status.manifest_etag,
      current_etag: request.manifestEtag,
    });
  }
  const seed = status.seed ?? resolveSeed(request.parsed.manifest, deps.randomSeed).seed;
  await enqueueWork(deps, request, { ...request.parsed.manifest, seed });
  log.info('finished an interrupted claim: work message sent', { seed });
  countMetric(deps.metrics, METRIC_NAMES.requestsAccepted);
  return 'accepted';
}

export async function resumeRequest(ctx: DispatchContext, read?: ManifestForEvent): Promise<DispatchResult> {
  const { deps, input, requestId } = ctx;
  const record = await deps.statuses.read(requestId);
  if (record === undefined) throw new TransientError(`status of ${requestId} vanished after a lost claim`);
  const { status } = record;
  if (status.claimed_by !== input.deliveryId && isReusedUpload(status, input.etag)) {
    const upload = { key: input.key, etag: input.etag, attemptId: input.attemptId };
    const outcome = await rejectReusedUpload(deps, status, upload);
    return outcome === 'published' ? 'rejected' : duplicate(ctx, record);
  }
  if (status.state === 'rejected' && status.error !== undefined) {
    const manifest = read ?? (await tryReadManifest(deps.objects, requestId));
    const outcome = await publishRejection(ctx, status.error, status.client_reference, manifest);
    return outcome === 'published' ? 'rejected' : duplicate(ctx, record);
  }
  if (status.state === 'failed' && status.error !== undefined && status.claimed_by === input.deliveryId) {
    // This delivery failed the claim earlier (validateClaimed) and may not have got the event out.
    const event = failureEvent({ status: 'failed', requestId, bucket: deps.bucket, error: status.error });
    const outcome = await publishTerminalEvent(deps, event, {
      owner: input.attemptId,
      leaseMs: deps.leaseMs,
    });
    return outcome === 'published' ? 'rejected' : duplicate(ctx, record);
  }
  if (isUnsent(status)) return finishClaim(ctx, record);
  return duplicate(ctx, record);
}
