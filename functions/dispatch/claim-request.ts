/**
 * Claiming a request and handing it to the workers. The claim is the conditional create of
 * requests/<id>/status.json (If-None-Match: *): whoever creates it owns the request, so a duplicate
 * S3 event or a re-uploaded manifest never runs twice. The owner then sends the work message and
 * stamps `enqueued_at`; if it dies in between, its own retry (same SQS message id) or, after the lease,
 * any later delivery finishes the send.
 */
import type { ResolvedManifest } from '../../contracts/manifest.js';
import type { ObjectStore, StatusStore, WorkQueue } from '../../contracts/ports.js';
import type { StatusDocument } from '../../contracts/status.js';
import { type WorkMessage, WorkMessageSchema } from '../../contracts/work-message.js';
import type { ValidRequest } from './validate-request.js';

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
  const now = deps.now().toISOString();
  const status: StatusDocument = {
    version: 1,
    request_id: request.requestId,
    state: 'queued',
    created_at: now,
    updated_at: now,
    seed: manifest.seed,
    manifest_etag: request.manifestEtag,
    claimed_by: deliveryId,
    ...(manifest.client_reference === undefined ? {} : { client_reference: manifest.client_reference }),
  };
  return deps.statuses.create(status);
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
  const record = await deps.statuses.update(requestId, (current) => {
    if (current.state !== 'queued' || current.enqueued_at !== undefined) return undefined;
    const stale = deps.now().getTime() - Date.parse(current.updated_at) > leaseMs;
    if (current.claimed_by !== deliveryId && !stale) return undefined;
    return { ...current, claimed_by: deliveryId, updated_at: deps.now().toISOString() };
  });
  return record !== undefined;
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
    inputs: { start_key: request.start.key, end_key: request.end.key },
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
  await Promise.all(
    [request.start, request.end].map((image) =>
      image.inline === undefined
        ? undefined
        : deps.objects.put(image.key, image.inline, { contentType: `image/${image.info.format}` }),
    ),
  );
  const message = workMessage(deps, request, manifest);
  await deps.workQueue.send(JSON.stringify(message));
  // A fast worker may already run it; the stamp still goes on, so no later delivery re-sends.
  await deps.statuses.update(request.requestId, (current) =>
    (current.state === 'queued' || current.state === 'running') && current.enqueued_at === undefined
      ? { ...current, enqueued_at: message.enqueued_at, updated_at: deps.now().toISOString() }
      : undefined,
  );
  return message;
}
