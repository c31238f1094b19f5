/** Benchmark inputs: PNG frames of about 500 KB, made once and cached in the OS temp dir. */
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { frameFileName } from '../contracts/keys.js';

export const BENCH_FRAME = { width: 832, height: 480, count: 129 } as const;

/**
 * Blurred gaussian noise: PNG cannot compress it much, like real video frames, and a blur of 2 px at
 * sigma 40 lands at about 480 KB per 832x480 frame. Every frame differs.
 */
async function makeFrame(): Promise<Buffer> {
  const { width, height } = BENCH_FRAME;
  return sharp({
    create: {
      width,
      height,
      channels: 3,
      background: '#808080',
      noise: { type: 'gaussian', mean: 128, sigma: 40 },
    },
  })
    .blur(2)
    .png({ adaptiveFiltering: true })
    .toBuffer();
}

/** Returns the paths of `count` frames, in order. */
export async function benchFrames(count: number = BENCH_FRAME.count): Promise<string[]> {
  const dir = join(tmpdir(), `heritage-bench-frames-${BENCH_FRAME.width}x${BENCH_FRAME.height}`);
  await mkdir(dir, { recursive: true });
  const present = new Set(await readdir(dir));
  const paths: string[] = [];
  for (let i = 1; i <= count; i++) {
    const name = frameFileName(i);
    const path = join(dir, name);
    if (!present.has(name)) await writeFile(path, await makeFrame());
    paths.push(path);
  }
  return paths;
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}
