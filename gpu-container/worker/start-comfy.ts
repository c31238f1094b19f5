/**
 * The GPU worker's start-up before it takes work: pull the models onto the NVMe cache, start ComfyUI
 * on them under supervision, and (after the caller has built its engine on `url`) warm it up. The
 * worker's main wires this in when it runs ComfyUI itself (COMFYUI_DIR set, COMFYUI_URL not).
 */
import { join } from 'node:path';
import { z } from 'zod';
import type { ModelSource } from '../../contracts/model-source.js';
import { type ComfyOutputLine, ComfySupervisor, type SupervisorEvent } from './comfy-supervisor.js';
import { type PrefetchReport, prefetchModels } from './provision/prefetch-models.js';
import {
  type FileTiming,
  type ModelFile,
  type ProvisionReport,
  provisionModels,
} from './provision/provision-models.js';
import { WarmupModeSchema } from './warm-up.js';

/** The variables of this start-up, to be merged into the worker's config schema. */
export const ComfyRuntimeConfigSchema = z.object({
  MODEL_BUCKET: z.string().min(1).describe('Model mirror filled by `heritage models sync`.'),
  MODEL_PREFIX: z.string().default('').describe('Key prefix of the models in MODEL_BUCKET.'),
  MODEL_CACHE_DIR: z
    .string()
    .min(1)
    .default('/models')
    .describe('Instance NVMe cache shared by the workers of a host.'),
  COMFYUI_DIR: z.string().min(1).describe('ComfyUI installation (main.py) in the image.'),
  COMFYUI_PYTHON: z.string().min(1).default('python3').describe('Python of the environment ComfyUI runs in.'),
  COMFYUI_PORT: z.coerce
    .number()
    .int()
    .min(1024)
    .max(65535)
    .default(8188)
    .describe('Loopback port of ComfyUI.'),
  COMFYUI_MAX_RESTARTS: z.coerce
    .number()
    .int()
    .min(0)
    .default(2)
    .describe('Restarts before the worker gives up.'),
  COMFYUI_READY_TIMEOUT_SECONDS: z.coerce.number().int().positive().default(300),
  COMFYUI_ATTENTION: z
    .enum(['pytorch', 'sage'])
    .default('pytorch')
    .describe(
      "Attention kernel. 'sage': ComfyUI's --use-sage-attention, SageAttention 2 (INT8 QK, FP8 PV), which the GPU " +
        "image builds and selects: samplers 13 % faster on the reference request (docs/benchmarks.md). 'pytorch': " +
        "PyTorch's scaled_dot_product_attention (cuDNN first), exact in bf16.",
    ),
  WARMUP: WarmupModeSchema,
  MODEL_PREFETCH: z
    .enum(['on', 'off'])
    .default('on')
    .describe(
      "'on': once provisioned, read the model files into the page cache while ComfyUI starts, so that its " +
        'first load does not wait on the disk (prefetch-models.ts).',
    ),
});
export type ComfyRuntimeConfig = z.infer<typeof ComfyRuntimeConfigSchema>;

export interface StartComfyOptions {
  config: ComfyRuntimeConfig;
  source: ModelSource;
  models: readonly ModelFile[];
  /** ComfyUI's own input/output/temp go under here. */
  workDir: string;
  onFile?: (timing: FileTiming) => void;
  onSupervisorEvent?: (event: SupervisorEvent) => void;
  onComfyOutput?: (line: ComfyOutputLine) => void;
  onPrefetched?: (report: PrefetchReport) => void;
}

export interface StartedComfy {
  supervisor: ComfySupervisor;
  provision: ProvisionReport;
  /** The page-cache prefetch started after provisioning (undefined when MODEL_PREFETCH=off). */
  prefetch: Promise<PrefetchReport | undefined>;
  /** From the start of provisioning to ComfyUI answering. */
  startMs: number;
}

export async function startComfy(options: StartComfyOptions): Promise<StartedComfy> {
  const { config } = options;
  const started = performance.now();
  const provision = await provisionModels({
    source: options.source,
    models: options.models,
    cacheDir: config.MODEL_CACHE_DIR,
    prefix: config.MODEL_PREFIX,
    ...(options.onFile === undefined ? {} : { onFile: options.onFile }),
  });
  // Not awaited: the reads overlap ComfyUI's start. A failure only costs the overlap.
  const prefetch =
    config.MODEL_PREFETCH === 'off'
      ? Promise.resolve(undefined)
      : prefetchModels(
          options.models.map((model) => join(config.MODEL_CACHE_DIR, model.folder, model.name)),
        ).then(
          (report) => {
            options.onPrefetched?.(report);
            return report;
          },
          () => undefined,
        );
  const supervisor = new ComfySupervisor({
    command: config.COMFYUI_PYTHON,
    entry: [join(config.COMFYUI_DIR, 'main.py')],
    cwd: config.COMFYUI_DIR,
    port: config.COMFYUI_PORT,
    workDir: options.workDir,
    modelCacheDir: config.MODEL_CACHE_DIR,
    modelFolders: options.models.map((model) => model.folder),
    maxRestarts: config.COMFYUI_MAX_RESTARTS,
    readyTimeoutMs: config.COMFYUI_READY_TIMEOUT_SECONDS * 1000,
    ...(config.COMFYUI_ATTENTION === 'sage' ? { extraArgs: ['--use-sage-attention'] } : {}),
    ...(options.onSupervisorEvent === undefined ? {} : { onEvent: options.onSupervisorEvent }),
    ...(options.onComfyOutput === undefined ? {} : { onOutput: options.onComfyOutput }),
  });
  await supervisor.start();
  return { supervisor, provision, prefetch, startMs: performance.now() - started };
}
