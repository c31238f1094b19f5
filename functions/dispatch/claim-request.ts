/**
 * Claiming a request and handing it to the workers. The claim is the conditional create of
 * requests/<id>/status.json (If-None-Match: *): whoever creates it owns the request, so a duplicate
 * S3 event or a re-uploaded manifest never runs twice. The owner then sends the work message and
 * stamps `enqueued_at`; if it dies in between, its own retry (same SQS message id) or, after the lease,
 * any later delivery finishes the send.
 */

import { InternalError } from '../../contracts/errors.js';
import { claimedStatus, enqueue, takeOver } from '../../contracts/lifecycle/transitions.js';
import type { ResolvedManifest } from '../../contracts/manifest.js';
import type { ObjectStore, StatusStore, WorkQueue } from '../../contracts/ports.js';
import { type PinnedImage, type WorkMessage, WorkMessageSchema } from '../../contracts/work-message.js';
import type { CheckedImage, ValidRequest } from './validate-request.js';

export interface ClaimDeps {
  bucket: string;
  objects: ObjectStore;
  statuses: StatusStore;
  workQueue: WorkQueue;
  now: () => Date;
}

/** Creates the `queued` status. False when the request was already claimed (a duplicate). */
export async function claimRequest(
  deps: ClaimDeps,
  request: ValidRequest,
  manifest: ResolvedManifest,
  deliveryId: string,
): Promise<boolean> {
  return deps.statuses.create(
    claimedStatus({
      requestId: request.requestId,
      deliveryId,
      seed: manifest.seed,
      parameters: {
        steps: manifest.steps,
        resolution: manifest.resolution,
        frame_length: manifest.frame_length,
        seed: manifest.seed,
        interpolation: manifest.interpolation,
      },
      manifestEtag: request.manifestEtag,
      clientReference: manifest.client_reference,
      now: deps.now(),
    }),
  );
}

/**
 * Takes over a claim whose work message never went out: allowed for the claim's own delivery, or for
 * anyone once the claim is older than the lease. True when this delivery now owns the send.
 */
export async function takeOverClaim(
  deps: ClaimDeps,
  requestId: string,
  deliveryId: string,
  leaseMs: number,
): Promise<boolean> {
  const record = await deps.statuses.update(requestId, takeOver({ deliveryId, leaseMs, now: deps.now() }));
  return record !== undefined;
}

function pinned(image: CheckedImage): PinnedImage {
  if (image.etag === undefined) throw new InternalError(`${image.key} has no ETag: it was never stored`);
  const { format, width, height, orientation } = image.info;
  return { key: image.key, etag: image.etag, bytes: image.bytes, format, width, height, orientation };
}

export function workMessage(
  deps: Pick<ClaimDeps, 'bucket' | 'now'>,
  request: ValidRequest,
  manifest: ResolvedManifest,
): WorkMessage {
  return WorkMessageSchema.parse({
    version: 1,
    request_id: request.requestId,
    bucket: deps.bucket,
    manifest_etag: request.manifestEtag,
    manifest,
    inputs: { start: pinned(request.start), end: pinned(request.end) },
    geometry: request.geometry,
    enqueued_at: deps.now().toISOString(),
  });
}

/** Stores inline images, sends the work message, then records that it went out. */
export async function enqueueWork(
  deps: ClaimDeps,
  request: ValidRequest,
  manifest: ResolvedManifest,
): Promise<WorkMessage> {
  // Inline images are stored now; their ETags pin them in the message like uploaded ones.
  const [start, end] = await Promise.all(
    [request.start, request.end].map(async (image) =>
      image.inline === undefined
        ? image
        : {
            ...image,
            etag: (
              await deps.objects.put(image.key, image.inline, { contentType: `image/${image.info.format}` })
            ).etag,
          },
    ),
  );
  const message = workMessage(
    deps,
    { ...request, start: start ?? request.start, end: end ?? request.end },
    manifest,
  );
  await deps.workQueue.send(JSON.stringify(message));
  // A fast worker may already run it; the stamp still goes on, so no later delivery re-sends.
  await deps.statuses.update(
    request.requestId,
    enqueue({ enqueuedAt: message.enqueued_at, now: deps.now() }),
  );
  return message;
}
