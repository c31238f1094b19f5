import { randomUUID } from 'node:crypto';
import type { z } from 'zod';
import { ComfyUnavailableError, ComfyValidationError } from '../../../../contracts/errors.js';
import type { ApiPrompt, ComfyClient, RunOptions, RunResult, UploadImageInput } from './comfy-client.js';
import { nodeErrorLines, validationErrorFrom } from './comfy-errors.js';
import {
  type HistoryEntry,
  HistoryResponseSchema,
  type ImageRef,
  type ObjectInfo,
  ObjectInfoSchema,
  type PromptAccepted,
  PromptAcceptedSchema,
  PromptRejectedSchema,
  type Queue,
  QueueSchema,
  type SystemStats,
  SystemStatsSchema,
  type UploadedImage,
  UploadedImageSchema,
} from './comfy-messages.js';
import { type ProcessWatch, withSlash } from './comfy-process.js';
import { PromptRun } from './prompt-run.js';

export interface ComfyHttpClientOptions {
  /** ComfyUI's base URL, e.g. http://127.0.0.1:8188. */
  url: string;
  /** The ComfyUI process, when this worker started it: its death fails a run at once. */
  process?: ProcessWatch;
  /** The /ws client id; one per worker. */
  clientId?: string;
  /** How often /history is polled while a prompt runs, as a safety net under the socket. */
  historyPollMs?: number;
  /** How long ComfyUI may stay unreachable after its socket closed before the run counts as crashed. */
  reconnectGraceMs?: number;
  /** Pause between reconnection attempts. */
  reconnectDelayMs?: number;
  /** Limit for one HTTP call. */
  httpTimeoutMs?: number;
}

/** The HTTP + WebSocket adapter of the ComfyClient port. */
export class ComfyHttpClient implements ComfyClient {
  readonly url: string;
  readonly clientId: string;
  private readonly options: ComfyHttpClientOptions;

  constructor(options: ComfyHttpClientOptions) {
    this.options = options;
    this.url = withSlash(options.url);
    this.clientId = options.clientId ?? randomUUID().replaceAll('-', '');
  }

  systemStats(): Promise<SystemStats> {
    return this.getJson('system_stats', SystemStatsSchema);
  }

  objectInfo(): Promise<ObjectInfo> {
    return this.getJson('object_info', ObjectInfoSchema);
  }

  /** POST /upload/image into ComfyUI's input folder; LoadImage then takes `subfolder/name`. */
  async uploadImage(input: UploadImageInput): Promise<UploadedImage> {
    const form = new FormData();
    form.set('image', new Blob([input.bytes]), input.name);
    form.set('type', 'input');
    form.set('overwrite', input.overwrite === false ? 'false' : 'true');
    if (input.subfolder !== undefined) form.set('subfolder', input.subfolder);
    const response = await this.send('upload/image', { method: 'POST', body: form });
    return UploadedImageSchema.parse(await response.json());
  }

  /** POST /prompt. A 400 becomes ComfyValidationError with one line per node error. */
  async queuePrompt(prompt: ApiPrompt, promptId: string): Promise<PromptAccepted> {
    const body = JSON.stringify({ prompt, client_id: this.clientId, prompt_id: promptId });
    const response = await this.fetch('prompt', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
    });
    if (response.status === 400) {
      throw validationErrorFrom(PromptRejectedSchema.parse(await response.json()));
    }
    await this.ensureOk(response, 'POST prompt');
    const accepted = PromptAcceptedSchema.parse(await response.json());
    if (Object.keys(accepted.node_errors).length > 0) {
      // Some outputs failed validation and ComfyUI queued the rest: a partial run is not what was asked.
      await this.deleteQueued([promptId]);
      await this.interrupt(promptId);
      const lines = nodeErrorLines(accepted.node_errors);
      throw new ComfyValidationError(['ComfyUI rejected part of the workflow', ...lines].join('\n'), {
        details: { lines },
      });
    }
    return accepted;
  }

  runPrompt(prompt: ApiPrompt, options: RunOptions): Promise<RunResult> {
    const run = new PromptRun({
      comfy: this,
      socketUrl: this.socketUrl(),
      prompt,
      promptId: options.promptId ?? randomUUID(),
      run: options,
      process: this.options.process,
      historyPollMs: this.options.historyPollMs ?? 2_000,
      reconnectGraceMs: this.options.reconnectGraceMs ?? 15_000,
      reconnectDelayMs: this.options.reconnectDelayMs ?? 500,
      connectTimeoutMs: this.options.httpTimeoutMs ?? 30_000,
    });
    return run.start();
  }

  /** GET /history/{id}: the entry once the prompt has finished, undefined before. */
  async history(promptId: string): Promise<HistoryEntry | undefined> {
    const entries = await this.getJson(`history/${encodeURIComponent(promptId)}`, HistoryResponseSchema);
    return entries[promptId];
  }

  queue(): Promise<Queue> {
    return this.getJson('queue', QueueSchema);
  }

  async readImage(ref: ImageRef): Promise<Uint8Array> {
    const query = new URLSearchParams({ filename: ref.filename, subfolder: ref.subfolder, type: ref.type });
    const response = await this.send(`view?${query}`, { method: 'GET' });
    return new Uint8Array(await response.arrayBuffer());
  }

  async interrupt(promptId?: string): Promise<void> {
    await this.postJson('interrupt', promptId === undefined ? {} : { prompt_id: promptId });
  }

  async free(options: { unloadModels: boolean; freeMemory: boolean }): Promise<void> {
    await this.postJson('free', { unload_models: options.unloadModels, free_memory: options.freeMemory });
  }

  async deleteHistory(promptIds: string[]): Promise<void> {
    await this.postJson('history', { delete: promptIds });
  }

  /** POST /queue {delete}: drops prompts that are still waiting; a running one needs interrupt(). */
  async deleteQueued(promptIds: string[]): Promise<void> {
    await this.postJson('queue', { delete: promptIds });
  }

  private socketUrl(): string {
    const url = new URL(`ws?clientId=${encodeURIComponent(this.clientId)}`, this.url);
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    return url.toString();
  }

  private async getJson<T extends z.ZodType>(path: string, schema: T): Promise<z.infer<T>> {
    const response = await this.send(path, { method: 'GET' });
    return schema.parse(await response.json());
  }

  private async postJson(path: string, body: unknown): Promise<void> {
    await this.send(path, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  }

  private async send(path: string, init: RequestInit): Promise<Response> {
    const response = await this.fetch(path, init);
    await this.ensureOk(response, `${init.method ?? 'GET'} ${path}`);
    return response;
  }

  private async fetch(path: string, init: RequestInit): Promise<Response> {
    const method = init.method ?? 'GET';
    try {
      return await fetch(new URL(path, this.url), {
        ...init,
        signal: AbortSignal.timeout(this.options.httpTimeoutMs ?? 30_000),
      });
    } catch (error) {
      throw new ComfyUnavailableError(`ComfyUI at ${this.url} did not answer ${method} /${path}`, {
        cause: error,
        details: { url: this.url, path },
      });
    }
  }

  private async ensureOk(response: Response, what: string): Promise<void> {
    if (response.ok) return;
    const text = (await response.text().catch(() => '')).slice(0, 500);
    throw new ComfyUnavailableError(`ComfyUI answered ${what} with HTTP ${response.status}`, {
      details: { status: response.status, body: text },
    });
  }
}
