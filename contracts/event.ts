/**
 * The events on the completions topic: exactly one terminal event per request, plus one
 * `heritage.upload.rejected` event per upload that could not become a request (docs/architecture.md).
 */
import { z } from 'zod';
import { ErrorInfoSchema } from './errors.js';
import { TERMINAL_STATES, type TerminalState } from './lifecycle/states.js';

export const EVENT_VERSION = 1;
export const ENGINES = ['comfyui', 'preview'] as const;

export const EventParametersSchema = z.object({
  steps: z.number().int(),
  resolution: z.number().int(),
  frame_length: z.number().int(),
  seed: z.number().int().describe('The resolved seed (never 0).'),
  interpolation: z.number().int(),
});
export type EventParameters = z.infer<typeof EventParametersSchema>;

/** What a rejected event echoes: each parameter the manifest gave as an integer (or its default). */
export const EchoedParametersSchema = EventParametersSchema.partial().describe(
  'All five in succeeded and failed events. A rejected event has each one the manifest gave as an ' +
    'integer, valid or not, or its default when the manifest left it out; seed 0 means "random".',
);
export type EchoedParameters = z.infer<typeof EchoedParametersSchema>;

/** The one event type that is not a request's terminal event: an upload that never became a request. */
export const UPLOAD_REJECTED_TYPE = 'heritage.upload.rejected';

/** The wall time a worker held its GPU for a request; defined once for the event and result.json. */
export const GpuSecondsSchema = z
  .number()
  .nonnegative()
  .describe(
    'GPU-held seconds: wall time from the worker taking the work message until the outcome was decided ' +
      '(result.json about to be written, or the failure known): download, render, encode and upload all ' +
      'count, because the worker runs one request at a time on its GPU. Model provisioning before the ' +
      "worker's first request is not included (timings_ms.provision). See docs/observability.md.",
  );

/** Where the frames are and what they are: in the completion event and, with every key, in result.json. */
export const FramesSchema = z.object({
  prefix: z.string(),
  count: z.number().int().positive(),
  width: z.number().int().positive(),
  height: z.number().int().positive(),
  fps: z.number().int().positive(),
  format: z.literal('png'),
});

/** The five stage timings every event carries; result.json may add more (download, video, per node). */
export const StageTimingsSchema = z.object({
  queued: z.number().nonnegative(),
  provision: z.number().nonnegative(),
  inference: z.number().nonnegative(),
  upload: z.number().nonnegative(),
  total: z.number().nonnegative(),
});
export type StageTimings = z.infer<typeof StageTimingsSchema>;

export const CompletionEventSchema = z
  .object({
    type: z
      .enum([
        'heritage.request.succeeded',
        'heritage.request.failed',
        'heritage.request.rejected',
        UPLOAD_REJECTED_TYPE,
      ])
      .describe(
        `${UPLOAD_REJECTED_TYPE} (status "rejected") is about one upload that never became a request, such ` +
          'as a manifest uploaded under an id that was already used (REQUEST_ID_REUSED); it is never a ' +
          "request's terminal event.",
      ),
    version: z.literal(EVENT_VERSION),
    request_id: z.string(),
    client_reference: z.string().nullable().describe('Echo of the manifest client_reference, or null.'),
    bucket: z.string(),
    status: z.enum(TERMINAL_STATES),
    engine: z
      .enum(ENGINES)
      .nullable()
      .describe('Which engine made the frames. "preview" is a CPU interpolation, never AI output.'),
    frames: FramesSchema.nullable(),
    video: z.object({ key: z.string() }).nullable(),
    result_key: z.string().nullable(),
    parameters: EchoedParametersSchema.nullable().describe(
      'Null only when the manifest could not be read as a JSON object.',
    ),
    timings_ms: StageTimingsSchema.nullable(),
    gpu_seconds: GpuSecondsSchema.nullable().describe(
      'GPU-held seconds of the attempt that ended the request (see result.json); null when no worker ' +
        'ended it (rejected, or failed by dispatch, dead-letter or reconcile).',
    ),
    error: ErrorInfoSchema.nullable(),
  })
  .describe('Heritage completion event: one per request, or one per upload that never became a request.');

export type CompletionEvent = z.infer<typeof CompletionEventSchema>;

/** SNS message attributes, so subscribers can filter by type or status without parsing the body. */
export function eventAttributes(event: CompletionEvent): { type: string; status: string } {
  return { type: event.type, status: event.status };
}

export function eventType(status: TerminalState): CompletionEvent['type'] {
  return `heritage.request.${status}`;
}
