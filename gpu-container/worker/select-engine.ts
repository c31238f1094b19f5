/**
 * The engine a worker renders with (`engineKind`): a ComfyUI the worker runs itself (managed, in the GPU
 * image), a ComfyUI at COMFYUI_URL (remote), or the CPU preview. For a remote ComfyUI it waits until
 * ComfyUI answers, then checks the workflow against /object_info, so a worker with a missing node or
 * model fails at start-up instead of on every request. managed-comfy.ts starts the managed one.
 */

import { join } from 'node:path';
import { ConfigInvalidError } from '../../contracts/errors.js';
import { ComfyEngine } from './comfy/comfy-engine.js';
import { ComfyHttpClient } from './comfy/comfy-http-client.js';
import { waitForReady } from './comfy/comfy-process.js';
import type { WorkerConfig } from './config.js';
import type { FrameEngine } from './engine.js';
import type { WorkerLog } from './log.js';
import { PreviewEngine } from './preview/preview-engine.js';
import { loadWorkflow } from './workflow/load-workflow.js';
import { validateWorkflow } from './workflow/validate-workflow.js';

const COMFY_READY_TIMEOUT_MS = 300_000;

export type EngineKind = NonNullable<WorkerConfig['WORKER_ENGINE']>;

/** WORKER_ENGINE, or what the other variables imply; a choice its variables cannot serve is CONFIG_INVALID. */
export function engineKind(config: WorkerConfig): EngineKind {
  const kind =
    config.WORKER_ENGINE ??
    (config.COMFYUI_URL !== undefined ? 'remote' : config.COMFYUI_DIR !== undefined ? 'managed' : 'preview');
  if (kind === 'remote' && config.COMFYUI_URL === undefined) {
    throw new ConfigInvalidError('WORKER_ENGINE=remote needs COMFYUI_URL');
  }
  if (kind === 'managed' && config.COMFYUI_DIR === undefined) {
    throw new ConfigInvalidError('WORKER_ENGINE=managed needs COMFYUI_DIR');
  }
  return kind;
}

export async function selectEngine(
  config: WorkerConfig,
  ffmpegPath: string,
  log: WorkerLog,
): Promise<FrameEngine> {
  const url = config.COMFYUI_URL;
  if (engineKind(config) === 'preview' || url === undefined) {
    log.info('rendering with the CPU preview engine (labelled "preview", not AI output)');
    return new PreviewEngine(ffmpegPath);
  }
  const workflow = await loadWorkflow({
    name: config.WORKFLOW,
    ...(config.WORKFLOWS_DIR === undefined ? {} : { root: config.WORKFLOWS_DIR }),
  });
  const stats = await waitForReady({ url, timeoutMs: COMFY_READY_TIMEOUT_MS });
  const client = new ComfyHttpClient({ url });
  validateWorkflow(workflow, await client.objectInfo());
  log.info('rendering with ComfyUI', {
    url,
    workflow: workflow.name,
    workflow_sha256: workflow.sha256,
    comfyui_version: stats.system.comfyui_version ?? null,
  });
  return new ComfyEngine({
    client,
    workflow,
    timeoutMs: config.REQUEST_TIMEOUT_SECONDS * 1000,
    ...localFolders(config),
  });
}

/** ComfyUI's input and output folders, when it runs on this host. */
function localFolders(config: WorkerConfig): { folders?: { input: string; output: string } } {
  const { COMFYUI_DIR: dir, COMFYUI_INPUT_DIR: input, COMFYUI_OUTPUT_DIR: output } = config;
  if (dir === undefined && (input === undefined || output === undefined)) return {};
  return {
    folders: {
      input: input ?? join(dir ?? '', 'input'),
      output: output ?? join(dir ?? '', 'output'),
    },
  };
}
