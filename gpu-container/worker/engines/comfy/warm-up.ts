/**
 * Warm-up: once ComfyUI is ready, render one request at the smallest size the manifest allows, so
 * that loading the weights into VRAM (both Wan experts, the text encoder, the VAE and RIFE) is paid
 * here, before the first message is taken, and not by the first client. WARMUP=off skips it.
 *
 * It goes through the same frame engine and workflow as real requests; only the request is tiny.
 */
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { z } from 'zod';
import { computeGeometry } from '../../../../contracts/geometry.js';
import { validateManifest } from '../../../../contracts/manifest.js';
import type { EngineJob } from '../engine.js';

export const WarmupModeSchema = z
  .enum(['off', 'tiny'])
  .default('tiny')
  .describe('WARMUP: "tiny" renders a minimum-size request once ComfyUI is ready; "off" skips it.');
export type WarmupMode = z.infer<typeof WarmupModeSchema>;

/** What the warm-up hands the engine: the job of a real request. */
export type WarmupJob = EngineJob;

/** The part of the worker's frame engine the warm-up uses. */
export interface WarmupEngine {
  render(
    job: WarmupJob,
    signal: AbortSignal,
    onProgress: (progress: unknown) => void,
  ): Promise<{ frames: string[] }>;
  cleanup(job: WarmupJob): Promise<void>;
}

/** The smallest request the contract allows: 480p short side, 17 frames, 4 steps; RIFE on so it loads too. */
const WARMUP_MANIFEST = {
  version: 1,
  positive_prompt: 'a grey square slowly turning blue',
  resolution: 480,
  frame_length: 17,
  steps: 4,
  interpolation: 2,
  video: false,
  seed: 1,
} as const;

const SIDE = 480;

export async function warmupJob(workDir: string): Promise<WarmupJob> {
  await mkdir(workDir, { recursive: true });
  const manifest = { ...validateManifest(WARMUP_MANIFEST).manifest, seed: WARMUP_MANIFEST.seed };
  const image = (rgb: { r: number; g: number; b: number }, path: string) =>
    sharp({ create: { width: SIDE, height: SIDE, channels: 3, background: rgb } })
      .png()
      .toFile(path);
  const startImage = join(workDir, 'warmup-start.png');
  const endImage = join(workDir, 'warmup-end.png');
  await Promise.all([
    image({ r: 128, g: 128, b: 128 }, startImage),
    image({ r: 40, g: 80, b: 200 }, endImage),
  ]);
  return {
    requestId: 'heritage-warmup',
    startImage,
    endImage,
    manifest,
    geometry: computeGeometry({ width: SIDE, height: SIDE }, manifest),
    workDir,
  };
}

export interface WarmUpOptions {
  mode: WarmupMode;
  engine: WarmupEngine;
  workDir: string;
  timeoutMs: number;
  signal?: AbortSignal;
}

/** Runs the warm-up request; resolves with how long it took, or undefined when WARMUP=off. */
export async function warmUp(options: WarmUpOptions): Promise<{ ms: number; frames: number } | undefined> {
  if (options.mode === 'off') return undefined;
  const started = performance.now();
  const job = await warmupJob(options.workDir);
  const signals = [
    AbortSignal.timeout(options.timeoutMs),
    ...(options.signal === undefined ? [] : [options.signal]),
  ];
  try {
    const output = await options.engine.render(job, AbortSignal.any(signals), () => {});
    return { ms: performance.now() - started, frames: output.frames.length };
  } finally {
    await options.engine.cleanup(job);
    await rm(options.workDir, { recursive: true, force: true });
  }
}
