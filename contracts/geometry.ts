/** Output geometry: frame size from the start image and `resolution`, frame count and fps from the manifest. */
import { z } from 'zod';
import { ResolutionUnsupportedError } from './errors.js';

export const SIZE_MULTIPLE = 16;
export const BASE_FPS = 16;
/** Wan's VAE and attention cost grow with the long side; past this the request cannot be served. */
export const MAX_LONG_SIDE = 2048;

export const GeometrySchema = z.object({
  width: z.number().int().positive(),
  height: z.number().int().positive(),
  sourceFrames: z.number().int().positive().describe('Frames Wan generates (= frame_length).'),
  frames: z.number().int().positive().describe('Frames delivered: (frame_length - 1) x interpolation + 1.'),
  fps: z.number().int().positive(),
  interpolation: z.number().int().positive(),
});
export type Geometry = z.infer<typeof GeometrySchema>;

export interface GeometryParameters {
  resolution: number;
  frame_length: number;
  interpolation: number;
}

function roundToMultiple(value: number): number {
  return Math.max(SIZE_MULTIPLE, Math.round(value / SIZE_MULTIPLE) * SIZE_MULTIPLE);
}

export function outputFrameCount(frameLength: number, interpolation: number): number {
  return (frameLength - 1) * interpolation + 1;
}

/** Width and height keep the start image's aspect ratio; `resolution` is the short side; both are multiples of 16. */
export function computeGeometry(
  source: { width: number; height: number },
  params: GeometryParameters,
): Geometry {
  const landscape = source.width >= source.height;
  const short = landscape ? source.height : source.width;
  const long = landscape ? source.width : source.height;
  const outShort = roundToMultiple(params.resolution);
  const outLong = roundToMultiple((long * params.resolution) / short);
  if (outLong > MAX_LONG_SIDE) {
    throw new ResolutionUnsupportedError(
      `resolution ${params.resolution} on a ${source.width}x${source.height} start image gives a long side of ${outLong} px; the limit is ${MAX_LONG_SIDE}: lower resolution or use a less elongated image`,
      { details: { long_side: outLong, limit: MAX_LONG_SIDE } },
    );
  }
  return {
    width: landscape ? outLong : outShort,
    height: landscape ? outShort : outLong,
    sourceFrames: params.frame_length,
    frames: outputFrameCount(params.frame_length, params.interpolation),
    fps: BASE_FPS * params.interpolation,
    interpolation: params.interpolation,
  };
}
