/** Benchmark inputs: PNG frames of about 500 KB, made once with ffmpeg and cached in the OS temp dir. */
import { mkdir, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { frameFileName } from '../contracts/keys.js';
import { resolveFfmpegPath, runFfmpeg } from '../gpu-container/worker/ffmpeg.js';

export const BENCH_FRAME = { width: 832, height: 480, count: 129 } as const;

/**
 * Blurred noise that changes every frame: PNG cannot compress it much, like real video frames, and
 * noise of strength 60 blurred at sigma 2.5 lands at about 500 KB per 832x480 frame.
 */
async function makeFrames(dir: string, count: number): Promise<void> {
  const { width, height } = BENCH_FRAME;
  await runFfmpeg(resolveFfmpegPath(process.env.FFMPEG_PATH), [
    '-y',
    '-f',
    'lavfi',
    '-i',
    `color=c=gray:s=${width}x${height}`,
    '-vf',
    'format=rgb24,noise=alls=60:allf=t,gblur=sigma=2.5',
    '-frames:v',
    String(count),
    '-pred',
    'mixed',
    '-start_number',
    '1',
    join(dir, 'frame_%05d.png'),
  ]);
}

/** Returns the paths of `count` frames, in order. */
export async function benchFrames(count: number = BENCH_FRAME.count): Promise<string[]> {
  const dir = join(tmpdir(), `heritage-bench-frames-${BENCH_FRAME.width}x${BENCH_FRAME.height}-${count}`);
  await mkdir(dir, { recursive: true });
  const names = Array.from({ length: count }, (_, i) => frameFileName(i + 1));
  const present = new Set(await readdir(dir));
  if (!names.every((name) => present.has(name))) await makeFrames(dir, count);
  return names.map((name) => join(dir, name));
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}
