/** The engine a worker renders with: ComfyUI when COMFYUI_URL is set, otherwise the CPU preview. */
import { ConfigInvalidError } from '../../contracts/errors.js';
import type { WorkerConfig } from './config.js';
import type { FrameEngine } from './engine.js';
import { PreviewEngine } from './preview/preview-engine.js';

export function selectEngine(config: WorkerConfig, ffmpegPath: string): FrameEngine {
  if (config.COMFYUI_URL !== undefined) {
    throw new ConfigInvalidError(
      'COMFYUI_URL is set but the ComfyUI engine is not wired into this build yet',
      {
        details: { COMFYUI_URL: config.COMFYUI_URL },
      },
    );
  }
  return new PreviewEngine(ffmpegPath);
}
