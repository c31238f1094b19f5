/** Encodes the delivered frames into video.mp4 and uploads it. */
import { mkdir, readFile, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { frameFileName } from '../../../contracts/keys.js';
import type { ObjectStore } from '../../../contracts/ports.js';
import { withRetry } from '../retry.js';
import { assembleVideo } from './assemble-video.js';

export interface DeliverVideoInput {
  store: ObjectStore;
  key: string;
  /** Local frame files in order, named however the engine named them. */
  frames: readonly string[];
  fps: number;
  ffmpegPath: string;
  /** Scratch directory of the request. */
  dir: string;
  signal: AbortSignal;
}

/** Links the frames under the delivered names, so ffmpeg reads them as one numbered sequence. */
async function linkSequence(frames: readonly string[], dir: string): Promise<string> {
  await mkdir(dir, { recursive: true });
  await Promise.all(frames.map((frame, i) => symlink(frame, join(dir, frameFileName(i + 1)))));
  return join(dir, 'frame_%05d.png');
}

export async function deliverVideo(input: DeliverVideoInput): Promise<{ bytes: number; encodeMs: number }> {
  const framePattern = await linkSequence(input.frames, join(input.dir, 'sequence'));
  const output = join(input.dir, 'video.mp4');
  const started = Date.now();
  await assembleVideo({
    ffmpegPath: input.ffmpegPath,
    framePattern,
    fps: input.fps,
    output,
    signal: input.signal,
  });
  const encodeMs = Date.now() - started;
  const body = await readFile(output);
  await withRetry(() => input.store.put(input.key, body, { contentType: 'video/mp4' }), {
    signal: input.signal,
  });
  return { bytes: body.byteLength, encodeMs };
}
