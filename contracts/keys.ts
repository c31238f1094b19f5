/** The S3 key layout (design.md §2). Every key Heritage reads or writes is built here and nowhere else. */
import { z } from 'zod';
import { RequestIdInvalidError } from './errors.js';

export const REQUEST_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;
/** Object names inside inbox/<id>/: no path separators, no dot-dot, no control characters. */
export const IMAGE_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

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
  .refine((name) => name !== 'manifest.json', 'must not be the manifest itself');

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
  /** The terminal-event outbox: the one completion event of the request and whether it went out. */
  event: string;
  /** The outbox of the one `heritage.upload.rejected` event of an upload that never became the request. */
  rejectedUpload(manifestEtag: string): string;
  outputsPrefix: string;
  framesPrefix: string;
  frame(index: number): string;
  video: string;
  result: string;
}

/** An ETag as a key segment: S3 quotes it in headers and not in events; multipart ETags end in -N. */
function etagToken(etag: string): string {
  const token = etag.replace(/[^A-Za-z0-9-]/g, '').slice(0, 64);
  return token === '' ? 'unknown' : token;
}

export function requestKeys(requestId: string): RequestKeys {
  const id = assertRequestId(requestId);
  const framesPrefix = `outputs/${id}/frames/`;
  return {
    inboxPrefix: `inbox/${id}/`,
    manifest: `inbox/${id}/manifest.json`,
    inboxObject: (name) => `inbox/${id}/${ImageNameSchema.parse(name)}`,
    inlineInput: (name) => `requests/${id}/inputs/${ImageNameSchema.parse(name)}`,
    status: `requests/${id}/status.json`,
    event: `requests/${id}/event.json`,
    rejectedUpload: (manifestEtag) => `requests/${id}/rejected-uploads/${etagToken(manifestEtag)}.json`,
    outputsPrefix: `outputs/${id}/`,
    framesPrefix,
    frame: (index) => `${framesPrefix}${frameFileName(index)}`,
    video: `outputs/${id}/video.mp4`,
    result: `outputs/${id}/result.json`,
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
