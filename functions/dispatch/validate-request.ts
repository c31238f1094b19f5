/**
 * Reads and checks everything a request brings before it is claimed: the manifest (size-capped, parsed,
 * validated) and both images (HEAD, then the header and the last bytes by ranged GET, never the whole
 * file), then the output geometry. Input problems throw HeritageErrors that are not retryable.
 */
import {
  type HeritageError,
  ImageMissingError,
  isHeritageError,
  ManifestMissingError,
  ManifestTooLargeError,
  TransientError,
} from '../../contracts/errors.js';
import { computeGeometry, type Geometry } from '../../contracts/geometry.js';
import {
  IMAGE_HEADER_PROBE_BYTES,
  IMAGE_LIMITS,
  IMAGE_TAIL_PROBE_BYTES,
  type ImageInfo,
  inspectImage,
} from '../../contracts/image-header.js';
import { requestKeys } from '../../contracts/keys.js';
import {
  LEGACY_BODY_MAX_BYTES,
  MANIFEST_MAX_BYTES,
  type Manifest,
  type ParsedManifest,
  parseManifest,
} from '../../contracts/manifest.js';
import { echoManifest, type ManifestEcho } from '../../contracts/manifest-echo.js';
import type { ObjectStore } from '../../contracts/ports.js';

export interface CheckedImage {
  /** Where the worker reads it: inbox/<id>/<name>, or requests/<id>/inputs/ for inline images. */
  key: string;
  info: ImageInfo;
  /** The checked object's ETag and size (inline images get theirs when dispatch stores them). */
  etag?: string;
  bytes: number;
  /** Inline (legacy) images that dispatch must store before sending the work message. */
  inline?: Uint8Array;
}

export interface ValidRequest {
  requestId: string;
  parsed: ParsedManifest;
  manifestEtag: string;
  start: CheckedImage;
  end: CheckedImage;
  geometry: Geometry;
}

const EXTENSIONS = { png: 'png', jpeg: 'jpg', webp: 'webp' } as const;

/** The manifest object as uploaded, refusing one over the legacy cap before downloading it. */
export async function readManifestObject(
  objects: ObjectStore,
  requestId: string,
): Promise<{ body: Uint8Array; etag: string }> {
  const key = requestKeys(requestId).manifest;
  const head = await objects.head(key);
  if (head === undefined) throw new ManifestMissingError(`${key} does not exist (deleted after upload?)`);
  if (head.size > LEGACY_BODY_MAX_BYTES) {
    throw new ManifestTooLargeError(
      `manifest is ${head.size} bytes; the limit is ${MANIFEST_MAX_BYTES} bytes`,
      {
        details: { bytes: head.size, limit: MANIFEST_MAX_BYTES },
      },
    );
  }
  const object = await objects.get(key);
  if (object === undefined) throw new ManifestMissingError(`${key} does not exist (deleted after upload?)`);
  return { body: object.body, etag: object.etag };
}

async function checkStoredImage(objects: ObjectStore, key: string, label: string): Promise<CheckedImage> {
  const head = await objects.head(key);
  if (head === undefined) {
    throw new ImageMissingError(`${label} ${key} does not exist; upload both images before the manifest`, {
      details: { key },
    });
  }
  if (head.size === 0 || head.size > IMAGE_LIMITS.maxBytes) {
    // inspectImage refuses empty and oversized files on their size alone; nothing needs reading.
    return { key, info: inspectImage(new Uint8Array(), { totalSize: head.size, label }), bytes: head.size };
  }
  const probe = Math.min(head.size, IMAGE_HEADER_PROBE_BYTES);
  const [header, tail] = await Promise.all([
    objects.get(key, { start: 0, end: probe - 1 }),
    head.size > probe
      ? objects.get(key, { start: head.size - IMAGE_TAIL_PROBE_BYTES, end: head.size - 1 })
      : Promise.resolve(undefined),
  ]);
  if (header === undefined) throw new ImageMissingError(`${label} ${key} disappeared while being checked`);
  if (header.etag !== head.etag) {
    throw new TransientError(`${label} ${key} changed while being checked`, { details: { key } });
  }
  return {
    key,
    etag: head.etag,
    bytes: head.size,
    info: inspectImage(header.body, {
      totalSize: head.size,
      label,
      ...(tail === undefined ? {} : { tail: tail.body }),
    }),
  };
}

function checkInlineImage(requestId: string, bytes: Uint8Array, name: 'start' | 'end'): CheckedImage {
  const info = inspectImage(bytes, { label: `${name} image` });
  return {
    key: requestKeys(requestId).inlineInput(`${name}.${EXTENSIONS[info.format]}`),
    info,
    bytes: bytes.byteLength,
    inline: bytes,
  };
}

/**
 * Both checks run at once; the error reported does not depend on which finished first. A bad image
 * wins over a missing one (that one may still be uploading, the bad one will not get better), and
 * otherwise the start image's error comes first.
 */
async function bothImages(
  start: Promise<CheckedImage>,
  end: Promise<CheckedImage>,
): Promise<[CheckedImage, CheckedImage]> {
  const [first, second] = await Promise.allSettled([start, end]);
  if (first.status === 'fulfilled' && second.status === 'fulfilled') return [first.value, second.value];
  const errors = [first, second].flatMap((result) => (result.status === 'rejected' ? [result.reason] : []));
  throw errors.find((error) => !(error instanceof ImageMissingError)) ?? errors[0];
}

/** Checks both images and derives the output geometry from the start image. */
export async function checkImages(
  objects: ObjectStore,
  requestId: string,
  parsed: ParsedManifest,
): Promise<Pick<ValidRequest, 'start' | 'end' | 'geometry'>> {
  const keys = requestKeys(requestId);
  const { manifest, inlineImages } = parsed;
  const [start, end] =
    inlineImages === undefined
      ? await bothImages(
          checkStoredImage(objects, keys.inboxObject(manifest.start_image), 'start image'),
          checkStoredImage(objects, keys.inboxObject(manifest.end_image), 'end image'),
        )
      : [
          checkInlineImage(requestId, inlineImages.start, 'start'),
          checkInlineImage(requestId, inlineImages.end, 'end'),
        ];
  return { start, end, geometry: computeGeometry(start.info, manifest) };
}

/** What a rejected or failed event can echo of the manifest: all of it when valid, else what reads. */
export interface ManifestForEvent {
  manifest?: Manifest;
  echo?: ManifestEcho;
  /** The ETag of the manifest read, when there was one to read. */
  etag?: string;
}

/** The manifest as far as it can be read, for an event's client_reference and parameters. */
export async function tryReadManifest(objects: ObjectStore, requestId: string): Promise<ManifestForEvent> {
  let object: { body: Uint8Array; etag: string };
  try {
    object = await readManifestObject(objects, requestId);
  } catch (error) {
    if (isHeritageError(error)) return {};
    throw error;
  }
  try {
    return { manifest: parseManifest(object.body).manifest, etag: object.etag };
  } catch (error) {
    if (!isHeritageError(error)) throw error;
    const echo = echoManifest(object.body);
    return { ...(echo === undefined ? {} : { echo }), etag: object.etag };
  }
}

export type Validation =
  | { valid: true; request: ValidRequest }
  /** Bad input, with what an event can echo of the manifest (`manifest` when it was itself fine). */
  | ({ valid: false; error: HeritageError } & ManifestForEvent);

/** Everything a request brings, checked. Bad input is returned; AWS failures are thrown. */
export async function validateRequest(objects: ObjectStore, requestId: string): Promise<Validation> {
  let object: { body: Uint8Array; etag: string } | undefined;
  let manifest: Manifest | undefined;
  try {
    object = await readManifestObject(objects, requestId);
    const parsed = parseManifest(object.body);
    manifest = parsed.manifest;
    const images = await checkImages(objects, requestId, parsed);
    return { valid: true, request: { requestId, parsed, manifestEtag: object.etag, ...images } };
  } catch (error) {
    if (!isHeritageError(error) || error.retryable) throw error;
    const echo = manifest === undefined && object !== undefined ? echoManifest(object.body) : undefined;
    return {
      valid: false,
      error,
      ...(manifest === undefined ? {} : { manifest }),
      ...(echo === undefined ? {} : { echo }),
      ...(object === undefined ? {} : { etag: object.etag }),
    };
  }
}
