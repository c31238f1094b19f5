import { mkdir, rm, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { outputFrameCount } from '../../contracts/geometry.js';
import { ManifestSchema } from '../../contracts/manifest.js';
import type { EngineJob } from '../../gpu-container/worker/engines/engine.js';
import { PreviewEngine } from '../../gpu-container/worker/engines/preview/preview-engine.js';
import { resolveFfmpegPath } from '../../gpu-container/worker/ffmpeg.js';
import { squareImage, workDir } from './worker-fixtures.js';

let dir: string;
let start: string;
let end: string;

beforeAll(async () => {
  dir = await workDir();
  start = join(dir, 'start.png');
  end = join(dir, 'end.jpg');
  await writeFile(start, await squareImage(120, 80, 4));
  // A square end image of another size and format: it must be cropped to the start's aspect ratio.
  await writeFile(
    end,
    await sharp(await squareImage(90, 90, 55))
      .jpeg()
      .toBuffer(),
  );
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function job(name: string, frameLength: number, interpolation: 1 | 2 | 4): Promise<EngineJob> {
  const jobDir = join(dir, name);
  await mkdir(jobDir, { recursive: true });
  const manifest = {
    ...ManifestSchema.parse({ frame_length: frameLength, interpolation, seed: 1 }),
    seed: 1,
  };
  return {
    requestId: name,
    startImage: start,
    endImage: end,
    manifest,
    geometry: {
      width: 112,
      height: 80,
      sourceFrames: frameLength,
      frames: outputFrameCount(frameLength, interpolation),
      fps: 16 * interpolation,
      interpolation,
    },
    workDir: jobDir,
  };
}

/** Mean absolute difference of two images' pixels, 0-255. */
async function distance(a: string, b: Buffer): Promise<number> {
  const [x, y] = await Promise.all([sharp(a).raw().toBuffer(), sharp(b).raw().toBuffer()]);
  let sum = 0;
  for (let i = 0; i < x.length; i++) sum += Math.abs((x[i] ?? 0) - (y[i] ?? 0));
  return sum / x.length;
}

describe('PreviewEngine', () => {
  it.each([
    [17, 1],
    [17, 2],
    [21, 4],
  ] as const)(
    'makes exactly (frame_length - 1) x m + 1 frames for frame_length %i, m %i',
    async (length, m) => {
      // Prepare
      const engine = new PreviewEngine(resolveFfmpegPath());
      const renderJob = await job(`count-${length}-${m}`, length, m);

      // Act
      const output = await engine.render(renderJob, new AbortController().signal, () => {});

      // Assess
      expect(output.frames).toHaveLength((length - 1) * m + 1);
      expect(output.frames.map((f) => basename(f))).toEqual(
        Array.from({ length: output.frames.length }, (_, i) => `frame_${String(i + 1).padStart(5, '0')}.png`),
      );
      const last = await sharp(output.frames.at(-1)).metadata();
      expect([last.format, last.width, last.height]).toEqual(['png', 112, 80]);
    },
  );

  it('starts on the start image and ends on the end image, moving in between', async () => {
    // Prepare
    const engine = new PreviewEngine(resolveFfmpegPath());
    const renderJob = await job('ends', 17, 2);
    const cover = (path: string) =>
      sharp(path).resize(112, 80, { fit: 'cover' }).removeAlpha().png().toBuffer();
    const [startFit, endFit] = await Promise.all([cover(start), cover(end)]);

    // Act
    const { frames } = await engine.render(renderJob, new AbortController().signal, () => {});

    // Assess
    const first = frames[0] ?? '';
    const middle = frames[16] ?? '';
    const last = frames.at(-1) ?? '';
    expect(await distance(first, startFit)).toBeLessThan(await distance(first, endFit));
    expect(await distance(last, endFit)).toBeLessThan(await distance(last, startFit));
    expect(await distance(middle, startFit)).toBeGreaterThan(await distance(first, startFit));
  });

  it('reports progress and stops with ENGINE_INTERRUPTED when aborted', async () => {
    // Prepare
    const engine = new PreviewEngine(resolveFfmpegPath());
    const renderJob = await job('abort', 129, 4);
    const controller = new AbortController();
    const phases: string[] = [];

    // Act
    const rendering = engine.render(renderJob, controller.signal, (p) => {
      phases.push(p.phase);
      controller.abort(new Error('SIGTERM'));
    });

    // Assess
    await expect(rendering).rejects.toMatchObject({ code: 'ENGINE_INTERRUPTED' });
    expect(phases[0]).toBe('interpolating');
  });
});
