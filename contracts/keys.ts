/**
 * The S3 key layout (docs/architecture.md, README "What you get back"). Every key Heritage reads or
 * writes, and every prefix infra grants or expires, is built here and nowhere else.
 */
import { z } from 'zod';
import { RequestIdInvalidError } from './errors.js';

/** The three top-level prefixes of the request bucket: the client's, dispatch's and the worker's. */
export const INBOX_PREFIX = 'inbox/';
export const REQUESTS_PREFIX = 'requests/';
export const OUTPUTS_PREFIX = 'outputs/';
/** The object whose creation starts a request (the S3 notification's suffix filter). */
export const MANIFEST_NAME = 'manifest.json';
const STATUS_NAME = 'status.json';
const EVENT_PUBLISHED_NAME = 'event.published';

export const REQUEST_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;
/** Object names inside inbox/<id>/: no path separators, no dot-dot, no control characters. */
export const IMAGE_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
const RASTER_EXTENSION = /\.(png|jpe?g|webp)$/i;

/** The rule REQUEST_ID_PATTERN checks, in words, for error messages. */
export const REQUEST_ID_RULE =
  'a request id is 1-64 characters of A-Z, a-z, 0-9, "_" or "-", starting with a letter or digit';

export const RequestIdSchema = z
  .string()
  .regex(
    REQUEST_ID_PATTERN,
    'must be 1-64 characters of A-Z, a-z, 0-9, "_" or "-", starting with a letter or digit',
  )
  .describe('Request id: the <id> in inbox/<id>/.');

export const ImageNameSchema = z
  .string()
  .regex(IMAGE_NAME_PATTERN, 'must be a plain file name inside inbox/<id>/ (letters, digits, ".", "_", "-")')
  .refine((name) => !name.includes('..'), 'must not contain ".."')
  .refine((name) => name !== 'manifest.json', 'must not be the manifest itself')
  .refine(
    (name) => RASTER_EXTENSION.test(name),
    'must name a PNG, JPEG or WebP file (.png, .jpg, .jpeg or .webp); other formats, SVG included, are not accepted',
  );

export function assertRequestId(id: string): string {
  if (!REQUEST_ID_PATTERN.test(id)) {
    throw new RequestIdInvalidError(
      `request id ${JSON.stringify(id.slice(0, 80))} is invalid: use 1-64 characters of A-Z, a-z, 0-9, "_" or "-", starting with a letter or digit`,
      { details: { request_id: id.slice(0, 80) } },
    );
  }
  return id;
}

export const FRAME_FILE_PATTERN = /^frame_(\d{5})\.png$/;

/** 1-based, zero-padded: frame_00001.png. */
export function frameFileName(index: number): string {
  if (!Number.isInteger(index) || index < 1 || index > 99_999) throw new RangeError(`frame index ${index}`);
  return `frame_${String(index).padStart(5, '0')}.png`;
}

export interface RequestKeys {
  inboxPrefix: string;
  manifest: string;
  inboxObject(name: string): string;
  /** Where dispatch stores images that came inline (base64) in a legacy request body. */
  inlineInput(name: string): string;
  status: string;
  /** The terminal-event outbox: the one completion event of the request, claimed before it goes out. */
  event: string;
  /** Created once SNS has taken the event: its presence alone says the event went out. */
  eventPublished: string;
  /**
   * The outbox of the one `heritage.upload.rejected` event of an upload that never became the request,
   * under requests/<id>/rejected-uploads/, one per manifest ETag.
   */
  rejectedUpload(manifestEtag: string): OutboxKeys;
  outputsPrefix: string;
  framesPrefix: string;
  frame(index: number): string;
  video: string;
  result: string;
}

/** An outbox: the claimed event, and the marker created once SNS took it (lifecycle/terminal-event.ts). */
export interface OutboxKeys {
  event: string;
  published: string;
}

/** An ETag as a key segment: S3 quotes it in headers and not in events; multipart ETags end in -N. */
function etagToken(etag: string): string {
  const token = etag.replace(/[^A-Za-z0-9-]/g, '').slice(0, 64);
  return token === '' ? 'unknown' : token;
}

export function requestKeys(requestId: string): RequestKeys {
  const { inbox, requests, outputs } = requestPrefixes(requestId);
  const framesPrefix = `${outputs}frames/`;
  return {
    inboxPrefix: inbox,
    manifest: `${inbox}${MANIFEST_NAME}`,
    inboxObject: (name) => `${inbox}${ImageNameSchema.parse(name)}`,
    inlineInput: (name) => `${requests}inputs/${ImageNameSchema.parse(name)}`,
    status: `${requests}${STATUS_NAME}`,
    event: `${requests}event.json`,
    eventPublished: `${requests}${EVENT_PUBLISHED_NAME}`,
    rejectedUpload: (manifestEtag) => {
      const base = `${requests}rejected-uploads/${etagToken(manifestEtag)}`;
      return { event: `${base}.json`, published: `${base}.published` };
    },
    outputsPrefix: outputs,
    framesPrefix,
    frame: (index) => `${framesPrefix}${frameFileName(index)}`,
    video: `${outputs}video.mp4`,
    result: `${outputs}result.json`,
  };
}

/** The three prefixes that hold one request's objects; no other request's key starts with any of them. */
export interface RequestPrefixes {
  /** The client's uploads: manifest and images. */
  inbox: string;
  /** Status, event outbox and inline inputs. */
  requests: string;
  /** Frames, video and result.json. */
  outputs: string;
}

/**
 * A request's prefixes, each ending in "/": a request id cannot contain "/", so `inbox/ab/` never
 * covers `inbox/abc/`. IAM session policies are built from these (request-access-policy.ts).
 */
export function requestPrefixes(requestId: string): RequestPrefixes {
  const id = assertRequestId(requestId);
  return {
    inbox: `${INBOX_PREFIX}${id}/`,
    requests: `${REQUESTS_PREFIX}${id}/`,
    outputs: `${OUTPUTS_PREFIX}${id}/`,
  };
}

const INBOX_MANIFEST = /^inbox\/([^/]*)\/manifest\.json$/;

/**
 * Reads the request id out of an inbox manifest key. Returns undefined for keys that are not
 * inbox/<something>/manifest.json; throws RequestIdInvalidError when <something> is not a valid id.
 */
export function parseInboxManifestKey(key: string): string | undefined {
  const match = INBOX_MANIFEST.exec(key);
  if (match === null) return undefined;
  return assertRequestId(match[1] ?? '');
}

const INBOX_REQUEST = /^inbox\/([^/]+)\//;

/** The <id> segment of any inbox key, valid or not, for logging a key that cannot be a request. */
export function inboxSegment(key: string): string | undefined {
  return INBOX_REQUEST.exec(key)?.[1];
}

const REQUESTS_KEY = /^requests\/([^/]+)\/([^/]+)$/;

/**
 * What a key directly under requests/<id>/ is: the status, the published marker, or another file
 * (the outbox, inline inputs are deeper). Undefined for any other key.
 */
export function parseRequestsKey(
  key: string,
): { requestId: string; kind: 'status' | 'published' | 'other' } | undefined {
  const match = REQUESTS_KEY.exec(key);
  const requestId = match?.[1];
  if (match === null || requestId === undefined || !REQUEST_ID_PATTERN.test(requestId)) return undefined;
  const kind =
    match[2] === STATUS_NAME ? 'status' : match[2] === EVENT_PUBLISHED_NAME ? 'published' : 'other';
  return { requestId, kind };
}
