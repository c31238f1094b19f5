/**
 * The preview engine, for machines without a GPU: motion-compensated interpolation between the two
 * images with ffmpeg's minterpolate. It makes the same frame count, size and file names as the real
 * workflow so the rest of the pipeline cannot tell the difference, but it is labelled "preview"
 * everywhere: it is a CPU interpolation, never AI output.
 */
import { mkdir, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import {
  EngineCrashedError,
  EngineInterruptedError,
  OutputMismatchError,
} from '../../../../contracts/errors.js';
import { FRAME_FILE_PATTERN } from '../../../../contracts/keys.js';
import { FfmpegFailed, runFfmpeg } from '../../ffmpeg.js';
import type { EngineJob, EngineOutput, EngineProgress, FrameEngine } from '../engine.js';

/** Fit an image to exactly width x height: scale to cover, then crop around the centre. */
function fitTo(width: number, height: number): string {
  return `scale=${width}:${height}:force_original_aspect_ratio=increase,crop=${width}:${height},setsar=1,format=rgb24`;
}

/**
 * The filter graph. The two images become a clip of one frame per second (start, end, end), and
 * minterpolate resamples it at (frames - 1) fps, so frame 1 sits on the start image and frame N on the
 * end image at t = 1 s. The trailing copy of the end image keeps the stream going past t = 1 s, and
 * `-frames:v` cuts it at exactly N. Scene-change detection is off, or very different images would be
 * cross-cut instead of interpolated.
 */
export function previewFilterGraph(width: number, height: number, frames: number): string {
  return [
    `[0:v]${fitTo(width, height)}[start]`,
    `[1:v]${fitTo(width, height)},split[end1][end2]`,
    `[start][end1][end2]concat=n=3:v=1,settb=1,setpts=N/TB,minterpolate=fps=${frames - 1}:mi_mode=mci:scd=none,format=rgb24[out]`,
  ].join(';');
}

export class PreviewEngine implements FrameEngine {
  readonly name = 'preview';

  constructor(private readonly ffmpegPath: string) {}

  async render(
    job: EngineJob,
    signal: AbortSignal,
    onProgress: (progress: EngineProgress) => void,
  ): Promise<EngineOutput> {
    const { width, height, frames } = job.geometry;
    const outDir = join(job.workDir, 'preview-frames');
    await mkdir(outDir, { recursive: true });
    onProgress({ percent: 0, phase: 'interpolating' });
    const args = [
      '-y',
      '-i',
      job.startImage,
      '-i',
      job.endImage,
      '-filter_complex',
      previewFilterGraph(width, height, frames),
      '-map',
      '[out]',
      '-frames:v',
      String(frames),
      '-start_number',
      '1',
      join(outDir, 'frame_%05d.png'),
    ];
    try {
      await runFfmpeg(this.ffmpegPath, args, {
        signal,
        onProgress: (key, value) => {
          if (key === 'frame')
            onProgress({ percent: (100 * Number(value)) / frames, phase: 'interpolating' });
        },
      });
    } catch (error) {
      if (signal.aborted) throw new EngineInterruptedError('preview render interrupted', { cause: error });
      const stderr = error instanceof FfmpegFailed ? error.stderrTail.slice(-1000) : undefined;
      throw new EngineCrashedError(`preview render failed: ${(error as Error).message}`, {
        cause: error,
        ...(stderr === undefined ? {} : { details: { stderr } }),
      });
    }
    const names = (await readdir(outDir)).filter((name) => FRAME_FILE_PATTERN.test(name)).sort();
    if (names.length !== frames) {
      throw new OutputMismatchError(`preview made ${names.length} frames, expected ${frames}`, {
        details: { expected: frames, actual: names.length },
      });
    }
    return { frames: names.map((name) => join(outDir, name)), workflow: null };
  }

  /** Everything the preview writes lives in the request's work dir, which the runner removes. */
  async cleanup(_job: EngineJob): Promise<void> {}
}
