/**
 * Downloads a finished request: every frame result.json lists, the MP4 when there is one, and
 * result.json itself, into <dir>/frames/, <dir>/video.mp4 and <dir>/result.json.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { DownloadFailedError } from '../../contracts/errors.js';
import { requestKeys } from '../../contracts/keys.js';
import type { ObjectStore } from '../../contracts/ports.js';
import { type Result, ResultSchema } from '../../contracts/result.js';
import { RequestFailedError } from '../exit-codes.js';

const PARALLEL_DOWNLOADS = 8;

export interface DownloadedOutputs {
  dir: string;
  result: Result;
  framesDir: string;
  videoFile: string | undefined;
  resultFile: string;
  bytes: number;
}

/** The machine-readable description of downloaded outputs that `fetch --json` and `demo --json` print. */
export function describeOutputs(outputs: DownloadedOutputs) {
  const { frames } = outputs.result;
  return {
    out: outputs.dir,
    engine: outputs.result.engine,
    frames: {
      dir: outputs.framesDir,
      count: frames.count,
      width: frames.width,
      height: frames.height,
      fps: frames.fps,
    },
    video: outputs.videoFile ?? null,
    result: outputs.resultFile,
  };
}

/** The request's result.json; undefined while there is none (not finished, or no outputs at all). */
export async function readResult(store: ObjectStore, requestId: string): Promise<Result | undefined> {
  const object = await store.get(requestKeys(requestId).result);
  if (object === undefined) return undefined;
  return ResultSchema.parse(JSON.parse(new TextDecoder().decode(object.body)));
}

async function download(store: ObjectStore, key: string, file: string): Promise<number> {
  const object = await store.get(key);
  if (object === undefined) throw new DownloadFailedError(`${key} is listed in result.json but missing`);
  await writeFile(file, object.body);
  return object.body.byteLength;
}

export async function downloadOutputs(
  store: ObjectStore,
  requestId: string,
  dir: string,
  onProgress: (files: number, totalFiles: number) => void = () => {},
): Promise<DownloadedOutputs> {
  const result = await readResult(store, requestId);
  if (result === undefined) {
    throw new RequestFailedError(`request ${requestId} has no outputs/${requestId}/result.json`);
  }
  const framesDir = join(dir, 'frames');
  await mkdir(framesDir, { recursive: true });
  const jobs = result.frames.keys.map((key) => ({ key, file: join(framesDir, basename(key)) }));
  const videoFile = result.video === null ? undefined : join(dir, 'video.mp4');
  if (result.video !== null && videoFile !== undefined) jobs.push({ key: result.video.key, file: videoFile });
  const total = jobs.length + 1;
  let done = 0;
  let bytes = 0;
  onProgress(done, total);
  const queue = [...jobs];
  const workers = Array.from({ length: PARALLEL_DOWNLOADS }, async () => {
    for (let job = queue.shift(); job !== undefined; job = queue.shift()) {
      bytes += await download(store, job.key, job.file);
      done += 1;
      onProgress(done, total);
    }
  });
  await Promise.all(workers);
  const resultFile = join(dir, 'result.json');
  await writeFile(resultFile, `${JSON.stringify(result, null, 2)}\n`);
  onProgress(total, total);
  return { dir, result, framesDir, videoFile, resultFile, bytes };
}
