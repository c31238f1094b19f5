/** Builds the `failed` and `rejected` completion events; `succeeded` is the worker's to build. */
import type { ErrorInfo } from '../contracts/errors.js';
import { type CompletionEvent, EVENT_VERSION, eventType } from '../contracts/event.js';
import type { Manifest } from '../contracts/manifest.js';

export interface FailureEventInput {
  status: 'failed' | 'rejected';
  requestId: string;
  bucket: string;
  error: ErrorInfo;
  clientReference?: string | undefined;
  /** The manifest when it parsed, for the event's parameters; the seed is the resolved one if known. */
  manifest?: Manifest | undefined;
  seed?: number | undefined;
}

export function failureEvent(input: FailureEventInput): CompletionEvent {
  const { manifest } = input;
  return {
    type: eventType(input.status),
    version: EVENT_VERSION,
    request_id: input.requestId,
    client_reference: input.clientReference ?? manifest?.client_reference ?? null,
    bucket: input.bucket,
    status: input.status,
    engine: null,
    frames: null,
    video: null,
    result_key: null,
    parameters:
      manifest === undefined
        ? null
        : {
            steps: manifest.steps,
            resolution: manifest.resolution,
            frame_length: manifest.frame_length,
            seed: input.seed ?? manifest.seed,
            interpolation: manifest.interpolation,
          },
    timings_ms: null,
    gpu_seconds: null,
    error: input.error,
  };
}
