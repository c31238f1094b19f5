/** Encodes the frames into video.mp4: H.264, yuv420p (plays everywhere), faststart (streams before it is whole). */
import { VideoEncodeFailedError } from '../../../contracts/errors.js';
import { runFfmpeg } from '../ffmpeg.js';

export interface AssembleVideoInput {
  ffmpegPath: string;
  /** An ffmpeg image-sequence pattern, e.g. /work/id/frames/frame_%05d.png, numbered from 1. */
  framePattern: string;
  fps: number;
  output: string;
  signal?: AbortSignal;
}

export function videoArgs(input: Omit<AssembleVideoInput, 'ffmpegPath' | 'signal'>): string[] {
  return [
    '-y',
    '-framerate',
    String(input.fps),
    '-start_number',
    '1',
    '-i',
    input.framePattern,
    '-c:v',
    'libx264',
    '-preset',
    'veryfast',
    '-crf',
    '18',
    '-pix_fmt',
    'yuv420p',
    '-movflags',
    '+faststart',
    '-r',
    String(input.fps),
    input.output,
  ];
}

export async function assembleVideo(input: AssembleVideoInput): Promise<void> {
  try {
    await runFfmpeg(
      input.ffmpegPath,
      videoArgs(input),
      input.signal === undefined ? {} : { signal: input.signal },
    );
  } catch (error) {
    if (input.signal?.aborted) throw error;
    throw new VideoEncodeFailedError(`video encoding failed: ${(error as Error).message}`, { cause: error });
  }
}
