/**
 * The one builder of completion events, for every path that ends a request: the worker (succeeded,
 * failed), dispatch (rejected, failed), dead-letter and reconcile (failed). Every event it returns has
 * been parsed against CompletionEventSchema. It also builds the one event that ends no request: an
 * upload rejected (`uploadRejectedEvent`).
 */
import type { ErrorInfo } from '../errors.js';
import {
  type CompletionEvent,
  CompletionEventSchema,
  type EchoedParameters,
  type ENGINES,
  EVENT_VERSION,
  eventType,
  type StageTimings,
  UPLOAD_REJECTED_TYPE,
} from '../event.js';
import { requestKeys } from '../keys.js';
import type { Manifest } from '../manifest.js';
import type { ManifestEcho } from '../manifest-echo.js';
import type { Result } from '../result.js';

type Engine = (typeof ENGINES)[number];

/** The five stage timings of an event, from whatever a run measured (missing ones are 0). */
export function stageTimings(timings: Record<string, number>): StageTimings {
  const pick = (name: keyof StageTimings): number => Math.max(0, Math.round(timings[name] ?? 0));
  return {
    queued: pick('queued'),
    provision: pick('provision'),
    inference: pick('inference'),
    upload: pick('upload'),
    total: pick('total'),
  };
}

function parametersOf(
  manifest: Manifest | undefined,
  seed: number | undefined,
): CompletionEvent['parameters'] {
  if (manifest === undefined) return null;
  return {
    steps: manifest.steps,
    resolution: manifest.resolution,
    frame_length: manifest.frame_length,
    seed: seed ?? manifest.seed,
    interpolation: manifest.interpolation,
  };
}

/** `succeeded`, from the committed result.json: everything a client needs to find the frames. */
export function succeededEvent(input: {
  bucket: string;
  result: Result;
  clientReference: string | null;
}): CompletionEvent {
  const { result } = input;
  const { keys: _keys, ...frames } = result.frames;
  return CompletionEventSchema.parse({
    type: eventType('succeeded'),
    version: EVENT_VERSION,
    request_id: result.request_id,
    client_reference: input.clientReference,
    bucket: input.bucket,
    status: 'succeeded',
    engine: result.engine,
    frames,
    video: result.video === null ? null : { key: result.video.key },
    result_key: requestKeys(result.request_id).result,
    parameters: result.parameters,
    timings_ms: stageTimings(result.timings_ms),
    gpu_seconds: result.gpu_seconds,
    error: null,
  });
}

export interface FailureEventInput {
  status: 'failed' | 'rejected';
  requestId: string;
  bucket: string;
  error: ErrorInfo;
  clientReference?: string | undefined;
  /** The manifest when it parsed, for the event's parameters; `seed` is the resolved one if known. */
  manifest?: Manifest | undefined;
  /** What could be read of a manifest that did not parse, when `manifest` is not there. */
  echo?: ManifestEcho | undefined;
  /** The parameters as accepted (the status keeps them), when there is no manifest at hand. */
  parameters?: EchoedParameters | null | undefined;
  seed?: number | undefined;
  /** The engine that was running, when a worker failed the request. */
  engine?: Engine | undefined;
  /** What the run measured before it failed. */
  timingsMs?: Record<string, number> | undefined;
  /** GPU-held seconds the failed attempt used, when a worker failed the request. */
  gpuSeconds?: number | undefined;
}

/** `failed` or `rejected`, with the error and whatever of the request is known. */
export function failureEvent(input: FailureEventInput): CompletionEvent {
  return CompletionEventSchema.parse({
    type: eventType(input.status),
    version: EVENT_VERSION,
    request_id: input.requestId,
    client_reference:
      input.clientReference ?? input.manifest?.client_reference ?? input.echo?.client_reference ?? null,
    bucket: input.bucket,
    status: input.status,
    engine: input.engine ?? null,
    frames: null,
    video: null,
    result_key: null,
    parameters:
      parametersOf(input.manifest, input.seed) ?? input.echo?.parameters ?? input.parameters ?? null,
    timings_ms: input.timingsMs === undefined ? null : stageTimings(input.timingsMs),
    gpu_seconds: input.gpuSeconds ?? null,
    error: input.error,
  });
}

/**
 * The event of an upload that never became a request (an id already used, an invalid id): what it sent
 * is echoed, and the request, if there is one, is not touched.
 */
export function uploadRejectedEvent(input: {
  requestId: string;
  bucket: string;
  error: ErrorInfo;
  echo?: ManifestEcho | undefined;
}): CompletionEvent {
  return CompletionEventSchema.parse({
    ...failureEvent({ ...input, status: 'rejected' }),
    type: UPLOAD_REJECTED_TYPE,
  });
}
