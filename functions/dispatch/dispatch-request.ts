/**
 * The dispatch use case for one uploaded manifest: validate, claim, enqueue; or reject with a code.
 * Every manifest ends in exactly one of: a work message (the worker then publishes the terminal event),
 * or one `rejected` event. Duplicates are logged and acknowledged; an upload that cannot become a
 * request (an id already used, an invalid id) gets one `heritage.upload.rejected` event (reject-upload.ts).
 */
import { ImageMissingError, RequestIdInvalidError, TransientError } from '../../contracts/errors.js';
import { parseInboxManifestKey } from '../../contracts/keys.js';
import { resolveSeed } from '../../contracts/manifest.js';
import { METRIC_NAMES } from '../../contracts/metrics.js';
import { countMetric, requestLogger } from '../observability.js';
import { claimRequest, enqueueWork } from './claim-request.js';
import type { DispatchContext, DispatchDeps, DispatchInput, DispatchResult } from './dispatch-context.js';
import { rejectRequest } from './reject-request.js';
import { rejectInvalidIdUpload } from './reject-upload.js';
import { resumeRequest } from './resume-request.js';
import { validateRequest } from './validate-request.js';

export type { DispatchDeps, DispatchInput, DispatchResult } from './dispatch-context.js';

/** The request id of an inbox manifest key; for any other object, what to answer instead. */
async function requestIdOf(
  deps: DispatchDeps,
  input: DispatchInput,
): Promise<{ requestId: string } | { skip: DispatchResult }> {
  if (input.bucket !== deps.bucket) {
    deps.logger.warn('ignoring an event from another bucket', { bucket: input.bucket, key: input.key });
    return { skip: 'ignored' };
  }
  try {
    const requestId = parseInboxManifestKey(input.key);
    if (requestId !== undefined) return { requestId };
    deps.logger.info('ignoring a key outside inbox/*/manifest.json', { key: input.key });
    return { skip: 'ignored' };
  } catch (error) {
    if (!(error instanceof RequestIdInvalidError)) throw error;
    // No status can be keyed by an invalid id: one log line and one event under a derived id.
    const outcome = await rejectInvalidIdUpload(deps, input, error);
    return { skip: outcome === 'published' ? 'rejected' : 'duplicate' };
  }
}

async function dispatchNew(ctx: DispatchContext): Promise<DispatchResult> {
  const { deps, input, log } = ctx;
  const validation = await validateRequest(deps.objects, ctx.requestId);
  if (!validation.valid) {
    const { error } = validation;
    if (error instanceof ImageMissingError && input.receiveCount < deps.imageWaitReceives) {
      // The manifest may have overtaken its images: let SQS redeliver before giving up.
      log.info('image not there yet; waiting for a redelivery', {
        receive_count: input.receiveCount,
        gives_up_at: deps.imageWaitReceives,
        error_message: error.message,
      });
      throw new TransientError(`waiting for the images of ${ctx.requestId}: ${error.message}`, {
        cause: error,
      });
    }
    const rejected = await rejectRequest(ctx, error, validation);
    return rejected === 'rejected' ? rejected : resumeRequest(ctx, validation);
  }
  const { request } = validation;
  const manifest = resolveSeed(request.parsed.manifest, deps.randomSeed);
  if (!(await claimRequest(deps, request, manifest, input.deliveryId))) {
    return resumeRequest(ctx, { manifest: request.parsed.manifest, etag: request.manifestEtag });
  }
  const message = await enqueueWork(deps, request, manifest);
  log.info('request accepted', {
    seed: manifest.seed,
    format: request.parsed.format,
    width: message.geometry.width,
    height: message.geometry.height,
    frames: message.geometry.frames,
  });
  countMetric(deps.metrics, METRIC_NAMES.requestsAccepted);
  return 'accepted';
}

/** Handles one inbox object: returns what happened, or throws when a retry can help. */
export async function dispatchRequest(deps: DispatchDeps, input: DispatchInput): Promise<DispatchResult> {
  const target = await requestIdOf(deps, input);
  if ('skip' in target) return target.skip;
  const { requestId } = target;
  const ctx: DispatchContext = { deps, input, requestId, log: requestLogger(deps.logger, requestId) };
  // A status means an earlier delivery got here first; reading it spares duplicates the image checks.
  if ((await deps.statuses.read(requestId)) !== undefined) return resumeRequest(ctx);
  return dispatchNew(ctx);
}
