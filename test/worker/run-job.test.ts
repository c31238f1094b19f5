import { rm } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ComfyNodeError, EngineCrashedError } from '../../contracts/errors.js';
import { requestKeys } from '../../contracts/keys.js';
import { ObjectStatusStore } from '../../contracts/lifecycle/status-store.js';
import { ResultSchema } from '../../contracts/result.js';
import type { FrameEngine } from '../../gpu-container/worker/engines/engine.js';
import { PreviewEngine } from '../../gpu-container/worker/engines/preview/preview-engine.js';
import { resolveFfmpegPath } from '../../gpu-container/worker/ffmpeg.js';
import { outboxLease } from '../../gpu-container/worker/job/job-deps.js';
import { runJob } from '../../gpu-container/worker/job/run-job.js';
import { type Emulator, startEmulator } from '../support/emulator.js';
import {
  confinedRequests,
  failingEngine,
  fixedRequests,
  jobDeps,
  RecordedMetrics,
  RecordingObjectStore,
  readyFramesEngine,
  receiveOne,
  seedRequest,
  squareImage,
  workDir,
} from './worker-fixtures.js';

let aws: Emulator;
let dir: string;
const never = new AbortController().signal;

beforeAll(async () => {
  aws = await startEmulator();
  dir = await workDir();
});
afterAll(async () => {
  await aws.stop();
  await rm(dir, { recursive: true, force: true });
});

async function keysUnder(prefix: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const item of aws.objects.list(prefix)) keys.push(item.key);
  return keys.sort();
}

async function readJson(key: string): Promise<unknown> {
  const object = await aws.objects.get(key);
  return object === undefined ? undefined : JSON.parse(new TextDecoder().decode(object.body));
}

describe('runJob with the preview engine', () => {
  it('delivers contiguous decodable frames, a video, then result.json, then succeeded and one event', async () => {
    // Prepare
    const before = await aws.workQueue.backlog();
    const listener = aws.listen();
    const work = await seedRequest(aws, 'ok-1', { video: true, clientReference: 'ref-1' });
    const recording = new RecordingObjectStore(aws.objects);
    const metrics = new RecordedMetrics();
    const deps = jobDeps(aws, new PreviewEngine(resolveFfmpegPath()), dir, {
      requests: fixedRequests(recording),
      metrics,
    });
    const keys = requestKeys('ok-1');

    // Act: the worker's first request, after 1.5 s of provisioning.
    const outcome = await runJob(await receiveOne(aws), deps, never, { provisionMs: 1500 });

    // Assess
    expect(outcome.kind).toBe('succeeded');
    const frameKeys = await keysUnder(keys.framesPrefix);
    expect(frameKeys).toEqual(Array.from({ length: work.geometry.frames }, (_, i) => keys.frame(i + 1)));
    for (const key of frameKeys) {
      const body = (await aws.objects.get(key))?.body ?? new Uint8Array();
      const meta = await sharp(body).metadata();
      expect([key, meta.format, meta.width, meta.height]).toEqual([key, 'png', 96, 64]);
    }
    const result = ResultSchema.parse(await readJson(keys.result));
    expect(result.engine).toBe('preview');
    expect(result.frames.keys).toEqual(frameKeys);
    expect(result.video?.key).toBe(keys.video);
    expect((await aws.objects.head(keys.video))?.size).toBeGreaterThan(0);

    const resultAt = recording.puts.indexOf(keys.result);
    const outputsBefore = recording.puts.slice(0, resultAt).filter((k) => k.startsWith(keys.outputsPrefix));
    expect(outputsBefore).toHaveLength(work.geometry.frames + 1);
    expect(recording.puts[resultAt + 1]).toBe(keys.status);

    const status = (await aws.statuses.read('ok-1'))?.status;
    expect(status?.state).toBe('succeeded');
    expect(status?.result_key).toBe(keys.result);
    const events = await listener.drain();
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      status: 'succeeded',
      engine: 'preview',
      request_id: 'ok-1',
      client_reference: 'ref-1',
      frames: { count: 33, width: 96, height: 64, fps: 32, format: 'png' },
      video: { key: keys.video },
      parameters: { frame_length: 17, interpolation: 2, seed: 7 },
      gpu_seconds: result.gpu_seconds,
    });
    expect(await aws.workQueue.backlog()).toEqual(before);
    const timings = result.timings_ms;
    expect(metrics.reports).toEqual([
      {
        requestId: 'ok-1',
        outcome: 'succeeded',
        gpuSeconds: result.gpu_seconds,
        stagesMs: {
          queued: timings.queued,
          inference: timings.inference,
          upload: timings.upload,
          videoMs: timings.video_encode,
          total: timings.total,
        },
        frames: 33,
        provisionMs: 1500,
      },
    ]);
    // Held from taking the message to the outcome: the worker's whole time on it, render and upload within.
    expect(result.gpu_seconds).toBe((timings.worker ?? Number.NaN) / 1000);
    expect(timings.worker).toBeGreaterThanOrEqual((timings.inference ?? 0) + (timings.upload ?? 0));
  });

  it('hands the GPU over after the render and before any output is written, and ends its GPU-held time there', async () => {
    // Prepare
    await seedRequest(aws, 'handover-1', { video: true });
    const recording = new RecordingObjectStore(aws.objects);
    const deps = jobDeps(aws, new PreviewEngine(resolveFfmpegPath()), dir, {
      requests: fixedRequests(recording),
    });
    const keys = requestKeys('handover-1');
    const outputsWritten = () => recording.puts.filter((key) => key.startsWith(keys.outputsPrefix)).length;
    const handOvers: number[] = [];

    // Act: the previous request takes 300 ms more to deliver once this one's frames are out.
    const outcome = await runJob(await receiveOne(aws), deps, never, {
      handOver: async () => {
        handOvers.push(outputsWritten());
        await sleep(300);
      },
    });

    // Assess
    expect(outcome.kind).toBe('succeeded');
    expect(handOvers).toEqual([0]);
    const result = ResultSchema.parse(await readJson(keys.result));
    const timings = result.timings_ms;
    const gpuMs = result.gpu_seconds * 1000;
    // The GPU was this request's through its render and the wait for the previous delivery, not its own.
    expect(gpuMs).toBeGreaterThanOrEqual((timings.inference ?? Number.NaN) + 300);
    expect(gpuMs).toBeLessThanOrEqual((timings.worker ?? Number.NaN) - (timings.upload ?? Number.NaN));
    expect(outputsWritten()).toBe(result.frames.count + 2);
  });

  it("runs a request on its own request's stores only, which refuse every other key", async () => {
    // Prepare
    const listener = aws.listen();
    await seedRequest(aws, 'confined-1', { video: true });
    const requests = confinedRequests(aws.objects);
    const deps = jobDeps(aws, new PreviewEngine(resolveFfmpegPath()), dir, { requests });

    // Act
    const outcome = await runJob(await receiveOne(aws), deps, never);

    // Assess
    expect(outcome.kind).toBe('succeeded');
    expect(requests.asked).toEqual(['confined-1']);
    expect(requests.stores.flatMap((store) => store.refused)).toEqual([]);
    await expect(requests.stores[0]?.get(requestKeys('other-1').status)).rejects.toThrow(/AccessDenied/);
    const events = await listener.drain();
    expect(events.map((e) => [e.request_id, e.status])).toEqual([['confined-1', 'succeeded']]);
  });

  it("fails a request through its own request's stores too: status, outbox and event", async () => {
    // Prepare
    const listener = aws.listen();
    await seedRequest(aws, 'confined-2');
    const requests = confinedRequests(aws.objects);
    const engine = failingEngine(new ComfyNodeError('KSamplerAdvanced failed', { details: { node: '12' } }));

    // Act
    const outcome = await runJob(await receiveOne(aws), jobDeps(aws, engine, dir, { requests }), never);

    // Assess
    expect(outcome.kind).toBe('failed');
    expect(requests.stores.flatMap((store) => store.refused)).toEqual([]);
    expect((await aws.statuses.read('confined-2'))?.status.state).toBe('failed');
    const events = await listener.drain();
    expect(events.map((e) => [e.request_id, e.status])).toEqual([['confined-2', 'failed']]);
  });

  it('drops a redelivered message of a finished request without a second event', async () => {
    // Prepare
    const before = await aws.workQueue.backlog();
    const work = await seedRequest(aws, 'dup-1');
    const engine = new PreviewEngine(resolveFfmpegPath());
    await runJob(await receiveOne(aws), jobDeps(aws, engine, dir), never);
    const listener = aws.listen();
    await aws.workQueue.send(JSON.stringify(work));
    const calls = { count: 0 };

    // Act
    const outcome = await runJob(
      await receiveOne(aws),
      jobDeps(aws, failingEngine(new Error('x'), calls), dir),
      never,
    );

    // Assess
    expect(outcome.kind).toBe('duplicate');
    expect(calls.count).toBe(0);
    expect(await listener.drain()).toEqual([]);
    expect(await aws.workQueue.backlog()).toEqual(before);
  });
});

describe('runJob when things go wrong', () => {
  it('leaves a message that is not a work message for the dead-letter queue, and publishes nothing', async () => {
    // Prepare
    const before = await aws.workQueue.backlog();
    const listener = aws.listen();
    await aws.workQueue.send(JSON.stringify({ version: 1, request_id: '../escape' }));
    const requests = confinedRequests(aws.objects);

    // Act
    const outcome = await runJob(
      await receiveOne(aws),
      jobDeps(aws, failingEngine(new Error('x')), dir, { requests }),
      never,
    );

    // Assess: visible again at once, so its receive count runs out and the work DLQ takes it.
    expect(outcome).toEqual({ kind: 'discarded', reason: 'not a work message' });
    expect(requests.asked).toEqual([]);
    const again = await receiveOne(aws);
    expect([again.body, again.receiveCount]).toEqual([
      JSON.stringify({ version: 1, request_id: '../escape' }),
      2,
    ]);
    await aws.workQueue.delete(again.receiptHandle);
    expect(await aws.workQueue.backlog()).toEqual(before);
    expect(await listener.drain()).toEqual([]);
  });

  it('fails the request on a node error: status failed, one failed event, message deleted', async () => {
    // Prepare
    const before = await aws.workQueue.backlog();
    const listener = aws.listen();
    await seedRequest(aws, 'node-err-1');
    const engine = failingEngine(new ComfyNodeError('KSamplerAdvanced failed', { details: { node: '12' } }));

    // Act
    const outcome = await runJob(await receiveOne(aws), jobDeps(aws, engine, dir), never);

    // Assess
    expect(outcome.kind).toBe('failed');
    const status = (await aws.statuses.read('node-err-1'))?.status;
    expect(status?.state).toBe('failed');
    expect(status?.error?.code).toBe('COMFYUI_NODE_ERROR');
    const events = await listener.drain();
    expect(events.map((e) => [e.request_id, e.status, e.error?.code, e.engine])).toEqual([
      ['node-err-1', 'failed', 'COMFYUI_NODE_ERROR', 'comfyui'],
    ]);
    expect(await aws.workQueue.backlog()).toEqual(before);
  });

  it('fails the request with UPLOAD_FAILED when one frame never uploads, and writes no result.json', async () => {
    // Prepare
    const before = await aws.workQueue.backlog();
    const listener = aws.listen();
    await seedRequest(aws, 'upload-1');
    const keys = requestKeys('upload-1');
    const store = new RecordingObjectStore(aws.objects, (key) => key === keys.frame(5));
    const metrics = new RecordedMetrics();
    const deps = jobDeps(aws, new PreviewEngine(resolveFfmpegPath()), dir, {
      requests: fixedRequests(store, aws.statuses),
      metrics,
    });

    // Act
    const outcome = await runJob(await receiveOne(aws), deps, never);

    // Assess
    expect(outcome.kind).toBe('failed');
    expect(await aws.objects.head(keys.result)).toBeUndefined();
    expect((await aws.statuses.read('upload-1'))?.status.error?.code).toBe('UPLOAD_FAILED');
    const events = await listener.drain();
    expect(events.map((e) => [e.status, e.error?.code])).toEqual([['failed', 'UPLOAD_FAILED']]);
    expect(await aws.workQueue.backlog()).toEqual(before);
    expect(metrics.reports).toEqual([
      {
        requestId: 'upload-1',
        outcome: 'failed',
        errorCode: 'UPLOAD_FAILED',
        gpuSeconds: events[0]?.gpu_seconds,
      },
    ]);
    expect(events[0]?.gpu_seconds).toBeGreaterThan(0);
  });

  it('publishes the one event a crash between status and SNS cut short, once the crashed attempt’s claim lapsed', async () => {
    // Prepare: the first run reaches status succeeded and claims the event, then SNS fails.
    const listener = aws.listen();
    const work = await seedRequest(aws, 'publish-1');
    const failingEvents = { publish: () => Promise.reject(new Error('SNS unavailable')) };
    const first = jobDeps(aws, new PreviewEngine(resolveFfmpegPath()), dir, { events: failingEvents });
    const delivery = await receiveOne(aws);
    await expect(runJob(delivery, first, never)).rejects.toThrow(/SNS unavailable/);
    await aws.workQueue.release(delivery.receiptHandle);
    const later = (ms: number) => () => new Date(Date.now() + ms);
    const lease = outboxLease(first);

    // Act: the redelivery while the claim is fresh, then copies after it lapsed.
    const redelivery = await runJob(
      await receiveOne(aws),
      jobDeps(aws, failingEngine(new Error('no render')), dir),
      never,
    );
    const whileFresh = await listener.drain();
    await aws.workQueue.send(JSON.stringify(work));
    const afterLapse = jobDeps(aws, failingEngine(new Error('no render')), dir, {
      now: later(lease + 1_000),
    });
    await runJob(await receiveOne(aws), afterLapse, never);
    await aws.workQueue.send(JSON.stringify(work));
    await runJob(await receiveOne(aws), afterLapse, never);

    // Assess: nobody publishes over a fresh claim; the first to find it lapsed publishes the stored body once.
    expect(redelivery.kind).toBe('duplicate');
    expect(whileFresh).toEqual([]);
    expect((await aws.statuses.read('publish-1'))?.status.state).toBe('succeeded');
    const events = await listener.drain();
    expect(events.map((e) => [e.request_id, e.status])).toEqual([['publish-1', 'succeeded']]);
  });

  it('finishes from result.json without rendering when a crash came between result and status', async () => {
    // Prepare: a first run commits result.json, then the worker "dies" before the status write.
    const work = await seedRequest(aws, 'resume-1');
    const keys = requestKeys('resume-1');
    const dying = new RecordingObjectStore(aws.objects);
    const crashingStatuses = new ObjectStatusStore(
      new RecordingObjectStore(aws.objects, (key) => key === keys.status && dying.puts.includes(keys.result)),
    );
    const first = jobDeps(aws, new PreviewEngine(resolveFfmpegPath()), dir, {
      requests: fixedRequests(dying, crashingStatuses),
    });
    await expect(runJob(await receiveOne(aws), first, never)).rejects.toThrow(/injected 503/);
    const listener = aws.listen();
    await aws.workQueue.send(JSON.stringify(work));
    const calls = { count: 0 };
    const metrics = new RecordedMetrics();

    // Act: while the dead attempt's lease is live the request is its own; once it lapsed, a new attempt finishes it.
    const copy = await receiveOne(aws);
    const held = await runJob(copy, jobDeps(aws, failingEngine(new Error('x'), calls), dir), never);
    await aws.workQueue.release(copy.receiptHandle); // as its visibility timeout would
    const lapsed = () => new Date(Date.now() + first.leaseMs + 1_000);
    const outcome = await runJob(
      await receiveOne(aws),
      jobDeps(aws, failingEngine(new Error('x'), calls), dir, { now: lapsed, metrics }),
      never,
    );

    // Assess: the figures are those of the run that rendered, which died before it could report them.
    expect(held.kind).toBe('held-elsewhere');
    expect(outcome.kind).toBe('succeeded');
    expect(calls.count).toBe(0);
    const committed = ResultSchema.parse(await readJson(keys.result));
    expect(metrics.reports).toMatchObject([
      { requestId: 'resume-1', outcome: 'succeeded', gpuSeconds: committed.gpu_seconds, frames: 33 },
    ]);
    expect((await aws.statuses.read('resume-1'))?.status.state).toBe('succeeded');
    const events = await listener.drain();
    expect(events.map((e) => [e.request_id, e.status, e.engine])).toEqual([
      ['resume-1', 'succeeded', 'preview'],
    ]);
  });

  it('fails the request with VIDEO_ENCODE_FAILED when the video cannot be made, and writes no result.json', async () => {
    // Prepare: odd-sized frames, which H.264 in yuv420p cannot take.
    const listener = aws.listen();
    const work = await seedRequest(aws, 'video-1', { video: true });
    const odd = await squareImage(33, 33, 2);
    const engine = readyFramesEngine(Array.from({ length: work.geometry.frames }, () => odd));

    // Act
    const outcome = await runJob(await receiveOne(aws), jobDeps(aws, engine, dir), never);

    // Assess
    expect(outcome.kind).toBe('failed');
    expect(await aws.objects.head(requestKeys('video-1').result)).toBeUndefined();
    const events = await listener.drain();
    expect(events.map((e) => [e.status, e.error?.code])).toEqual([['failed', 'VIDEO_ENCODE_FAILED']]);
  });

  // Last: its message stays in flight for the 30 s backoff, and must not be received by another test.
  it('leaves the message to come back on a retryable engine error, with no terminal event', async () => {
    // Prepare
    const before = await aws.workQueue.backlog();
    const listener = aws.listen();
    await seedRequest(aws, 'crash-1');
    const engine = failingEngine(new EngineCrashedError('ComfyUI exited with signal 9'));
    const metrics = new RecordedMetrics();

    // Act
    const outcome = await runJob(await receiveOne(aws), jobDeps(aws, engine, dir, { metrics }), never);

    // Assess
    expect(outcome.kind).toBe('requeued');
    expect((await aws.statuses.read('crash-1'))?.status).toMatchObject({
      state: 'queued',
      last_error: { code: 'ENGINE_CRASHED', retryable: true },
    });
    expect(await listener.drain()).toEqual([]);
    expect(await aws.workQueue.backlog()).toEqual({ ...before, inFlight: before.inFlight + 1 });
    // The attempt held the GPU although the request goes on: its time is reported, not a failure.
    expect(metrics.reports).toEqual([
      {
        requestId: 'crash-1',
        outcome: 'retried',
        errorCode: 'ENGINE_CRASHED',
        gpuSeconds: expect.any(Number),
      },
    ]);
  });

  describe('holding the request', () => {
    /** Renders until aborted, then throws the abort's reason, as engines do. */
    const untilAborted: FrameEngine = {
      name: 'comfyui',
      render: (_job, signal) =>
        new Promise((_, reject) =>
          signal.addEventListener('abort', () => reject(signal.reason), { once: true }),
        ),
      async cleanup() {},
    };

    it('stops before it can publish when its message’s visibility cannot be extended, and leaves the message', async () => {
      // Prepare: heartbeats every 50 ms; the queue refuses every extension.
      const listener = aws.listen();
      await seedRequest(aws, 'vis-lost-1');
      const queue = { ...aws.workQueue, extendVisibility: () => Promise.reject(new Error('SQS refused')) };
      const deps = jobDeps(aws, untilAborted, dir, {
        queue: Object.assign(Object.create(Object.getPrototypeOf(aws.workQueue)), aws.workQueue, queue),
        heartbeatIntervalMs: 50,
      });
      const delivery = await receiveOne(aws);

      // Act
      const outcome = await runJob(delivery, deps, never);

      // Assess: no terminal status, no outputs, no event; the message comes back for the next holder.
      expect(outcome).toEqual({ kind: 'lost', requestId: 'vis-lost-1' });
      expect((await aws.statuses.read('vis-lost-1'))?.status.state).toBe('running');
      expect(await aws.objects.head(requestKeys('vis-lost-1').result)).toBeUndefined();
      expect(await listener.drain()).toEqual([]);
      await aws.workQueue.release(delivery.receiptHandle);
      expect((await receiveOne(aws)).id).toBe(delivery.id);
    });

    it('writes no frame and no result.json once its lease lapsed, though the render came back', async () => {
      // Prepare: every lease renewal fails (status writes refused after the start), the lease is 300 ms, and the
      // engine hands back frames only after 600 ms, ignoring the abort: by then another attempt may hold it.
      const listener = aws.listen();
      await seedRequest(aws, 'lapsed-1');
      const keys = requestKeys('lapsed-1');
      const recording = new RecordingObjectStore(aws.objects);
      let starts = 1; // the start goes through; every write after it is refused
      const refusing = new ObjectStatusStore(
        new RecordingObjectStore(aws.objects, (key) => key === keys.status && starts-- <= 0),
      );
      const slow = readyFramesEngine(Array.from({ length: 33 }, () => Buffer.from('frame')));
      const engine: FrameEngine = {
        ...slow,
        render: async (job, signal, onProgress) => {
          await sleep(600);
          return slow.render(job, signal, onProgress);
        },
      };
      const deps = jobDeps(aws, engine, dir, {
        requests: fixedRequests(recording, refusing),
        leaseMs: 300,
        leaseMarginMs: 100,
        heartbeatIntervalMs: 50,
      });
      const delivery = await receiveOne(aws);

      // Act
      const outcome = await runJob(delivery, deps, never);

      // Assess
      expect(outcome).toEqual({ kind: 'lost', requestId: 'lapsed-1' });
      expect(recording.puts.filter((key) => key.startsWith(keys.outputsPrefix))).toEqual([]);
      expect(await listener.drain()).toEqual([]);
      await aws.workQueue.delete(delivery.receiptHandle);
    });
  });
});
