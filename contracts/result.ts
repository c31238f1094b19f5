/** outputs/<id>/result.json: written last, its presence means every frame is in place. */
import { z } from 'zod';
import { ENGINES, EventParametersSchema, FramesSchema, GpuSecondsSchema } from './event.js';

export const ResultSchema = z
  .object({
    version: z.literal(1),
    request_id: z.string(),
    engine: z.enum(ENGINES).describe('"preview" is a CPU interpolation, never AI output.'),
    workflow: z.object({ name: z.string(), sha256: z.string() }).nullable(),
    frames: FramesSchema.extend({ keys: z.array(z.string()).describe('Every frame key, in order.') }),
    video: z.object({ key: z.string(), bytes: z.number().int().nonnegative() }).nullable(),
    parameters: EventParametersSchema,
    timings_ms: z.record(z.string(), z.number().nonnegative()),
    gpu_seconds: GpuSecondsSchema,
    created_at: z.string(),
  })
  .describe('Heritage result file, the commit marker of a succeeded request.');

export type Result = z.infer<typeof ResultSchema>;
