import { rm } from 'node:fs/promises';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ComfyNodeError, EngineCrashedError } from '../../contracts/errors.js';
import { requestKeys } from '../../contracts/keys.js';
import { ObjectStatusStore } from '../../contracts/lifecycle/status-store.js';
import { ResultSchema } from '../../contracts/result.js';
import { resolveFfmpegPath } from '../../gpu-container/worker/ffmpeg.js';
import { PreviewEngine } from '../../gpu-container/worker/preview/preview-engine.js';
import { runJob } from '../../gpu-container/worker/run-job.js';
import { type Emulator, startEmulator } from '../support/emulator.js';
import {
  confinedRequests,
  failingEngine,
  fixedRequests,
  jobDeps,
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
    const deps = jobDeps(aws, new PreviewEngine(resolveFfmpegPath()), dir, {
      requests: fixedRequests(recording),
    });
    const keys = requestKeys('ok-1');

    // Act
    const outcome = await runJob(await receiveOne(aws), deps, never);

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
    });
    expect(await aws.workQueue.backlog()).toEqual(before);
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
  it('deletes a message that is not a work message, and publishes nothing', async () => {
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

    // Assess
    expect(outcome).toEqual({ kind: 'discarded', reason: 'not a work message' });
    expect(requests.asked).toEqual([]);
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
    const deps = jobDeps(aws, new PreviewEngine(resolveFfmpegPath()), dir, {
      requests: fixedRequests(store, aws.statuses),
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
  });

  it('publishes the one event a crash between status and SNS cut short, when the message comes back', async () => {
    // Prepare: the first run reaches status succeeded, then SNS fails.
    const listener = aws.listen();
    const work = await seedRequest(aws, 'publish-1');
    const failingEvents = { publish: () => Promise.reject(new Error('SNS unavailable')) };
    const first = jobDeps(aws, new PreviewEngine(resolveFfmpegPath()), dir, { events: failingEvents });
    const delivery = await receiveOne(aws);
    await expect(runJob(delivery, first, never)).rejects.toThrow(/SNS unavailable/);
    await aws.workQueue.release(delivery.receiptHandle);
    const again = jobDeps(aws, failingEngine(new Error('must not render')), dir);

    // Act: the redelivery (same message id, so it owns the cut-short publication), then a stray copy.
    const redelivery = await receiveOne(aws);
    const outcome = await runJob(redelivery, again, never);
    await aws.workQueue.send(JSON.stringify(work));
    await runJob(await receiveOne(aws), again, never);

    // Assess
    expect(redelivery.id).toBe(delivery.id);
    expect(outcome.kind).toBe('duplicate');
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

    // Act
    const outcome = await runJob(
      await receiveOne(aws),
      jobDeps(aws, failingEngine(new Error('x'), calls), dir),
      never,
    );

    // Assess
    expect(outcome.kind).toBe('succeeded');
    expect(calls.count).toBe(0);
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

    // Act
    const outcome = await runJob(await receiveOne(aws), jobDeps(aws, engine, dir), never);

    // Assess
    expect(outcome.kind).toBe('requeued');
    expect((await aws.statuses.read('crash-1'))?.status).toMatchObject({
      state: 'queued',
      last_error: { code: 'ENGINE_CRASHED', retryable: true },
    });
    expect(await listener.drain()).toEqual([]);
    expect(await aws.workQueue.backlog()).toEqual({ ...before, inFlight: before.inFlight + 1 });
  });
});
