/** Builds the `failed` and `rejected` completion events; `succeeded` is the worker's to build. */
import type { ErrorInfo } from '../contracts/errors.js';
import {
  type CompletionEvent,
  type EchoedParameters,
  EVENT_VERSION,
  eventType,
  UPLOAD_REJECTED_TYPE,
} from '../contracts/event.js';
import type { Manifest } from '../contracts/manifest.js';
import type { ManifestEcho } from '../contracts/manifest-echo.js';

export interface FailureEventInput {
  status: 'failed' | 'rejected';
  requestId: string;
  bucket: string;
  error: ErrorInfo;
  clientReference?: string | undefined;
  /** The manifest when it parsed, for the event's parameters; the seed is the resolved one if known. */
  manifest?: Manifest | undefined;
  /** What could be read of a manifest that did not parse, when `manifest` is not there. */
  echo?: ManifestEcho | undefined;
  seed?: number | undefined;
}

function parametersOf(input: FailureEventInput): EchoedParameters | null {
  const { manifest } = input;
  if (manifest === undefined) return input.echo?.parameters ?? null;
  return {
    steps: manifest.steps,
    resolution: manifest.resolution,
    frame_length: manifest.frame_length,
    seed: input.seed ?? manifest.seed,
    interpolation: manifest.interpolation,
  };
}

export function failureEvent(input: FailureEventInput): CompletionEvent {
  return {
    type: eventType(input.status),
    version: EVENT_VERSION,
    request_id: input.requestId,
    client_reference:
      input.clientReference ?? input.manifest?.client_reference ?? input.echo?.client_reference ?? null,
    bucket: input.bucket,
    status: input.status,
    engine: null,
    frames: null,
    video: null,
    result_key: null,
    parameters: parametersOf(input),
    timings_ms: null,
    error: input.error,
  };
}

/** The event of an upload that never became a request: what it sent is echoed, the request is not touched. */
export function uploadRejectedEvent(
  input: Omit<FailureEventInput, 'status' | 'manifest' | 'seed' | 'clientReference'>,
): CompletionEvent {
  return { ...failureEvent({ ...input, status: 'rejected' }), type: UPLOAD_REJECTED_TYPE };
}
