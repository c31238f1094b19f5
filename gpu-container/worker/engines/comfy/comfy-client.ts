import { z } from 'zod';
import {
  type ImageRef,
  ImageRefSchema,
  type ObjectInfo,
  type SystemStats,
  type UploadedImage,
} from './comfy-messages.js';
import type { ApiPrompt } from './workflow/api-prompt.js';

export type { ApiNode, ApiPrompt } from './workflow/api-prompt.js';

/** What ComfyUI is doing right now, for status progress. */
export type RunProgress =
  | { kind: 'queued'; promptId: string }
  | { kind: 'executing'; promptId: string; node: string; classType: string | undefined }
  | { kind: 'progress'; promptId: string; node: string | undefined; value: number; max: number }
  | { kind: 'reconnected'; promptId: string };

export interface RunOptions {
  /** Reused when a run is retried, so a duplicate never runs twice under two ids. Random if absent. */
  promptId?: string;
  /** On expiry the client interrupts ComfyUI, frees its memory and throws RequestTimeoutError. */
  timeoutMs: number;
  /** Aborting (SIGTERM) interrupts ComfyUI and throws EngineInterruptedError. */
  signal?: AbortSignal;
  onProgress?: (progress: RunProgress) => void;
}

export interface RunResult {
  promptId: string;
  /** history[prompt_id].outputs: node id -> UI output ({images: [...]} for SaveImage). */
  outputs: Record<string, Record<string, unknown>>;
}

export interface UploadImageInput {
  name: string;
  bytes: Uint8Array;
  subfolder?: string;
  overwrite?: boolean;
}

/**
 * The worker's port to ComfyUI. The job runner depends on this, never on HTTP.
 * Errors are HeritageErrors: ComfyValidationError, ComfyNodeError, GpuOutOfMemoryError,
 * EngineCrashedError, EngineInterruptedError, RequestTimeoutError, ComfyUnavailableError.
 */
export interface ComfyClient {
  systemStats(): Promise<SystemStats>;
  objectInfo(): Promise<ObjectInfo>;
  uploadImage(input: UploadImageInput): Promise<UploadedImage>;
  /** Queues the prompt and follows it to the end; resolves only on success. */
  runPrompt(prompt: ApiPrompt, options: RunOptions): Promise<RunResult>;
  /** Reads one output file (GET /view). */
  readImage(ref: ImageRef): Promise<Uint8Array>;
  /** Stops the running prompt; with a prompt id, only when that prompt is the one running. */
  interrupt(promptId?: string): Promise<void>;
  /** Asks ComfyUI to unload models and drop its caches once it is idle. */
  free(options: { unloadModels: boolean; freeMemory: boolean }): Promise<void>;
  /** Removes finished prompts from ComfyUI's history so that it does not grow without bound. */
  deleteHistory(promptIds: string[]): Promise<void>;
}

/** The value a LoadImage input takes for an uploaded image: `subfolder/name`, or `name` at the top. */
export function loadImageName(uploaded: UploadedImage): string {
  return uploaded.subfolder === '' ? uploaded.name : `${uploaded.subfolder}/${uploaded.name}`;
}

/** The images a SaveImage-like node reported, in the order it saved them. */
export function imagesOf(result: RunResult, nodeId: string): ImageRef[] {
  const images = result.outputs[nodeId]?.images;
  if (images === undefined) return [];
  return z.array(ImageRefSchema).parse(images);
}
