/**
 * Overlapped delivery (OVERLAP_DELIVERY): requests per hour of one worker, with and without the next
 * request rendering while the previous one delivers, side by side on the same machine. The engine
 * stands in for the GPU: it holds each request for a fixed time without using the host's cores, then
 * hands back 129 ready 832x480 frames. Delivery is real: frame upload and the H.264 encode of
 * video.mp4, through the S3-like network model. Run: npm run bench -- overlap-delivery
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { FrameEngine } from '../gpu-container/worker/engines/engine.js';
import type { JobOutcome } from '../gpu-container/worker/job/job-deps.js';
import { runWorkerLoop } from '../gpu-container/worker/job/worker-loop.js';
import { BENCH_FRAME, benchFrames } from './bench-frames.js';
import { S3_LIKE } from './network-model-proxy.js';
import { startRemoteS3 } from './remote-s3.js';
import { depsFor, seed } from './worker-overhead.js';

/** GPU time per request that the engine stands in for (ms). */
const GPU_MS = Number(process.env.BENCH_GPU_MS ?? 4_000);
/** Requests per mode, back to back. */
const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 5);

export interface OverlapFigures {
  gpuMs: number;
  requests: number;
  /** Wall seconds for all requests, from the first take to the last outcome. */
  serialS: number;
  overlapS: number;
  /** serial / overlapped wall time: how many more requests an hour the same GPU serves. */
  ratio: number;
  /** Mean GPU-held seconds per request that result.json and the metrics report, per mode. */
  gpuHeldS: { serial: number; overlap: number };
}

/** Holds the "GPU" for GPU_MS without using a core, then hands back frames that already exist. */
function gpuStandIn(frames: string[]): FrameEngine {
  return {
    name: 'preview',
    async render(_job, signal) {
      await sleep(GPU_MS, undefined, { signal });
      return { frames: [...frames], workflow: null };
    },
    async cleanup() {},
  };
}

async function runMode(overlap: boolean, frames: string[]): Promise<{ wallS: number; gpuHeldS: number }> {
  const workDir = await mkdtemp(join(tmpdir(), 'heritage-bench-overlap-'));
  const remote = await startRemoteS3(S3_LIKE);
  try {
    const deps = depsFor(remote, gpuStandIn(frames), workDir);
    const gpuSeconds: number[] = [];
    deps.metrics = { record: (report) => gpuSeconds.push(report.gpuSeconds) };
    // One warm-up request (connections, JIT), not counted, then the measured ones queued back to back.
    await seed(deps, remote, `warm-${overlap}`, frames, true);
    await runWorkerLoop(deps, { idleTimeoutMs: 0, pollSeconds: 1 }, new AbortController().signal);
    gpuSeconds.length = 0;
    for (let i = 0; i < REQUESTS; i++) await seed(deps, remote, `req-${overlap}-${i}`, frames, true);
    const outcomes: JobOutcome[] = [];
    const done = new AbortController();
    const started = performance.now();
    await runWorkerLoop(
      deps,
      {
        idleTimeoutMs: 60_000,
        pollSeconds: 1,
        overlapDelivery: overlap,
        onOutcome: (outcome) => {
          outcomes.push(outcome);
          if (outcomes.length === REQUESTS) done.abort(new Error('all requests done'));
        },
      },
      done.signal,
    );
    const wallS = (performance.now() - started) / 1000;
    const failed = outcomes.filter((outcome) => outcome.kind !== 'succeeded');
    if (failed.length > 0) throw new Error(`bench requests did not succeed: ${JSON.stringify(failed)}`);
    return { wallS, gpuHeldS: gpuSeconds.reduce((a, b) => a + b, 0) / gpuSeconds.length };
  } finally {
    await remote.stop();
    await rm(workDir, { recursive: true, force: true });
  }
}

export async function benchOverlapDelivery(): Promise<OverlapFigures> {
  const frames = await benchFrames();
  console.log(
    `overlapped delivery: ${REQUESTS} requests back to back, ${GPU_MS} ms of stand-in GPU time each, ${BENCH_FRAME.count} frames of ${BENCH_FRAME.width}x${BENCH_FRAME.height} + video.mp4, network model`,
  );
  const serial = await runMode(false, frames);
  const overlap = await runMode(true, frames);
  const figures: OverlapFigures = {
    gpuMs: GPU_MS,
    requests: REQUESTS,
    serialS: serial.wallS,
    overlapS: overlap.wallS,
    ratio: serial.wallS / overlap.wallS,
    gpuHeldS: { serial: serial.gpuHeldS, overlap: overlap.gpuHeldS },
  };
  const perRequest = (wallS: number) => (wallS / REQUESTS).toFixed(2);
  console.log(
    `  serial:  ${serial.wallS.toFixed(2)} s (${perRequest(serial.wallS)} s per request; GPU-held ${serial.gpuHeldS.toFixed(2)} s each)`,
  );
  console.log(
    `  overlap: ${overlap.wallS.toFixed(2)} s (${perRequest(overlap.wallS)} s per request; GPU-held ${overlap.gpuHeldS.toFixed(2)} s each)`,
  );
  console.log(`  ratio serial / overlap: ${figures.ratio.toFixed(2)}`);
  return figures;
}
