/** The message dispatch sends to the work queue and a worker consumes. */
import { z } from 'zod';
import { GeometrySchema } from './geometry.js';
import { inspectImage } from './image-header.js';
import { RequestIdSchema } from './keys.js';
import { ManifestSchema } from './manifest.js';

/** An input image as dispatch checked it: the worker renders exactly this object or nothing. */
export const PinnedImageSchema = z.object({
  key: z.string(),
  etag: z.string().min(1).describe('ETag of the object dispatch checked; the worker reads it with If-Match.'),
  bytes: z.number().int().positive().describe('Its size; the worker refuses anything larger.'),
  format: z.enum(['png', 'jpeg', 'webp']),
  width: z.number().int().positive().describe('As displayed (after the EXIF orientation).'),
  height: z.number().int().positive(),
  orientation: z
    .number()
    .int()
    .min(1)
    .max(8)
    .describe('EXIF orientation; the worker turns the pixels upright.'),
});
export type PinnedImage = z.infer<typeof PinnedImageSchema>;

/** The pin of an image whose bytes are at hand, stored under `key` with `etag`. */
export function pinImage(key: string, etag: string, bytes: Uint8Array): PinnedImage {
  const { format, width, height, orientation } = inspectImage(bytes);
  return { key, etag, bytes: bytes.byteLength, format, width, height, orientation };
}

export const WorkMessageSchema = z
  .object({
    version: z.literal(1),
    request_id: RequestIdSchema,
    bucket: z.string(),
    manifest_etag: z
      .string()
      .describe('ETag of the manifest that was accepted; a replaced manifest is a new one.'),
    manifest: ManifestSchema.extend({ seed: z.number().int().min(1) }).describe('Normalized, seed resolved.'),
    inputs: z.object({ start: PinnedImageSchema, end: PinnedImageSchema }),
    geometry: GeometrySchema,
    enqueued_at: z.string(),
  })
  .describe('One unit of work for a GPU worker.');

export type WorkMessage = z.infer<typeof WorkMessageSchema>;
