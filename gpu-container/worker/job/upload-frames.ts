/**
 * Uploads a request's frames with bounded parallelism. Each frame is retried on transient errors; a
 * frame that still fails fails the whole upload (and so the request): a missing frame is never a warning.
 */
import { readFile } from 'node:fs/promises';
import { UploadFailedError } from '../../../contracts/errors.js';
import type { ObjectStore } from '../../../contracts/ports.js';
import { DEFAULT_RETRY, type RetryPolicy, withRetry } from '../retry.js';

export const DEFAULT_UPLOAD_CONCURRENCY = 32;

export interface FrameUpload {
  /** Local file. */
  path: string;
  key: string;
}

export interface UploadFramesOptions {
  concurrency?: number;
  retry?: RetryPolicy;
  signal?: AbortSignal;
  /** Called after each frame lands, with how many have. */
  onUploaded?: (done: number, total: number) => void;
}

/** Resolves with the total bytes uploaded; rejects with UploadFailedError on the first frame that fails for good. */
export async function uploadFrames(
  store: ObjectStore,
  frames: readonly FrameUpload[],
  options: UploadFramesOptions = {},
): Promise<{ bytes: number }> {
  const concurrency = Math.max(1, options.concurrency ?? DEFAULT_UPLOAD_CONCURRENCY);
  const failure = new AbortController();
  const signal =
    options.signal === undefined ? failure.signal : AbortSignal.any([failure.signal, options.signal]);
  let next = 0;
  let done = 0;
  let bytes = 0;
  let firstError: unknown;

  async function uploadOne(frame: FrameUpload): Promise<void> {
    const body = await readFile(frame.path);
    await withRetry(() => store.put(frame.key, body, { contentType: 'image/png', signal }), {
      policy: options.retry ?? DEFAULT_RETRY,
      signal,
    });
    bytes += body.byteLength;
    done += 1;
    options.onUploaded?.(done, frames.length);
  }

  async function lane(): Promise<void> {
    while (!signal.aborted) {
      const frame = frames[next++];
      if (frame === undefined) return;
      try {
        await uploadOne(frame);
      } catch (error) {
        if (options.signal?.aborted) return;
        if (firstError === undefined) {
          firstError = new UploadFailedError(`upload of ${frame.key} failed: ${(error as Error).message}`, {
            cause: error,
            details: { key: frame.key },
          });
        }
        failure.abort(firstError);
        return;
      }
    }
  }

  await Promise.all(Array.from({ length: Math.min(concurrency, frames.length) }, lane));
  if (firstError !== undefined) throw firstError;
  if (options.signal?.aborted) throw options.signal.reason;
  return { bytes };
}
