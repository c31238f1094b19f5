/**
 * Uploads the frames and, when asked, encodes and uploads video.mp4 at the same time. The first
 * failure stops the other half at once, and both have settled before this returns or throws, so no
 * upload is still reading the work dir when the runner cleans it.
 */
import type { RequestKeys } from '../../../contracts/keys.js';
import type { ObjectStore } from '../../../contracts/ports.js';
import { deliverVideo } from './deliver-video.js';
import { uploadFrames } from './upload-frames.js';

export interface DeliverOutputsInput {
  store: ObjectStore;
  keys: RequestKeys;
  /** Local frame files in order. */
  frames: readonly string[];
  /** Encode video.mp4 at this fps; undefined for none. */
  videoFps: number | undefined;
  ffmpegPath: string;
  dir: string;
  signal: AbortSignal;
  concurrency?: number;
  onUploaded?: (done: number, total: number) => void;
}

export interface DeliveredOutputs {
  frameKeys: string[];
  video: { bytes: number; encodeMs: number } | undefined;
}

export async function deliverOutputs(input: DeliverOutputsInput): Promise<DeliveredOutputs> {
  const failed = new AbortController();
  const signal = AbortSignal.any([input.signal, failed.signal]);
  const frameKeys = input.frames.map((_, i) => input.keys.frame(i + 1));
  const stopOthers = (error: unknown): never => {
    failed.abort(error);
    throw error;
  };
  const frames = uploadFrames(
    input.store,
    input.frames.map((path, i) => ({ path, key: frameKeys[i] ?? input.keys.frame(i + 1) })),
    {
      signal,
      ...(input.concurrency === undefined ? {} : { concurrency: input.concurrency }),
      ...(input.onUploaded === undefined ? {} : { onUploaded: input.onUploaded }),
    },
  ).catch(stopOthers);
  const video =
    input.videoFps === undefined
      ? Promise.resolve(undefined)
      : deliverVideo({
          store: input.store,
          key: input.keys.video,
          frames: input.frames,
          fps: input.videoFps,
          ffmpegPath: input.ffmpegPath,
          dir: input.dir,
          signal,
        }).catch(stopOthers);
  const [framesDone, videoDone] = await Promise.allSettled([frames, video]);
  // The failure that came first is the one that stopped the other half: report that one.
  if (failed.signal.aborted) throw failed.signal.reason;
  if (framesDone.status === 'rejected') throw framesDone.reason;
  if (videoDone.status === 'rejected') throw videoDone.reason;
  return { frameKeys, video: videoDone.value };
}
