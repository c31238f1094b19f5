/**
 * Uploads that never become a request: a manifest uploaded over an id that already has a request
 * (REQUEST_ID_REUSED), and one whose id is not a valid request id (REQUEST_ID_INVALID). Each gets one
 * `heritage.upload.rejected` event and touches no request: no status is written, and the outbox is
 * `requests/<id>/rejected-uploads/<ETag>.json` (its marker `<ETag>.published`), so every delivery of the same upload publishes it once
 * (docs/architecture.md, "Uploads that never become a request").
 */
import { createHash } from 'node:crypto';
import type { Logger } from '@aws-lambda-powertools/logger';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import { type HeritageError, RequestIdInvalidError, RequestIdReusedError } from '../../contracts/errors.js';
import { REQUEST_ID_RULE, requestKeys } from '../../contracts/keys.js';
import { uploadRejectedEvent } from '../../contracts/lifecycle/completion-event.js';
import type { StatusDocument } from '../../contracts/lifecycle/status.js';
import {
  type PublishOutcome,
  publishTerminalEvent,
  type TerminalEventDeps,
} from '../../contracts/lifecycle/terminal-event.js';
import { LEGACY_BODY_MAX_BYTES } from '../../contracts/manifest.js';
import { echoManifest, type ManifestEcho } from '../../contracts/manifest-echo.js';
import { METRIC_NAMES } from '../../contracts/metrics.js';
import type { ObjectStore } from '../../contracts/ports.js';
import { countMetric } from '../observability.js';

export interface UploadRejectionDeps extends TerminalEventDeps {
  bucket: string;
  logger: Logger;
  metrics: Metrics;
  leaseMs: number;
}

/** One manifest upload, as its S3 event names it. */
export interface ManifestUpload {
  key: string;
  /** The ETag in the S3 event: which version of the key this upload is. */
  etag?: string | undefined;
  /** The attempt handling it (unique per Lambda attempt), the owner of its outbox claim. */
  attemptId: string;
}

const unquote = (etag: string) => etag.replaceAll('"', '');

/**
 * Whether an upload is another one than the manifest the request was made from. The request's status
 * records the ETag of the manifest dispatch read; an event with another ETag is a new upload, one with
 * the same ETag a duplicate delivery. Without both ETags nothing can be told apart: a duplicate then.
 */
export function isReusedUpload(status: StatusDocument, etag: string | undefined): boolean {
  if (etag === undefined || status.manifest_etag === undefined) return false;
  return unquote(etag) !== unquote(status.manifest_etag);
}

/** What the upload itself says, if its manifest is still the version the event is about. */
async function readEcho(objects: ObjectStore, upload: ManifestUpload): Promise<ManifestEcho | undefined> {
  const head = await objects.head(upload.key);
  if (head === undefined || head.size > LEGACY_BODY_MAX_BYTES) return undefined;
  if (upload.etag !== undefined && unquote(head.etag) !== unquote(upload.etag)) return undefined;
  const object = await objects.get(upload.key);
  return object === undefined ? undefined : echoManifest(object.body);
}

async function publishUploadRejection(
  deps: UploadRejectionDeps,
  requestId: string,
  upload: ManifestUpload,
  error: HeritageError,
  echo: ManifestEcho | undefined,
): Promise<PublishOutcome> {
  const event = uploadRejectedEvent({ requestId, bucket: deps.bucket, error: error.toInfo(), echo });
  const outcome = await publishTerminalEvent(deps, event, {
    owner: upload.attemptId,
    leaseMs: deps.leaseMs,
    outbox: requestKeys(requestId).rejectedUpload(upload.etag ?? 'unknown'),
  });
  if (outcome === 'published') {
    countMetric(deps.metrics, METRIC_NAMES.uploadsRejected, { code: error.code, requestId });
  }
  return outcome;
}

/** A new manifest over an id that already has a request: rejected, the request left as it is. */
export async function rejectReusedUpload(
  deps: UploadRejectionDeps,
  status: StatusDocument,
  upload: ManifestUpload,
): Promise<PublishOutcome> {
  const id = status.request_id;
  const error = new RequestIdReusedError(
    `request id ${id} is already used by a request that is ${status.state}; this upload of ` +
      `${upload.key} was not run and that request is unchanged. Request ids are single-use: upload the ` +
      'images and the manifest again under a new id',
    {
      details: {
        manifest_key: upload.key,
        manifest_etag: upload.etag ?? null,
        request_state: status.state,
        request_manifest_etag: status.manifest_etag ?? null,
      },
    },
  );
  const echo = await readEcho(deps.objects, upload);
  const outcome = await publishUploadRejection(deps, id, upload, error, echo);
  deps.logger.warn('manifest uploaded over a used request id: rejected, the request is unchanged', {
    request_id: id,
    key: upload.key,
    manifest_etag: upload.etag,
    request_state: status.state,
    outcome,
  });
  return outcome;
}

/**
 * The id an event about an upload under an invalid id is published under: the invalid id itself could
 * name a path (`..`) or anything else a client might build a key or a file name from.
 */
export function derivedRequestId(key: string): string {
  return `invalid-id-${createHash('sha256').update(key).digest('hex').slice(0, 16)}`;
}

/**
 * A manifest under inbox/<id>/ whose <id> breaks the rule: one log line, one event under a derived id.
 * Its object is not read (a key such as inbox/../manifest.json is no key to hand to anything), so the
 * event echoes nothing of it but the key.
 */
export async function rejectInvalidIdUpload(
  deps: UploadRejectionDeps,
  upload: ManifestUpload,
  cause: RequestIdInvalidError,
): Promise<PublishOutcome> {
  const derived = derivedRequestId(upload.key);
  const error = new RequestIdInvalidError(`${upload.key}: ${cause.message}; nothing was run`, {
    details: { key: upload.key, rule: REQUEST_ID_RULE, event_request_id: derived },
  });
  deps.logger.error(`manifest under an invalid request id, not run: ${upload.key}: ${REQUEST_ID_RULE}`, {
    key: upload.key,
    error_code: error.code,
    event_request_id: derived,
  });
  return publishUploadRejection(deps, derived, upload, error, undefined);
}
