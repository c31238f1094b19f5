/**
 * The ComfyUI frame engine: uploads the two images, renders the workflow for the request, runs it and
 * collects the SaveImage frames in order. Frames are read from ComfyUI's output folder when ComfyUI
 * runs on this host, or fetched through /view otherwise. Cleanup removes the request's
 * input and output files and its history entry, so a long-lived ComfyUI does not fill its disk.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { frameFileName } from '../../../../contracts/keys.js';
import type { EngineJob, EngineOutput, EngineProgress, FrameEngine } from '../engine.js';
import { type ComfyClient, imagesOf, loadImageName, type RunProgress } from './comfy-client.js';
import type { ImageRef } from './comfy-messages.js';
import { type Workflow, workflowRecord } from './workflow/load-workflow.js';
import { renderWorkflow } from './workflow/render-workflow.js';

/** Everything Heritage puts into ComfyUI's input and output folders lives under this subfolder. */
export const COMFY_SUBFOLDER = 'heritage';
const READ_CONCURRENCY = 16;

export interface ComfyEngineOptions {
  client: ComfyClient;
  workflow: Workflow;
  /**
   * ComfyUI's input and output folders when it runs on this host (its --input-directory and
   * --output-directory): frames are then read from disk, and the request's files removed there.
   */
  folders?: { input: string; output: string };
  /** Passed to the client; the job runner's own request timeout also applies. */
  timeoutMs: number;
}

/** Turns ComfyUI's node-by-node progress into one percentage over the whole prompt. */
class PromptProgress {
  private readonly done = new Set<string>();
  private current: string | undefined;
  private phase = 'starting';

  constructor(
    private readonly nodeCount: number,
    private readonly onProgress: (progress: EngineProgress) => void,
  ) {}

  update(event: RunProgress): void {
    if (event.kind === 'queued') {
      this.onProgress({ percent: 0, phase: 'queued in ComfyUI' });
    } else if (event.kind === 'executing') {
      if (this.current !== undefined) this.done.add(this.current);
      this.current = event.node;
      this.report(0, event.classType ?? `node ${event.node}`);
    } else if (event.kind === 'progress') {
      this.report(event.max > 0 ? event.value / event.max : 0, undefined);
    }
  }

  private report(fraction: number, phase: string | undefined): void {
    if (phase !== undefined) this.phase = phase;
    const percent = (100 * (this.done.size + fraction)) / Math.max(1, this.nodeCount);
    this.onProgress({ percent: Math.min(100, percent), phase: this.phase });
  }
}

export class ComfyEngine implements FrameEngine {
  readonly name = 'comfyui';
  private readonly promptIds = new Map<string, string>();

  constructor(private readonly options: ComfyEngineOptions) {}

  async render(
    job: EngineJob,
    signal: AbortSignal,
    onProgress: (progress: EngineProgress) => void,
  ): Promise<EngineOutput> {
    const { client, workflow } = this.options;
    const started = Date.now();
    const [start, end] = await Promise.all([
      this.upload(job, job.startImage, 'start'),
      this.upload(job, job.endImage, 'end'),
    ]);
    const prompt = renderWorkflow(workflow, {
      width: job.geometry.width,
      height: job.geometry.height,
      length: job.geometry.sourceFrames,
      steps: job.manifest.steps,
      seed: job.manifest.seed,
      positive: job.manifest.positive_prompt,
      negative: job.manifest.negative_prompt,
      startImageName: start,
      endImageName: end,
      multiplier: job.geometry.interpolation,
      filenamePrefix: `${COMFY_SUBFOLDER}/${job.requestId}/frame`,
    });
    const promptId = randomUUID();
    this.promptIds.set(job.requestId, promptId);
    const uploadedMs = Date.now() - started;
    const progress = new PromptProgress(Object.keys(prompt).length, onProgress);
    const result = await client.runPrompt(prompt, {
      promptId,
      timeoutMs: this.options.timeoutMs,
      signal,
      onProgress: (event) => progress.update(event),
    });
    const ranMs = Date.now() - started - uploadedMs;
    const refs = imagesOf(result, workflow.bindings.output.node);
    const frames = await this.collect(job, refs);
    return {
      frames,
      workflow: workflowRecord(workflow),
      timingsMs: {
        comfy_upload: uploadedMs,
        comfy_prompt: ranMs,
        comfy_collect: Date.now() - started - uploadedMs - ranMs,
      },
    };
  }

  async cleanup(job: EngineJob): Promise<void> {
    const promptId = this.promptIds.get(job.requestId);
    this.promptIds.delete(job.requestId);
    const { folders } = this.options;
    await Promise.all([
      promptId === undefined ? undefined : this.options.client.deleteHistory([promptId]),
      folders === undefined
        ? undefined
        : Promise.all([
            rm(join(folders.input, COMFY_SUBFOLDER, job.requestId), { recursive: true, force: true }),
            rm(join(folders.output, COMFY_SUBFOLDER, job.requestId), { recursive: true, force: true }),
          ]),
    ]);
  }

  /** Uploads into input/heritage/<id>/ and returns the value LoadImage takes. */
  private async upload(job: EngineJob, path: string, role: 'start' | 'end'): Promise<string> {
    const uploaded = await this.options.client.uploadImage({
      name: `${role}${extname(path)}`,
      bytes: await readFile(path),
      subfolder: `${COMFY_SUBFOLDER}/${job.requestId}`,
      overwrite: true,
    });
    return loadImageName(uploaded);
  }

  /** Local paths of the frames, in the order SaveImage reported them. */
  private async collect(job: EngineJob, refs: ImageRef[]): Promise<string[]> {
    const { folders, client } = this.options;
    if (folders !== undefined && refs.every((ref) => ref.type === 'output')) {
      return refs.map((ref) => join(folders.output, ref.subfolder, ref.filename));
    }
    const dir = join(job.workDir, 'comfy-frames');
    await mkdir(dir, { recursive: true });
    const paths = refs.map((_, i) => join(dir, frameFileName(i + 1)));
    let next = 0;
    const lane = async (): Promise<void> => {
      for (let i = next++; i < refs.length; i = next++) {
        const ref = refs[i];
        const path = paths[i];
        if (ref !== undefined && path !== undefined) await writeFile(path, await client.readImage(ref));
      }
    };
    await Promise.all(Array.from({ length: Math.min(READ_CONCURRENCY, refs.length) }, lane));
    return paths;
  }
}
