/**
 * Worker overhead per request outside the engine: runJob with an engine that hands back 129 ready
 * 832x480 frames at once, through the S3-like network model. What remains is the worker's own cost:
 * status writes, input download, frame upload, video encode, result.json, event, message delete.
 * Run: npm run bench -- worker-overhead
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { S3Client } from '@aws-sdk/client-s3';
import { SNSClient } from '@aws-sdk/client-sns';
import { SQSClient } from '@aws-sdk/client-sqs';
import { S3ObjectStore } from '../adapters/aws/s3-object-store.js';
import { SnsEventPublisher } from '../adapters/aws/sns-event-publisher.js';
import { SqsWorkQueue } from '../adapters/aws/sqs-work-queue.js';
import { SharedRequestAccess } from '../adapters/local/shared-request-access.js';
import { requestKeys } from '../contracts/keys.js';
import { ManifestSchema } from '../contracts/manifest.js';
import { pinImage, type WorkMessage } from '../contracts/work-message.js';
import type { FrameEngine } from '../gpu-container/worker/engines/engine.js';
import { resolveFfmpegPath } from '../gpu-container/worker/ffmpeg.js';
import type { RunJobDeps } from '../gpu-container/worker/job/job-deps.js';
import { runJob } from '../gpu-container/worker/job/run-job.js';
import { silentLog } from '../gpu-container/worker/log.js';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../local/local-aws.js';
import { BENCH_FRAME, benchFrames, median } from './bench-frames.js';
import { S3_LIKE } from './network-model-proxy.js';
import { type RemoteS3, startRemoteS3 } from './remote-s3.js';

const REPEATS = 3;

export interface OverheadFigures {
  video: boolean;
  overheadMs: number;
  breakdownMs: Record<string, number>;
}

/** Hands back frames that already exist: its render time is what the bench subtracts. */
function readyFramesEngine(frames: string[], timing: { renderMs: number }): FrameEngine {
  return {
    name: 'preview',
    async render() {
      const started = performance.now();
      const out = { frames: [...frames], workflow: null };
      timing.renderMs = performance.now() - started;
      return out;
    },
    async cleanup() {},
  };
}

export function depsFor(remote: RemoteS3, engine: FrameEngine, workDir: string): RunJobDeps {
  const common = { endpoint: remote.modelEndpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS };
  const store = new S3ObjectStore(new S3Client({ ...common, forcePathStyle: true }), remote.bucket);
  return {
    bucket: remote.bucket,
    leaseMs: 90_000,
    requests: new SharedRequestAccess(store),
    queue: new SqsWorkQueue(new SQSClient(common), remote.workQueueUrl),
    events: new SnsEventPublisher(new SNSClient(common), remote.topicArn),
    engine,
    log: silentLog,
    metrics: { record() {} },
    ffmpegPath: resolveFfmpegPath(),
    workerId: 'bench',
    workDir,
    requestTimeoutMs: 600_000,
    visibilitySeconds: 120,
    heartbeatIntervalMs: 30_000,
  };
}

export async function seed(deps: RunJobDeps, remote: RemoteS3, id: string, frames: string[], video: boolean) {
  const keys = requestKeys(id);
  const { store, statuses } = deps.requests.forRequest(id);
  const pin = async (name: string, path: string) => {
    const bytes = await readFile(path);
    return pinImage(keys.inboxObject(name), (await store.put(keys.inboxObject(name), bytes)).etag, bytes);
  };
  const start = await pin('start.png', frames[0] ?? '');
  const end = await pin('end.png', frames.at(-1) ?? '');
  const now = new Date().toISOString();
  await statuses.create({
    version: 1,
    request_id: id,
    state: 'queued',
    created_at: now,
    updated_at: now,
  });
  const work: WorkMessage = {
    version: 1,
    request_id: id,
    bucket: remote.bucket,
    manifest_etag: '"bench"',
    manifest: { ...ManifestSchema.parse({ frame_length: 65, interpolation: 2, seed: 1, video }), seed: 1 },
    inputs: { start, end },
    geometry: {
      width: BENCH_FRAME.width,
      height: BENCH_FRAME.height,
      sourceFrames: 65,
      frames: 129,
      fps: 32,
      interpolation: 2,
    },
    enqueued_at: now,
  };
  await deps.queue.send(JSON.stringify(work));
}

export async function benchWorkerOverhead(): Promise<OverheadFigures[]> {
  const frames = await benchFrames();
  const workDir = await mkdtemp(join(tmpdir(), 'heritage-bench-worker-'));
  const remote = await startRemoteS3(S3_LIKE);
  const timing = { renderMs: 0 };
  const deps = depsFor(remote, readyFramesEngine(frames, timing), workDir);
  const figures: OverheadFigures[] = [];
  console.log(
    `worker overhead: 129 frames of ${BENCH_FRAME.width}x${BENCH_FRAME.height}, engine returns at once, network model, median of ${REPEATS}`,
  );
  try {
    for (const video of [false, true]) {
      const runs: { overheadMs: number; timings: Record<string, number> }[] = [];
      for (let r = 0; r <= REPEATS; r++) {
        const id = `bench-${video ? 'video' : 'frames'}-${r}`;
        await seed(deps, remote, id, frames, video);
        const message = await deps.queue.receive({ waitSeconds: 1, visibilitySeconds: 120 });
        if (message === undefined) throw new Error('work message did not arrive');
        const started = performance.now();
        const outcome = await runJob(message, deps, new AbortController().signal);
        const wallMs = performance.now() - started;
        if (outcome.kind !== 'succeeded') throw new Error(`bench request ${id} ended ${outcome.kind}`);
        // Run 0 warms connections and the JIT; it is not counted.
        if (r > 0) runs.push({ overheadMs: wallMs - timing.renderMs, timings: outcome.timingsMs });
      }
      const pick = (name: string) => median(runs.map((run) => run.timings[name] ?? 0));
      const figure: OverheadFigures = {
        video,
        overheadMs: median(runs.map((run) => run.overheadMs)),
        breakdownMs: {
          download: pick('download'),
          upload: pick('upload'),
          video_encode: pick('video_encode'),
        },
      };
      figures.push(figure);
      const parts = Object.entries(figure.breakdownMs)
        .filter(([, ms]) => ms > 0)
        .map(([name, ms]) => `${name} ${(ms / 1000).toFixed(2)} s`)
        .join(', ');
      console.log(
        `  ${video ? 'frames + video.mp4' : 'frames only'}: ${(figure.overheadMs / 1000).toFixed(2)} s per request (${parts})`,
      );
    }
    return figures;
  } finally {
    await remote.stop();
    await rm(workDir, { recursive: true, force: true });
  }
}
