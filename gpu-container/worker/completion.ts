/** result.json and the completion events, built from the work message and what the run produced. */
import type { ErrorInfo } from '../../contracts/errors.js';
import { type CompletionEvent, CompletionEventSchema, eventType } from '../../contracts/event.js';
import { requestKeys } from '../../contracts/keys.js';
import { type Result, ResultSchema } from '../../contracts/result.js';
import type { WorkMessage } from '../../contracts/work-message.js';
import type { EngineName } from './engine.js';

/** The five timings every event carries; result.json may add more (download, video, per node). */
export interface StageTimings {
  queued: number;
  provision: number;
  inference: number;
  upload: number;
  total: number;
}

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

function stageTimingsOf(timings: Record<string, number>): StageTimings {
  const pick = (name: keyof StageTimings): number => Math.max(0, Math.round(timings[name] ?? 0));
  return {
    queued: pick('queued'),
    provision: pick('provision'),
    inference: pick('inference'),
    upload: pick('upload'),
    total: pick('total'),
  };
}

export function succeededEvent(work: WorkMessage, result: Result): CompletionEvent {
  const keys = requestKeys(work.request_id);
  const { keys: _keys, ...frames } = result.frames;
  return CompletionEventSchema.parse({
    type: eventType('succeeded'),
    version: 1,
    request_id: work.request_id,
    client_reference: work.manifest.client_reference ?? null,
    bucket: work.bucket,
    status: 'succeeded',
    engine: result.engine,
    frames,
    video: result.video === null ? null : { key: result.video.key },
    result_key: keys.result,
    parameters: result.parameters,
    timings_ms: stageTimingsOf(result.timings_ms),
    gpu_seconds: result.gpu_seconds,
    error: null,
  });
}

export function failedEvent(
  work: WorkMessage,
  engine: EngineName,
  error: ErrorInfo,
  timings: Record<string, number>,
  gpuSeconds: number | null,
): CompletionEvent {
  return CompletionEventSchema.parse({
    type: eventType('failed'),
    version: 1,
    request_id: work.request_id,
    client_reference: work.manifest.client_reference ?? null,
    bucket: work.bucket,
    status: 'failed',
    engine,
    frames: null,
    video: null,
    result_key: null,
    parameters: parametersOf(work),
    timings_ms: stageTimingsOf(timings),
    gpu_seconds: gpuSeconds,
    error,
  });
}
