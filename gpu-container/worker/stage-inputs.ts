/** Downloads a request's two input images into its work dir. */
import { mkdir, writeFile } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { DownloadFailedError, ImageMissingError } from '../../contracts/errors.js';
import type { ObjectStore } from '../../contracts/ports.js';
import type { WorkMessage } from '../../contracts/work-message.js';
import { withRetry } from './retry.js';

async function download(store: ObjectStore, key: string, path: string, signal: AbortSignal): Promise<void> {
  let object: Awaited<ReturnType<ObjectStore['get']>>;
  try {
    object = await withRetry(() => store.get(key), { signal });
  } catch (cause) {
    if (signal.aborted) throw cause;
    throw new DownloadFailedError(`download of ${key} failed: ${(cause as Error).message}`, {
      cause,
      details: { key },
    });
  }
  if (object === undefined) {
    throw new ImageMissingError(`input image ${key} is gone`, { details: { key } });
  }
  await writeFile(path, object.body);
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
  const startImage = join(dir, `start${extname(work.inputs.start_key).toLowerCase()}`);
  const endImage = join(dir, `end${extname(work.inputs.end_key).toLowerCase()}`);
  await Promise.all([
    download(store, work.inputs.start_key, startImage, signal),
    download(store, work.inputs.end_key, endImage, signal),
  ]);
  return { startImage, endImage };
}
