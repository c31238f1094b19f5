/**
 * A ComfyUI the worker does not run (COMFYUI_URL): wait until it answers, then check the workflow
 * against its /object_info, so that a worker with a missing node or model fails at start-up instead of
 * on every request.
 */
import { join } from 'node:path';
import type { WorkerConfig } from '../../config.js';
import type { WorkerLog } from '../../log.js';
import { ComfyEngine } from './comfy-engine.js';
import { ComfyHttpClient } from './comfy-http-client.js';
import { waitForReady } from './comfy-process.js';
import { loadWorkflow } from './workflow/load-workflow.js';
import { validateWorkflow } from './workflow/validate-workflow.js';

const COMFY_READY_TIMEOUT_MS = 300_000;

export async function startRemoteComfy(
  config: WorkerConfig,
  url: string,
  log: WorkerLog,
): Promise<ComfyEngine> {
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
