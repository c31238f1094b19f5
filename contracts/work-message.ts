/** The message dispatch sends to the work queue and a worker consumes. */
import { z } from 'zod';
import { GeometrySchema } from './geometry.js';
import { RequestIdSchema } from './keys.js';
import { ManifestSchema } from './manifest.js';

export const WorkMessageSchema = z
  .object({
    version: z.literal(1),
    request_id: RequestIdSchema,
    bucket: z.string(),
    manifest_etag: z
      .string()
      .describe('ETag of the manifest that was accepted; a replaced manifest is a new one.'),
    manifest: ManifestSchema.extend({ seed: z.number().int().min(1) }).describe('Normalized, seed resolved.'),
    inputs: z.object({ start_key: z.string(), end_key: z.string() }),
    geometry: GeometrySchema,
    enqueued_at: z.string(),
  })
  .describe('One unit of work for a GPU worker.');

export type WorkMessage = z.infer<typeof WorkMessageSchema>;
