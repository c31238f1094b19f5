/**
 * The dispatch use case for one uploaded manifest: validate, claim, enqueue; or reject with a code.
 * Every manifest ends in exactly one of: a work message (the worker then publishes the terminal event),
 * or one `rejected` event. Duplicates are logged and acknowledged.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import {
  type ErrorInfo,
  type HeritageError,
  ImageMissingError,
  isHeritageError,
  TransientError,
} from '../../contracts/errors.js';
import { parseInboxManifestKey } from '../../contracts/keys.js';
import { type Manifest, resolveSeed } from '../../contracts/manifest.js';
import type { EventPublisher, StatusRecord } from '../../contracts/ports.js';
import { failureEvent } from '../failure-event.js';
import { countMetric, requestLogger } from '../observability.js';
import { publishTerminalEvent } from '../terminal-event.js';
import { type ClaimDeps, claimRequest, enqueueWork, takeOverClaim } from './claim-request.js';
import { checkImages, readManifest, tryReadManifest, type ValidRequest } from './validate-request.js';

export interface DispatchDeps extends ClaimDeps {
  events: EventPublisher;
  logger: Logger;
  metrics: Metrics;
  /** Receives of one intake message before a missing image is final: images may still be uploading. */
  imageWaitReceives: number;
  /** Age after which another delivery may finish a claim or an event publication left unfinished. */
  leaseMs: number;
  randomSeed?: () => number;
}

export interface DispatchInput {
  bucket: string;
  key: string;
  /** The intake SQS message id: stable across redeliveries of the same message. */
  deliveryId: string;
  /** SQS ApproximateReceiveCount of the intake message. */
  receiveCount: number;
}

export type DispatchResult = 'accepted' | 'duplicate' | 'rejected' | 'ignored';

interface Context {
  deps: DispatchDeps;
  input: DispatchInput;
  requestId: string;
  log: Logger;
}

async function reject(ctx: Context, error: HeritageError, manifest?: Manifest): Promise<DispatchResult> {
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
  if (!created) return resume(ctx, manifest);
  await publishRejection(ctx, error.toInfo(), clientReference, manifest);
  return 'rejected';
}

async function publishRejection(
  ctx: Context,
  error: ErrorInfo,
  clientReference: string | undefined,
  manifest: Manifest | undefined,
): Promise<'published' | 'already-published'> {
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
    countMetric(deps.metrics, 'RequestsRejected', { code: error.code });
  }
  return outcome;
}

function duplicate(ctx: Context, record: StatusRecord): DispatchResult {
  ctx.log.info('duplicate event: request already claimed', {
    state: record.status.state,
    claimed_by: record.status.claimed_by,
    delivery_id: ctx.input.deliveryId,
  });
  countMetric(ctx.deps.metrics, 'DuplicateEvents');
  return 'duplicate';
}

/** The request already has a status: finish what an earlier delivery left undone, or acknowledge. */
async function resume(ctx: Context, manifest?: Manifest): Promise<DispatchResult> {
  const { deps, input, requestId, log } = ctx;
  const record = await deps.statuses.read(requestId);
  if (record === undefined) throw new TransientError(`status of ${requestId} vanished after a lost claim`);
  const { status } = record;
  if (status.state === 'rejected' && status.error !== undefined) {
    const parsed = manifest ?? (await tryReadManifest(deps.objects, requestId))?.manifest;
    const outcome = await publishRejection(ctx, status.error, status.client_reference, parsed);
    return outcome === 'published' ? 'rejected' : duplicate(ctx, record);
  }
  if (status.state === 'failed' && status.error !== undefined && status.claimed_by === input.deliveryId) {
    // This delivery failed the claim earlier (validateClaimed) and may not have got the event out.
    const event = failureEvent({ status: 'failed', requestId, bucket: deps.bucket, error: status.error });
    const outcome = await publishTerminalEvent(deps, event, {
      owner: input.deliveryId,
      leaseMs: deps.leaseMs,
    });
    return outcome === 'published' ? 'rejected' : duplicate(ctx, record);
  }
  if (status.state === 'queued' && status.enqueued_at === undefined) {
    if (!(await takeOverClaim(deps, requestId, input.deliveryId, deps.leaseMs)))
      return duplicate(ctx, record);
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
    countMetric(deps.metrics, 'RequestsAccepted');
    return 'accepted';
  }
  return duplicate(ctx, record);
}

/**
 * Validates again for a claim being finished. Input that went bad since the claim (a replaced manifest,
 * a deleted image) fails the queued request with its code: undefined then.
 */
async function validateClaimed(ctx: Context): Promise<ValidRequest | undefined> {
  const { deps, input, requestId, log } = ctx;
  let manifest: Manifest | undefined;
  try {
    const { parsed, etag } = await readManifest(deps.objects, requestId);
    manifest = parsed.manifest;
    const images = await checkImages(deps.objects, requestId, parsed);
    return { requestId, parsed, manifestEtag: etag, ...images };
  } catch (error) {
    if (!isHeritageError(error) || error.retryable) throw error;
    const info = error.toInfo();
    const failed = await deps.statuses.update(requestId, (current) =>
      current.state === 'queued' && current.enqueued_at === undefined
        ? { ...current, state: 'failed', error: info, updated_at: deps.now().toISOString() }
        : undefined,
    );
    if (failed !== undefined) {
      const event = failureEvent({ status: 'failed', requestId, bucket: deps.bucket, error: info, manifest });
      await publishTerminalEvent(deps, event, { owner: input.deliveryId, leaseMs: deps.leaseMs });
      log.warn('claimed request failed: its input went bad before the work message was sent', {
        error_code: info.code,
      });
      countMetric(deps.metrics, 'RequestsFailed', { code: info.code });
    }
    return undefined;
  }
}

async function validateOrReject(ctx: Context): Promise<ValidRequest | DispatchResult> {
  let manifest: Manifest | undefined;
  try {
    const { parsed, etag } = await readManifest(ctx.deps.objects, ctx.requestId);
    manifest = parsed.manifest;
    const images = await checkImages(ctx.deps.objects, ctx.requestId, parsed);
    return { requestId: ctx.requestId, parsed, manifestEtag: etag, ...images };
  } catch (error) {
    if (!isHeritageError(error) || error.retryable) throw error;
    if (error instanceof ImageMissingError && ctx.input.receiveCount < ctx.deps.imageWaitReceives) {
      // The manifest may have overtaken its images: let SQS redeliver before giving up.
      ctx.log.info('image not there yet; waiting for a redelivery', {
        receive_count: ctx.input.receiveCount,
        gives_up_at: ctx.deps.imageWaitReceives,
        error_message: error.message,
      });
      throw new TransientError(`waiting for the images of ${ctx.requestId}: ${error.message}`, {
        cause: error,
      });
    }
    return reject(ctx, error, manifest);
  }
}

/** Handles one inbox object: returns what happened, or throws when a retry can help. */
export async function dispatchRequest(deps: DispatchDeps, input: DispatchInput): Promise<DispatchResult> {
  if (input.bucket !== deps.bucket) {
    deps.logger.warn('ignoring an event from another bucket', { bucket: input.bucket, key: input.key });
    return 'ignored';
  }
  let requestId: string | undefined;
  try {
    requestId = parseInboxManifestKey(input.key);
  } catch (error) {
    // No valid id, so no status or event can be keyed by it: report it loudly and move on.
    deps.logger.error('manifest under an invalid request id', { key: input.key, error });
    countMetric(deps.metrics, 'RequestsRejected', { code: 'REQUEST_ID_INVALID' });
    return 'rejected';
  }
  if (requestId === undefined) {
    deps.logger.info('ignoring a key outside inbox/*/manifest.json', { key: input.key });
    return 'ignored';
  }
  const ctx: Context = { deps, input, requestId, log: requestLogger(deps.logger, requestId) };
  if ((await deps.statuses.read(requestId)) !== undefined) return resume(ctx);

  const validated = await validateOrReject(ctx);
  if (typeof validated === 'string') return validated;
  const manifest = resolveSeed(validated.parsed.manifest, deps.randomSeed);
  if (!(await claimRequest(deps, validated, manifest, input.deliveryId))) return resume(ctx, manifest);
  const message = await enqueueWork(deps, validated, manifest);
  ctx.log.info('request accepted', {
    seed: manifest.seed,
    format: validated.parsed.format,
    width: message.geometry.width,
    height: message.geometry.height,
    frames: message.geometry.frames,
  });
  countMetric(deps.metrics, 'RequestsAccepted');
  return 'accepted';
}
