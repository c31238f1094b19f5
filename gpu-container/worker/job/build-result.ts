/** result.json, built from the work message and what the run produced. */
import type { CompletionEvent } from '../../../contracts/event.js';
import { requestKeys } from '../../../contracts/keys.js';
import { type Result, ResultSchema } from '../../../contracts/result.js';
import type { WorkMessage } from '../../../contracts/work-message.js';
import type { EngineName } from '../engines/engine.js';

function parametersOf(work: WorkMessage): CompletionEvent['parameters'] {
  const { steps, resolution, frame_length, seed, interpolation } = work.manifest;
  return { steps, resolution, frame_length, seed, interpolation };
}

export function buildResult(input: {
  work: WorkMessage;
  engine: EngineName;
  workflow: Result['workflow'];
  frameKeys: string[];
  videoBytes: number | undefined;
  timingsMs: Record<string, number>;
  gpuSeconds: number;
  createdAt: Date;
}): Result {
  const keys = requestKeys(input.work.request_id);
  const { width, height, fps } = input.work.geometry;
  return ResultSchema.parse({
    version: 1,
    request_id: input.work.request_id,
    engine: input.engine,
    workflow: input.workflow,
    frames: {
      prefix: keys.framesPrefix,
      count: input.frameKeys.length,
      width,
      height,
      fps,
      format: 'png',
      keys: input.frameKeys,
    },
    video: input.videoBytes === undefined ? null : { key: keys.video, bytes: input.videoBytes },
    parameters: parametersOf(input.work),
    timings_ms: input.timingsMs,
    gpu_seconds: input.gpuSeconds,
    created_at: input.createdAt.toISOString(),
  });
}
