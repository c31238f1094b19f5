/**
 * The dispatch use case for one uploaded manifest: validate, claim, enqueue; or reject with a code.
 * Every manifest ends in exactly one of: a work message (the worker then publishes the terminal event),
 * or one `rejected` event. Duplicates are logged and acknowledged.
 */
import { ImageMissingError, TransientError } from '../../contracts/errors.js';
import { parseInboxManifestKey } from '../../contracts/keys.js';
import { resolveSeed } from '../../contracts/manifest.js';
import { METRIC_NAMES } from '../../contracts/metrics.js';
import { countMetric, requestLogger } from '../observability.js';
import { claimRequest, enqueueWork } from './claim-request.js';
import type { DispatchContext, DispatchDeps, DispatchInput, DispatchResult } from './dispatch-context.js';
import { rejectRequest } from './reject-request.js';
import { resumeRequest } from './resume-request.js';
import { validateRequest } from './validate-request.js';

export type { DispatchDeps, DispatchInput, DispatchResult } from './dispatch-context.js';

/** The request id of an inbox manifest key; for any other object, what to answer instead. */
function requestIdOf(
  deps: DispatchDeps,
  input: DispatchInput,
): { requestId: string } | { skip: DispatchResult } {
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
    // No valid id, so no status or event can be keyed by it: report it loudly and move on.
    deps.logger.error('manifest under an invalid request id', { key: input.key, error });
    countMetric(deps.metrics, METRIC_NAMES.requestsRejected, { code: 'REQUEST_ID_INVALID' });
    return { skip: 'rejected' };
  }
}

async function dispatchNew(ctx: DispatchContext): Promise<DispatchResult> {
  const { deps, input, log } = ctx;
  const validation = await validateRequest(deps.objects, ctx.requestId);
  if (!validation.valid) {
    const { error, manifest } = validation;
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
    const rejected = await rejectRequest(ctx, error, manifest);
    return rejected === 'rejected' ? rejected : resumeRequest(ctx, manifest);
  }
  const { request } = validation;
  const manifest = resolveSeed(request.parsed.manifest, deps.randomSeed);
  if (!(await claimRequest(deps, request, manifest, input.deliveryId))) return resumeRequest(ctx, manifest);
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
  const target = requestIdOf(deps, input);
  if ('skip' in target) return target.skip;
  const { requestId } = target;
  const ctx: DispatchContext = { deps, input, requestId, log: requestLogger(deps.logger, requestId) };
  // A status means an earlier delivery got here first; reading it spares duplicates the image checks.
  if ((await deps.statuses.read(requestId)) !== undefined) return resumeRequest(ctx);
  return dispatchNew(ctx);
}
