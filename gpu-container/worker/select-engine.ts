/**
 * The engine a worker renders with: ComfyUI when COMFYUI_URL is set, otherwise the CPU preview.
 * For ComfyUI it waits until ComfyUI answers, then checks the workflow against /object_info, so a
 * worker with a missing node or model fails at start-up instead of on every request.
 */

import { join } from 'node:path';
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

export async function selectEngine(
  config: WorkerConfig,
  ffmpegPath: string,
  log: WorkerLog,
): Promise<FrameEngine> {
  const url = config.COMFYUI_URL;
  if (url === undefined) {
    log.info('no COMFYUI_URL: rendering with the CPU preview engine (labelled "preview", not AI output)');
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
