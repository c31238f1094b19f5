import { z } from 'zod';

/** A link in an API-format prompt: [source node id, output index]. */
export const LinkSchema = z.tuple([z.string(), z.int().nonnegative()]);
export type Link = z.infer<typeof LinkSchema>;

export function isLink(value: unknown): value is Link {
  return LinkSchema.safeParse(value).success;
}

export const ApiNodeSchema = z
  .object({
    class_type: z.string().min(1).describe('ComfyUI node class, a key of /object_info'),
    inputs: z
      .record(z.string(), z.unknown())
      .describe('Literal widget values and links [node id, output index]'),
    _meta: z.object({ title: z.string().optional() }).loose().optional(),
  })
  .loose();

/** A workflow template: ComfyUI API-format JSON ("Export (API)" in the ComfyUI menu). */
export const TemplateSchema = z.record(
  z.string().regex(/^[A-Za-z0-9:_-]+$/, 'node ids are numbers or ComfyUI subgraph ids'),
  ApiNodeSchema,
);
export type Template = z.infer<typeof TemplateSchema>;

const TargetsSchema = z
  .array(
    z
      .object({
        node: z.string().describe('Node id in workflow.json'),
        input: z.string().describe('Input name of that node; workflow.json must give it a default value'),
      })
      .strict(),
  )
  .min(1);

/** Fields a request sets; `split` is derived as floor(steps × split_ratio). */
export const BINDING_FIELDS = [
  'width',
  'height',
  'length',
  'steps',
  'split',
  'seed',
  'positive_prompt',
  'negative_prompt',
  'start_image',
  'end_image',
  'multiplier',
  'filename_prefix',
] as const;
export type BindingField = (typeof BINDING_FIELDS)[number];

/** bindings.json: which node input each request field sets, and what the workflow needs. */
export const BindingsSchema = z
  .object({
    name: z
      .string()
      .regex(/^[a-z0-9][a-z0-9._-]{0,63}$/)
      .describe('Workflow name, equal to its folder name; selected by the WORKFLOW variable'),
    description: z.string().optional(),
    models: z
      .array(
        z
          .object({
            file: z.string().min(1).describe('Model file name as the template names it'),
            folder: z
              .string()
              .min(1)
              .describe('Folder under the model root (MODEL_CACHE_DIR), as in the model manifest'),
          })
          .strict(),
      )
      .describe('Model files the workflow loads; the model manifest gives their URL and sha256'),
    bindings: z
      .object({
        width: TargetsSchema,
        height: TargetsSchema,
        length: TargetsSchema.describe('Frames generated before interpolation (manifest frame_length)'),
        steps: TargetsSchema,
        split: TargetsSchema.optional().describe('Step where the second sampler takes over'),
        seed: TargetsSchema,
        positive_prompt: TargetsSchema,
        negative_prompt: TargetsSchema.optional(),
        start_image: TargetsSchema.describe('LoadImage inputs that take the uploaded start image'),
        end_image: TargetsSchema,
        multiplier: TargetsSchema.optional().describe('Interpolation multiplier (manifest interpolation)'),
        filename_prefix: TargetsSchema.describe('SaveImage prefix, unique per request'),
      })
      .strict(),
    split_ratio: z.number().gt(0).lt(1).default(0.5),
    interpolation: z
      .object({
        node: z.string(),
        frames_input: z.string().describe('The input whose source replaces the node when it is bypassed'),
        bypass_when_multiplier: z.int().positive().default(1),
      })
      .strict()
      .optional(),
    output: z.object({ node: z.string().describe('The node whose saved images are the frames') }).strict(),
  })
  .strict();
export type Bindings = z.infer<typeof BindingsSchema>;
export type BindingTarget = { node: string; input: string };
