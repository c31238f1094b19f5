/**
 * One work message to one outcome. The order is the contract: frames (and video) first, result.json
 * LAST, then status `succeeded`, then the event, then the message is deleted. A crash anywhere leaves
 * the message to come back, and a redelivery finishes what is missing without rendering twice.
 */
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { type ErrorInfo, OutputMismatchError } from '../../contracts/errors.js';
import { requestKeys } from '../../contracts/keys.js';
import { isTerminal } from '../../contracts/lifecycle/status.js';
import { start } from '../../contracts/lifecycle/transitions.js';
import type {
  EventPublisher,
  ObjectStore,
  ReceivedMessage,
  RequestAccess,
  RequestStores,
  WorkQueue,
} from '../../contracts/ports.js';
import { type Result, ResultSchema } from '../../contracts/result.js';
import { type WorkMessage, WorkMessageSchema } from '../../contracts/work-message.js';
import { buildResult } from './completion.js';
import { deliverOutputs } from './deliver-outputs.js';
import type { EngineJob, FrameEngine } from './engine.js';
import { startHeartbeat } from './heartbeat.js';
import { describeError, type WorkerLog } from './log.js';
import { ProgressReporter } from './progress-reporter.js';
import { withRetry } from './retry.js';
import { finish, settleFailure, settleRedelivery } from './settle-job.js';
import { stageInputs } from './stage-inputs.js';

export interface RunJobDeps {
  /** Each request's stores; in the cloud IAM confines them to that request's prefixes. */
  requests: RequestAccess;
  queue: WorkQueue;
  events: EventPublisher;
  engine: FrameEngine;
  log: WorkerLog;
  ffmpegPath: string;
  workerId: string;
  /** Parent of the per-request work dirs. */
  workDir: string;
  requestTimeoutMs: number;
  /** Visibility each heartbeat extends the message to. */
  visibilitySeconds: number;
  heartbeatIntervalMs: number;
  progressIntervalMs?: number;
  uploadConcurrency?: number;
}

/** What one request runs with: the worker's deps and that request's own stores. */
export type RequestDeps = RunJobDeps & RequestStores;

export type JobOutcome =
  | { kind: 'succeeded'; requestId: string; timingsMs: Record<string, number> }
  | { kind: 'failed'; requestId: string; error: ErrorInfo }
  /** A retryable failure: the message comes back after a backoff, the request is queued again. */
  | { kind: 'requeued'; requestId: string; error: ErrorInfo }
  /** Shutdown: the message is visible again at once, the request is queued again. */
  | { kind: 'released'; requestId: string }
  /** The request was already terminal (a redelivery): message deleted, no second event. */
  | { kind: 'duplicate'; requestId: string }
  /** Not a work message, or one for a request with no status: logged and deleted. */
  | { kind: 'discarded'; reason: string };

const PROGRESS_SPANS = {
  downloading: [0, 2],
  rendering: [2, 85],
  uploading: [85, 99],
} as const;

function overall(phase: keyof typeof PROGRESS_SPANS, percent: number): number {
  const [from, to] = PROGRESS_SPANS[phase];
  return from + ((to - from) * Math.min(100, Math.max(0, percent))) / 100;
}

function parseWork(body: string): WorkMessage | undefined {
  try {
    const parsed = WorkMessageSchema.safeParse(JSON.parse(body));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

async function readResult(store: ObjectStore, key: string): Promise<Result | undefined> {
  const object = await store.get(key);
  if (object === undefined) return undefined;
  const parsed = ResultSchema.safeParse(JSON.parse(new TextDecoder().decode(object.body)));
  return parsed.success ? parsed.data : undefined;
}

export async function runJob(
  message: ReceivedMessage,
  worker: RunJobDeps,
  shutdown: AbortSignal,
  context: { provisionMs?: number } = {},
): Promise<JobOutcome> {
  const startedAt = Date.now();
  const work = parseWork(message.body);
  if (work === undefined) {
    worker.log.error('discarding a message that is not a work message', { message_id: message.id });
    await worker.queue.delete(message.receiptHandle);
    return { kind: 'discarded', reason: 'not a work message' };
  }
  const requestId = work.request_id;
  const keys = requestKeys(requestId);
  // From here on every read and write goes through this request's stores, settling included.
  const deps: RequestDeps = { ...worker, ...worker.requests.forRequest(requestId) };
  const { store, queue, statuses, engine, log } = deps;

  const [current, committed] = await Promise.all([statuses.read(requestId), readResult(store, keys.result)]);
  if (current === undefined) {
    log.error('discarding a work message whose request has no status', { request_id: requestId });
    await queue.delete(message.receiptHandle);
    return { kind: 'discarded', reason: 'request has no status' };
  }
  if (isTerminal(current.status.state)) {
    log.info('request already finished; dropping the redelivered message', {
      request_id: requestId,
      state: current.status.state,
    });
    await settleRedelivery(deps, message, work, current.status, committed);
    return { kind: 'duplicate', requestId };
  }
  if (committed !== undefined) {
    log.info('result.json exists; finishing without rendering again', { request_id: requestId });
    await finish(deps, message, work, committed);
    return { kind: 'succeeded', requestId, timingsMs: committed.timings_ms };
  }
  if ((await statuses.update(requestId, start({ workerId: deps.workerId, now: new Date() }))) === undefined) {
    await queue.delete(message.receiptHandle);
    return { kind: 'duplicate', requestId };
  }

  const timings: Record<string, number> = {
    queued: Math.max(0, startedAt - Date.parse(work.enqueued_at)),
    provision: context.provisionMs ?? 0,
    inference: 0,
    upload: 0,
  };
  const progress = new ProgressReporter({
    statuses,
    requestId,
    log,
    ...(deps.progressIntervalMs === undefined ? {} : { intervalMs: deps.progressIntervalMs }),
  });
  const heartbeat = startHeartbeat({
    queue,
    receiptHandle: message.receiptHandle,
    visibilitySeconds: deps.visibilitySeconds,
    intervalMs: deps.heartbeatIntervalMs,
    stamp: () => progress.heartbeat(),
    log,
    requestId,
  });
  const timeout = AbortSignal.timeout(deps.requestTimeoutMs);
  const signal = AbortSignal.any([shutdown, timeout]);
  const jobDir = join(deps.workDir, `${requestId}-${message.receiveCount}-${process.pid}`);
  let job: EngineJob | undefined;
  let result: Result;

  try {
    progress.report({ percent: 0, phase: 'downloading' });
    const t0 = Date.now();
    const inputs = await stageInputs(store, work, jobDir, signal);
    timings.download = Date.now() - t0;
    job = { requestId, ...inputs, manifest: work.manifest, geometry: work.geometry, workDir: jobDir };

    const t1 = Date.now();
    const output = await engine.render(job, signal, (p) =>
      progress.report({ percent: overall('rendering', p.percent), phase: p.phase }),
    );
    timings.inference = Date.now() - t1;
    if (output.frames.length !== work.geometry.frames) {
      throw new OutputMismatchError(
        `${engine.name} produced ${output.frames.length} frames; (frame_length - 1) x interpolation + 1 = ${work.geometry.frames}`,
        { details: { expected: work.geometry.frames, actual: output.frames.length } },
      );
    }

    const t2 = Date.now();
    const { frameKeys, video } = await deliverOutputs({
      store,
      keys,
      frames: output.frames,
      videoFps: work.manifest.video ? work.geometry.fps : undefined,
      ffmpegPath: deps.ffmpegPath,
      dir: jobDir,
      signal,
      ...(deps.uploadConcurrency === undefined ? {} : { concurrency: deps.uploadConcurrency }),
      onUploaded: (done, total) =>
        progress.report({ percent: overall('uploading', (100 * done) / total), phase: 'uploading' }),
    });
    if (video !== undefined) timings.video_encode = video.encodeMs;
    timings.upload = Date.now() - t2;
    timings.total = Date.now() - Date.parse(work.enqueued_at);
    timings.worker = Date.now() - startedAt;
    Object.assign(timings, output.timingsMs ?? {});
    result = buildResult({
      work,
      engine: engine.name,
      workflow: output.workflow,
      frameKeys,
      videoBytes: video?.bytes,
      timingsMs: timings,
      createdAt: new Date(),
    });
    await withRetry(
      () => store.put(keys.result, JSON.stringify(result, null, 2), { contentType: 'application/json' }),
      { signal },
    );
  } catch (error) {
    await progress.close();
    await heartbeat.stop();
    return await settleFailure(deps, message, work, error, { shutdown, timeout, timings, startedAt });
  } finally {
    await progress.close();
    await heartbeat.stop();
    await cleanUp(deps, job, jobDir);
  }
  // result.json is committed: from here a failure must not mark the request failed; the message comes
  // back and the redelivery finishes through the result.json path above.
  await finish(deps, message, work, result);
  log.info('request succeeded', {
    request_id: requestId,
    engine: engine.name,
    timings_ms: result.timings_ms,
  });
  return { kind: 'succeeded', requestId, timingsMs: result.timings_ms };
}

async function cleanUp(deps: RequestDeps, job: EngineJob | undefined, jobDir: string): Promise<void> {
  try {
    if (job !== undefined) await deps.engine.cleanup(job);
  } catch (error) {
    deps.log.warn('engine cleanup failed', { request_id: job?.requestId, error: describeError(error) });
  }
  await rm(jobDir, { recursive: true, force: true });
}
