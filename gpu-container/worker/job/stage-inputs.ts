/**
 * Downloads a request's two input images into its work dir, exactly as dispatch checked them: each is
 * read with If-Match on the ETag the work message pins, refused past its pinned size, inspected again
 * (format, size, frames, orientation) before anything decodes it, and turned upright when its EXIF
 * orientation says so, so that every engine renders the image as it is displayed.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { DownloadFailedError, ImageChangedError, ImageMissingError } from '../../../contracts/errors.js';
import { inspectImage } from '../../../contracts/image-header.js';
import { isPreconditionFailed, type ObjectStore } from '../../../contracts/ports.js';
import type { PinnedImage, WorkMessage } from '../../../contracts/work-message.js';
import { withRetry } from '../retry.js';

const EXTENSIONS = { png: 'png', jpeg: 'jpg', webp: 'webp' } as const;

function changed(pinned: PinnedImage, how: string): ImageChangedError {
  return new ImageChangedError(
    `input image ${pinned.key} ${how} since the request was accepted; upload new images under a new request id`,
    { details: { key: pinned.key, etag: pinned.etag } },
  );
}

async function fetchPinned(
  store: ObjectStore,
  pinned: PinnedImage,
  signal: AbortSignal,
): Promise<Uint8Array> {
  let object: Awaited<ReturnType<ObjectStore['get']>>;
  try {
    object = await withRetry(
      () => store.get(pinned.key, undefined, { ifMatch: pinned.etag, maxBytes: pinned.bytes, signal }),
      {
        signal,
      },
    );
  } catch (cause) {
    if (signal.aborted) throw cause;
    if (isPreconditionFailed(cause)) throw changed(pinned, 'was replaced');
    if (cause instanceof RangeError) throw changed(pinned, `grew past its ${pinned.bytes} bytes`);
    throw new DownloadFailedError(`download of ${pinned.key} failed: ${(cause as Error).message}`, {
      cause,
      details: { key: pinned.key },
    });
  }
  if (object === undefined)
    throw new ImageMissingError(`input image ${pinned.key} is gone`, { details: { key: pinned.key } });
  return object.body;
}

/** The bytes to render: checked again against the pin, and upright. */
async function renderable(
  pinned: PinnedImage,
  bytes: Uint8Array,
  label: string,
): Promise<{ bytes: Uint8Array; ext: string }> {
  if (bytes.byteLength !== pinned.bytes)
    throw changed(pinned, `is ${bytes.byteLength} bytes, not ${pinned.bytes}`);
  const info = inspectImage(bytes, { label });
  const same =
    info.format === pinned.format &&
    info.width === pinned.width &&
    info.height === pinned.height &&
    info.orientation === pinned.orientation;
  if (!same) throw changed(pinned, 'is not the image that was checked');
  if (info.orientation === 1) return { bytes, ext: EXTENSIONS[info.format] };
  // Turned as displayed, and its EXIF dropped, so no decoder turns it a second time.
  return { bytes: await sharp(bytes).rotate().png().toBuffer(), ext: 'png' };
}

/** Returns the local paths of the start and end images. */
export async function stageInputs(
  store: ObjectStore,
  work: WorkMessage,
  jobDir: string,
  signal: AbortSignal,
): Promise<{ startImage: string; endImage: string }> {
  const dir = join(jobDir, 'inputs');
  await mkdir(dir, { recursive: true });
  const stage = async (name: 'start' | 'end'): Promise<string> => {
    const pinned = work.inputs[name];
    const { bytes, ext } = await renderable(
      pinned,
      await fetchPinned(store, pinned, signal),
      `${name} image`,
    );
    const path = join(dir, `${name}.${ext}`);
    await writeFile(path, bytes);
    return path;
  };
  const [startImage, endImage] = await Promise.all([stage('start'), stage('end')]);
  return { startImage, endImage };
}
