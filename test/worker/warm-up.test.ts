import { access, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  type WarmupEngine,
  type WarmupJob,
  WarmupModeSchema,
  warmUp,
} from '../../gpu-container/worker/engines/comfy/warm-up.js';

/** An engine that records what it was asked to render and what the images looked like. */
function recordingEngine(): WarmupEngine & { jobs: WarmupJob[]; cleaned: WarmupJob[]; sizes: string[] } {
  const jobs: WarmupJob[] = [];
  const cleaned: WarmupJob[] = [];
  const sizes: string[] = [];
  return {
    jobs,
    cleaned,
    sizes,
    async render(job) {
      jobs.push(job);
      for (const path of [job.startImage, job.endImage]) {
        const { width, height, format } = await sharp(path).metadata();
        sizes.push(`${format} ${width}x${height}`);
      }
      return { frames: Array.from({ length: job.geometry.frames }, (_, index) => `frame_${index + 1}.png`) };
    },
    async cleanup(job) {
      cleaned.push(job);
    },
  };
}

describe('warmUp', () => {
  let workDir: string;
  beforeEach(async () => {
    workDir = join(await mkdtemp(join(tmpdir(), 'heritage-warmup-')), 'warmup');
  });
  afterEach(async () => {
    await rm(join(workDir, '..'), { recursive: true, force: true });
  });

  it('renders one request at the smallest size the manifest allows, RIFE included, then cleans up', async () => {
    // Prepare
    const engine = recordingEngine();

    // Act
    const result = await warmUp({ mode: 'tiny', engine, workDir, timeoutMs: 60_000 });

    // Assess
    const [job] = engine.jobs;
    expect(job?.manifest).toMatchObject({
      resolution: 480,
      frame_length: 17,
      steps: 4,
      interpolation: 2,
      video: false,
    });
    expect(job?.geometry).toMatchObject({ width: 480, height: 480, sourceFrames: 17, frames: 33 });
    expect(engine.sizes).toEqual(['png 480x480', 'png 480x480']);
    expect(result?.frames).toBe(33);
    expect(engine.cleaned).toEqual([job]);
    await expect(access(workDir)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('does nothing when WARMUP=off', async () => {
    // Prepare
    const engine = recordingEngine();

    // Act
    const result = await warmUp({ mode: WarmupModeSchema.parse('off'), engine, workDir, timeoutMs: 60_000 });

    // Assess
    expect(result).toBeUndefined();
    expect(engine.jobs).toEqual([]);
  });

  it('defaults to the tiny warm-up when WARMUP is unset', () => {
    expect(WarmupModeSchema.parse(undefined)).toBe('tiny');
  });

  it('cleans up and reports the engine failure when the warm-up render fails', async () => {
    // Prepare
    const engine = recordingEngine();
    engine.render = async () => {
      throw new Error('out of memory');
    };

    // Act
    const warming = warmUp({ mode: 'tiny', engine, workDir, timeoutMs: 60_000 });

    // Assess
    await expect(warming).rejects.toThrow('out of memory');
    expect(engine.cleaned).toHaveLength(1);
  });
});
