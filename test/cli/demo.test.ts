/**
 * `heritage demo` end to end on the preview engine: the real dispatch handler and the real worker, on the
 * local stack. It asserts what a user gets in out/<id>/.
 */
import { spawnSync } from 'node:child_process';
import { mkdtemp, readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ffprobe from '@ffprobe-installer/ffprobe';
import { describe, expect, it } from 'vitest';
import { inspectImage } from '../../contracts/image-header.js';
import { frameFileName } from '../../contracts/keys.js';
import { ResultSchema } from '../../contracts/result.js';
import { runCli } from '../support/cli.js';

const DEMO_TIMEOUT_MS = 540_000;

function probeVideo(file: string): {
  frames: number;
  fps: string;
  width: number;
  height: number;
  codec: string;
} {
  const probe = spawnSync(
    ffprobe.path,
    [
      '-v',
      'error',
      '-count_frames',
      '-select_streams',
      'v:0',
      '-show_entries',
      'stream=nb_read_frames,r_frame_rate,width,height,codec_name',
      '-of',
      'json',
      file,
    ],
    { encoding: 'utf8' },
  );
  if (probe.status !== 0) throw new Error(`ffprobe failed: ${probe.stderr}`);
  const stream =
    (JSON.parse(probe.stdout) as { streams: Record<string, string | number>[] }).streams[0] ?? {};
  return {
    frames: Number(stream.nb_read_frames),
    fps: String(stream.r_frame_rate),
    width: Number(stream.width),
    height: Number(stream.height),
    codec: String(stream.codec_name),
  };
}

describe('heritage demo', () => {
  it(
    'delivers 129 frames, an MP4 and a valid result.json into out/<id>/ on the preview engine',
    async () => {
      // Prepare
      const outRoot = await mkdtemp(join(tmpdir(), 'heritage-demo-test-'));

      // Act
      const run = await runCli(['demo', '--out', outRoot, '--json', '--timeout', '480'], {
        env: { COMFYUI_URL: '' },
        timeoutMs: DEMO_TIMEOUT_MS,
      });

      // Assess
      expect(run.stderr).not.toContain('heritage: ');
      expect(run.code).toBe(0);
      const summary = JSON.parse(run.stdout).result as {
        request_id: string;
        out: string;
        notice: string | null;
        gpu_seconds: number;
        worker_metrics: {
          namespace: string;
          name: string;
          dimensions: Record<string, string>;
          value: number;
        }[];
      };
      expect(summary.out).toBe(join(outRoot, summary.request_id));
      expect(summary.notice).toContain('NOT AI output');

      const framesDir = join(summary.out, 'frames');
      const frames = (await readdir(framesDir)).sort();
      expect(frames).toEqual(Array.from({ length: 129 }, (_, i) => frameFileName(i + 1)));
      for (const frame of frames) {
        const info = inspectImage(new Uint8Array(await readFile(join(framesDir, frame))), { label: frame });
        expect(info).toEqual({ format: 'png', width: 832, height: 480, orientation: 1 });
      }

      expect(probeVideo(join(summary.out, 'video.mp4'))).toEqual({
        frames: 129,
        fps: '32/1',
        width: 832,
        height: 480,
        codec: 'h264',
      });

      const result = ResultSchema.parse(JSON.parse(await readFile(join(summary.out, 'result.json'), 'utf8')));
      expect(result).toMatchObject({
        request_id: summary.request_id,
        engine: 'preview',
        frames: { count: 129, width: 832, height: 480, fps: 32, format: 'png' },
        parameters: { resolution: 480, frame_length: 65, interpolation: 2, seed: 42 },
      });
      expect(result.frames.keys).toHaveLength(129);

      // What CloudWatch would read from the worker: the request's figures, as result.json has them.
      const metric = (name: string) =>
        summary.worker_metrics.filter((m) => m.name === name && m.namespace === 'Heritage');
      expect(summary.gpu_seconds).toBe(result.gpu_seconds);
      expect(metric('GpuSeconds')).toEqual([
        {
          namespace: 'Heritage',
          name: 'GpuSeconds',
          unit: 'Seconds',
          dimensions: { service: 'heritage' },
          value: result.gpu_seconds,
        },
      ]);
      expect(metric('RequestsSucceeded').map((m) => m.value)).toEqual([1]);
      expect(metric('Frames').map((m) => m.value)).toEqual([129]);
      expect(metric('InferenceMs').map((m) => m.value)).toEqual([result.timings_ms.inference]);
      expect(metric('VideoMs').map((m) => m.value)).toEqual([result.timings_ms.video_encode]);
    },
    DEMO_TIMEOUT_MS + 30_000,
  );
});
