import { execFile } from 'node:child_process';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { frameFileName } from '../../contracts/keys.js';
import { resolveFfmpegPath } from '../../gpu-container/worker/ffmpeg.js';
import { assembleVideo } from '../../gpu-container/worker/job/assemble-video.js';
import { squareImage, workDir } from './worker-fixtures.js';

const ffprobePath = (createRequire(import.meta.url)('@ffprobe-installer/ffprobe') as { path: string }).path;
let dir: string;

beforeAll(async () => {
  dir = await workDir();
  for (let i = 1; i <= 9; i++) await writeFile(join(dir, frameFileName(i)), await squareImage(64, 48, i * 3));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('assembleVideo', () => {
  it('writes an H.264 yuv420p MP4 at the requested fps with every frame, moov first', async () => {
    // Prepare
    const output = join(dir, 'video.mp4');

    // Act
    await assembleVideo({
      ffmpegPath: resolveFfmpegPath(),
      framePattern: join(dir, 'frame_%05d.png'),
      fps: 32,
      output,
    });

    // Assess
    const { stdout } = await promisify(execFile)(ffprobePath, [
      '-v',
      'error',
      '-count_frames',
      '-select_streams',
      'v:0',
      '-show_entries',
      'stream=codec_name,pix_fmt,r_frame_rate,nb_read_frames',
      '-of',
      'json',
      output,
    ]);
    const stream = (JSON.parse(stdout) as { streams: Record<string, unknown>[] }).streams[0];
    expect(stream).toMatchObject({
      codec_name: 'h264',
      pix_fmt: 'yuv420p',
      r_frame_rate: '32/1',
      nb_read_frames: '9',
    });
    const bytes = await readFile(output);
    expect(bytes.indexOf('moov')).toBeLessThan(bytes.indexOf('mdat'));
  });

  it('fails with VIDEO_ENCODE_FAILED when there are no frames', async () => {
    // Act
    const encoding = assembleVideo({
      ffmpegPath: resolveFfmpegPath(),
      framePattern: join(dir, 'missing_%05d.png'),
      fps: 16,
      output: join(dir, 'none.mp4'),
    });

    // Assess
    await expect(encoding).rejects.toMatchObject({ code: 'VIDEO_ENCODE_FAILED' });
  });
});
