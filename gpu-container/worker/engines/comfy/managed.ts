/**
 * The worker running ComfyUI itself (the GPU image: COMFYUI_DIR set, COMFYUI_URL not), read top to
 * bottom: its settings; `startComfy` pulls the workflow's models onto the instance cache and starts
 * ComfyUI under supervision (reading the files into the page cache meanwhile); `startManagedComfy`
 * then checks the workflow against the live ComfyUI, warms it up, and hands out an engine that makes
 * sure ComfyUI is alive before each request. A ComfyUI that has spent its restarts ends the worker
 * non-zero, so that Batch retries the job on another host.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { S3ModelSource } from '../../../../adapters/aws/s3-model-source.js';
import { parseEnvironment } from '../../../../contracts/environment.js';
import { WorkflowInvalidError } from '../../../../contracts/errors.js';
import { type ModelEntry, ModelManifestSchema } from '../../../../contracts/model-manifest.js';
import type { ModelSource } from '../../../../contracts/model-source.js';
import type { WorkerConfig } from '../../config.js';
import type { WorkerLog } from '../../log.js';
import { type PrefetchReport, prefetchModels } from '../../provision/prefetch-models.js';
import {
  type FileTiming,
  type ModelFile,
  type ProvisionReport,
  provisionModels,
} from '../../provision/provision-models.js';
import type { EngineJob, EngineOutput, FrameEngine } from '../engine.js';
import { ComfyEngine } from './comfy-engine.js';
import { ComfyHttpClient } from './comfy-http-client.js';
import {
  type ComfyOutputLine,
  ComfySupervisor,
  freeLoopbackPort,
  type SupervisorEvent,
} from './supervisor.js';
import { WarmupModeSchema, warmUp } from './warm-up.js';
import { loadWorkflow, type Workflow } from './workflow/load-workflow.js';
import { validateWorkflow } from './workflow/validate-workflow.js';

const DEFAULT_MODEL_MANIFEST = fileURLToPath(new URL('../../../models.json', import.meta.url));

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
    .refine((port) => port === 0 || (port >= 1024 && port <= 65535), 'a port from 1024 to 65535, or 0')
    .default(0)
    .describe(
      'Loopback port of ComfyUI; 0 (the default) takes a free one when the worker starts. Batch runs the ' +
        'jobs of one instance on the host network, so the 8 workers of a p5.48xlarge cannot share a fixed port.',
    ),
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
    port: config.COMFYUI_PORT === 0 ? await freeLoopbackPort() : config.COMFYUI_PORT,
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

export interface ManagedComfy {
  engine: FrameEngine;
  supervisor: ComfySupervisor;
  provisionMs: number;
}

export function loadRuntimeConfig(env: NodeJS.ProcessEnv): ComfyRuntimeConfig {
  return parseEnvironment('managed ComfyUI', ComfyRuntimeConfigSchema, env);
}

/** The manifest entries of the models the workflow loads: an unlisted model is a configuration error. */
export async function workflowModels(workflow: Workflow, manifestPath: string): Promise<ModelEntry[]> {
  const manifest = ModelManifestSchema.parse(JSON.parse(await readFile(manifestPath, 'utf8')));
  return workflow.bindings.models.map(({ file }) => {
    const entry = manifest.models.find((model) => model.name === file);
    if (entry === undefined) {
      throw new WorkflowInvalidError(
        `workflow ${workflow.name} loads ${file}, which the model manifest ${manifestPath} does not list`,
      );
    }
    return entry;
  });
}

/** Wraps an engine so that every request first waits for a live ComfyUI, restarting it if it died. */
class SupervisedEngine implements FrameEngine {
  readonly name: FrameEngine['name'];

  constructor(
    private readonly inner: FrameEngine,
    private readonly supervisor: ComfySupervisor,
    private readonly onGiveUp: (error: unknown) => void,
  ) {
    this.name = inner.name;
  }

  async render(
    job: EngineJob,
    signal: AbortSignal,
    onProgress: Parameters<FrameEngine['render']>[2],
  ): Promise<EngineOutput> {
    try {
      await this.supervisor.ensureRunning();
    } catch (error) {
      this.onGiveUp(error);
      throw error;
    }
    return this.inner.render(job, signal, onProgress);
  }

  cleanup(job: EngineJob): Promise<void> {
    return this.inner.cleanup(job);
  }
}

export async function startManagedComfy(
  config: WorkerConfig,
  env: NodeJS.ProcessEnv,
  log: WorkerLog,
  onGiveUp: (error: unknown) => void,
): Promise<ManagedComfy> {
  const runtime = loadRuntimeConfig(env);
  const workflow = await loadWorkflow({
    name: config.WORKFLOW,
    ...(config.WORKFLOWS_DIR === undefined ? {} : { root: config.WORKFLOWS_DIR }),
  });
  const models = await workflowModels(workflow, env.MODEL_MANIFEST ?? DEFAULT_MODEL_MANIFEST);
  // Opened from a descriptor, so that download threads can open their own copy of it.
  const source = S3ModelSource.open({
    bucket: runtime.MODEL_BUCKET,
    ...(config.AWS_ENDPOINT_URL === undefined
      ? {}
      : { endpoint: config.AWS_ENDPOINT_URL, forcePathStyle: true }),
    ...(config.AWS_REGION === undefined ? {} : { region: config.AWS_REGION }),
  });
  const comfyDir = join(config.WORK_DIR, 'comfyui');
  const started = await startComfy({
    config: runtime,
    source,
    models,
    workDir: comfyDir,
    onFile: (timing) => log.info('model ready', { ...timing }),
    onSupervisorEvent: (event) => log.info(`ComfyUI ${event.kind}`, { ...event }),
    // ComfyUI's own lines become structured ones, with the request id while a request runs.
    onComfyOutput: (line) => log.info('ComfyUI output', { stream: line.stream, text: line.text }),
    onPrefetched: (report) =>
      log.info('models prefetched into the page cache', { bytes: report.bytes, ms: Math.round(report.ms) }),
  });
  const { supervisor } = started;
  log.info('models provisioned and ComfyUI started', {
    provision_ms: Math.round(started.provision.totalMs),
    downloaded_bytes: started.provision.downloadedBytes,
    start_ms: Math.round(started.startMs),
  });
  const client = new ComfyHttpClient({ url: supervisor.url, process: supervisor.watch() });
  validateWorkflow(workflow, await client.objectInfo());
  const comfy = new ComfyEngine({
    client,
    workflow,
    timeoutMs: config.REQUEST_TIMEOUT_SECONDS * 1000,
    folders: { input: join(comfyDir, 'input'), output: join(comfyDir, 'output') },
  });
  const warm = await warmUp({
    mode: runtime.WARMUP,
    engine: comfy,
    workDir: join(config.WORK_DIR, 'warm-up'),
    timeoutMs: config.REQUEST_TIMEOUT_SECONDS * 1000,
  });
  if (warm !== undefined) log.info('warm-up rendered', { ms: Math.round(warm.ms), frames: warm.frames });
  return {
    engine: new SupervisedEngine(comfy, supervisor, onGiveUp),
    supervisor,
    provisionMs: started.provision.totalMs,
  };
}
