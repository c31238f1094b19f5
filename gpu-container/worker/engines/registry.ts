/**
 * The one place a worker's engine is chosen and started (`startEngine`), read top to bottom:
 *   managed  the GPU image: provision the models, run and supervise ComfyUI, warm up (comfy/managed.ts);
 *   remote   a ComfyUI at COMFYUI_URL that the worker does not run (comfy/remote.ts);
 *   preview  the CPU preview engine, labelled "preview", not AI output (preview/preview-engine.ts).
 */
import { ConfigInvalidError } from '../../../contracts/errors.js';
import type { WorkerConfig } from '../config.js';
import type { WorkerLog } from '../log.js';
import { startManagedComfy } from './comfy/managed.js';
import { startRemoteComfy } from './comfy/remote.js';
import type { ComfySupervisor } from './comfy/supervisor.js';
import type { FrameEngine } from './engine.js';
import { PreviewEngine } from './preview/preview-engine.js';

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

/** An engine ready for requests, with what the worker must know of how it started. */
export interface StartedEngine {
  kind: EngineKind;
  engine: FrameEngine;
  /** Where ComfyUI answers, when the engine is ComfyUI. */
  comfyUrl?: string;
  /** Managed: the ComfyUI process the worker stops when it exits. */
  supervisor?: ComfySupervisor;
  /** Managed: the model provisioning before the first request, reported with that request. */
  provisionMs?: number;
}

export interface StartEngineOptions {
  config: WorkerConfig;
  /** The managed engine's own settings (MODEL_BUCKET, COMFYUI_PORT, ...) are read from here. */
  env: NodeJS.ProcessEnv;
  ffmpegPath: string;
  log: WorkerLog;
  /** Called when a managed ComfyUI keeps dying: the worker should stop taking work. */
  onGiveUp: (error: unknown) => void;
}

export async function startEngine(options: StartEngineOptions): Promise<StartedEngine> {
  const { config, log } = options;
  const kind = engineKind(config);
  if (kind === 'managed') {
    const managed = await startManagedComfy(config, options.env, log, options.onGiveUp);
    return {
      kind,
      engine: managed.engine,
      comfyUrl: managed.supervisor.url,
      supervisor: managed.supervisor,
      provisionMs: managed.provisionMs,
    };
  }
  if (kind === 'remote' && config.COMFYUI_URL !== undefined) {
    const url = config.COMFYUI_URL;
    return { kind, engine: await startRemoteComfy(config, url, log), comfyUrl: url };
  }
  log.info('rendering with the CPU preview engine (labelled "preview", not AI output)');
  return { kind, engine: new PreviewEngine(options.ffmpegPath) };
}
