/**
 * The worker running ComfyUI itself (COMFYUI_DIR set, COMFYUI_URL not): pull the workflow's models onto
 * the instance cache, start ComfyUI under supervision, check the workflow against it, warm it up, and
 * make sure it is alive before each request. A ComfyUI that has spent its restarts ends the worker
 * non-zero, so that Batch retries the job on another host.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { S3ModelSource } from '../../adapters/aws/s3-model-source.js';
import { parseEnvironment } from '../../contracts/environment.js';
import { WorkflowInvalidError } from '../../contracts/errors.js';
import { type ModelEntry, ModelManifestSchema } from '../../contracts/model-manifest.js';
import { ComfyEngine } from './comfy/comfy-engine.js';
import { ComfyHttpClient } from './comfy/comfy-http-client.js';
import type { ComfySupervisor } from './comfy-supervisor.js';
import type { WorkerConfig } from './config.js';
import type { EngineJob, EngineOutput, FrameEngine } from './engine.js';
import type { WorkerLog } from './log.js';
import { type ComfyRuntimeConfig, ComfyRuntimeConfigSchema, startComfy } from './start-comfy.js';
import { warmUp } from './warm-up.js';
import { loadWorkflow, type Workflow } from './workflow/load-workflow.js';
import { validateWorkflow } from './workflow/validate-workflow.js';

const DEFAULT_MODEL_MANIFEST = fileURLToPath(new URL('../models.json', import.meta.url));

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
