/**
 * The model manifest (gpu-container/models.json): which weights a workflow needs, where ComfyUI
 * finds them under the model root (MODEL_CACHE_DIR), where they come from, and how to check them.
 * A null sha256 or size means "not yet known": `heritage models sync` computes it and writes it back.
 * That first-use trust is for safetensors only: a pickle checkpoint (.pth, .pt, .ckpt, .bin, .pkl)
 * runs code when it is loaded, so it must carry its sha256 in the manifest.
 */
import { z } from 'zod';

/** File names stay inside their folder: no separators, no dot-dot, no leading dot. */
const FileNameSchema = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$/, 'a plain file name: letters, digits, dot, dash, underscore')
  .refine((name) => !name.includes('..'), 'must not contain ".."');

/** Folders are relative paths under the model root, one or more plain segments. */
const FolderSchema = z
  .string()
  .regex(
    /^[A-Za-z0-9_-]+(\/[A-Za-z0-9_-]+)*$/,
    'a relative folder under the model root, for example "diffusion_models"',
  );

export const ModelEntrySchema = z
  .object({
    name: FileNameSchema.describe('File name exactly as the workflow template refers to it'),
    folder: FolderSchema.describe(
      'Folder under the model root (MODEL_CACHE_DIR) that ComfyUI searches: diffusion_models, loras, text_encoders, vae; rife for the frame-interpolation checkpoints',
    ),
    url: z.url({ protocol: /^https$/ }).describe('Public HTTPS source the model mirror is filled from'),
    revision: z
      .string()
      .regex(/^[0-9a-f]{40}$/, 'a full 40-hex commit')
      .nullable()
      .describe(
        'The source repository commit the url pins (Hugging Face: resolve/<revision>/); null where the source has none (a release asset) or none could be found',
      )
      .default(null),
    sha256: z
      .string()
      .regex(/^[0-9a-f]{64}$/, 'lower-case hex sha256')
      .nullable()
      .describe('sha256 of the file; null until `heritage models sync` computes it'),
    bytes: z
      .number()
      .int()
      .positive()
      .nullable()
      .describe('Size of the file in bytes; null until `heritage models sync` measures it'),
  })
  .strict()
  .superRefine((model, ctx) => {
    if (model.revision !== null && !model.url.includes(`/resolve/${model.revision}/`)) {
      ctx.addIssue({
        code: 'custom',
        path: ['url'],
        message: `must fetch at its revision: /resolve/${model.revision}/`,
      });
    }
    if (isPickle(model.name) && model.sha256 === null) {
      ctx.addIssue({
        code: 'custom',
        path: ['sha256'],
        message:
          'a pickle checkpoint runs code when loaded: its sha256 must be pinned here, not learned on first use',
      });
    }
  });

/** Checkpoint formats that unpickle (run code) when loaded; safetensors does not. */
export function isPickle(name: string): boolean {
  return /\.(pth|pt|ckpt|bin|pkl)$/i.test(name);
}

export const ModelManifestSchema = z
  .object({
    version: z.literal(1).describe('Manifest format version'),
    models: z
      .array(ModelEntrySchema)
      .min(1)
      .superRefine((models, ctx) => {
        const seen = new Set<string>();
        for (const [index, model] of models.entries()) {
          const path = `${model.folder}/${model.name}`;
          if (seen.has(path)) {
            ctx.addIssue({ code: 'custom', path: [index, 'name'], message: `${path} is listed twice` });
          }
          seen.add(path);
        }
      })
      .describe('Every file the workflows need'),
  })
  .strict();

export type ModelEntry = z.infer<typeof ModelEntrySchema>;
export type ModelManifest = z.infer<typeof ModelManifestSchema>;

/** Path of a model relative to the model root. */
export function modelPath(model: Pick<ModelEntry, 'folder' | 'name'>): string {
  return `${model.folder}/${model.name}`;
}
