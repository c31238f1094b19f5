/**
 * One work message to one outcome, in two parts: rendering, which holds the GPU, then delivery, which
 * needs only the host and may overlap the next request's render (JobContext.handOver). The order is
 * the contract: the lease first (one attempt renders a
 * request, however many workers hold its message), frames (and video), result.json LAST, then status
 * `succeeded`, then the event, then the message is deleted. A crash anywhere leaves the message to come
 * back, and a redelivery finishes what is missing without rendering twice. A lost lease stops the work
 * before another byte is written, and leaves the request and its message to whoever holds them now.
 */
import { randomUUID } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { OutputMismatchError } from '../../../contracts/errors.js';
import { requestKeys } from '../../../contracts/keys.js';
import { readCommittedResult } from '../../../contracts/lifecycle/complete-event.js';
import { isTerminal } from '../../../contracts/lifecycle/status.js';
import { start } from '../../../contracts/lifecycle/transitions.js';
import type { ReceivedMessage } from '../../../contracts/ports.js';
import type { Result } from '../../../contracts/result.js';
import { type WorkMessage, WorkMessageSchema } from '../../../contracts/work-message.js';
import type { EngineJob } from '../engines/engine.js';
import { describeError } from '../log.js';
import { withRetry } from '../retry.js';
import { gpuHeldSeconds } from './attempt-report.js';
import { buildResult } from './build-result.js';
import { deliverOutputs } from './deliver-outputs.js';
import { startHeartbeat } from './heartbeat.js';
import {
  clock,
  DEFAULT_LEASE_MARGIN_MS,
  type JobOutcome,
  type RequestDeps,
  type RunJobDeps,
} from './job-deps.js';
import { guardedStore, LeaseGuard } from './lease.js';
import { ProgressReporter } from './progress-reporter.js';
import { finish, redelivered, settleFailure } from './settle-job.js';
import { stageInputs } from './stage-inputs.js';

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

export interface JobContext {
  /** Set on the worker's first request: its model provisioning, reported with it. */
  provisionMs?: number;
  /**
   * Called once the engine has returned every frame, before delivery. The GPU is free from when it
   * resolves: the worker loop uses it to let the next request render while this one delivers, and
   * resolves it once the previous request has finished delivering (at most one request on the GPU
   * and one delivering). The request's GPU-held time ends there.
   */
  handOver?: () => Promise<void>;
}

export async function runJob(
  message: ReceivedMessage,
  worker: RunJobDeps,
  shutdown: AbortSignal,
  context: JobContext = {},
): Promise<JobOutcome> {
  // The worker took the message just now: the GPU is this request's from here (gpuHeldSeconds).
  const startedAt = Date.now();
  const work = parseWork(message.body);
  // Left for the work DLQ (after the queue's receive limit), whose handler fails any request it names.
  if (work === undefined) {
    worker.log.error('not a work message; leaving it for the dead-letter queue', { message_id: message.id });
    await worker.queue.release(message.receiptHandle);
    return { kind: 'discarded', reason: 'not a work message' };
  }
  const requestId = work.request_id;
  const keys = requestKeys(requestId);
  // From here on every read and write goes through this request's stores, settling included, and
  // every line of the job names the request, also after the next request has the GPU.
  const deps: RequestDeps = {
    ...worker,
    ...worker.requests.forRequest(requestId),
    log: worker.log.forRequest(requestId),
  };
  const { store, queue, statuses, engine, log } = deps;
  // The engine's lines (ComfyUI's own output) name the request on the GPU: this one, until it hands
  // the GPU over.
  worker.log.setRequestId(requestId);

  const token = randomUUID();
  const current = await statuses.read(requestId);
  if (current === undefined) {
    log.error('work message for a request with no status; leaving it for the dead-letter queue', {
      request_id: requestId,
    });
    await queue.release(message.receiptHandle);
    return { kind: 'discarded', reason: 'request has no status' };
  }
  if (isTerminal(current.status.state)) return redelivered(deps, message, current.status, token);
  const started = await statuses.update(
    requestId,
    start({ workerId: deps.workerId, token, leaseMs: deps.leaseMs, now: clock(deps) }),
  );
  if (started?.status.lease === undefined) {
    const latest = await statuses.read(requestId);
    if (latest !== undefined && isTerminal(latest.status.state))
      return redelivered(deps, message, latest.status, token);
    // Its message is visible twice (SQS may deliver a message more than once): the holder finishes it.
    log.warn('another attempt holds this request; leaving it and its message to that attempt', {
      request_id: requestId,
      holder: latest?.status.lease?.holder,
    });
    return { kind: 'held-elsewhere', requestId };
  }
  const lease = new LeaseGuard(
    requestId,
    started.status.lease.expires_at,
    deps.leaseMarginMs ?? DEFAULT_LEASE_MARGIN_MS,
  );
  const committed = await readCommittedResult(store, requestId);
  if (committed !== undefined) {
    log.info('result.json exists; finishing without rendering again', { request_id: requestId });
    lease.dispose();
    return finish(deps, message, work, committed, token, undefined);
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
    token,
    leaseMs: deps.leaseMs,
    onRenewed: (expiresAt) => lease.renewed(expiresAt),
    onLost: (why) => lease.lost(why),
    log,
    ...(deps.progressIntervalMs === undefined ? {} : { intervalMs: deps.progressIntervalMs }),
  });
  const heartbeat = startHeartbeat({
    queue,
    receiptHandle: message.receiptHandle,
    visibilitySeconds: deps.visibilitySeconds,
    intervalMs: deps.heartbeatIntervalMs,
    stamp: () => progress.heartbeat(),
    onVisibilityLost: (why) => lease.lost(why),
    log,
    requestId,
  });
  const timeout = AbortSignal.timeout(deps.requestTimeoutMs);
  const signal = AbortSignal.any([shutdown, timeout, lease.signal]);
  const outputs = guardedStore(store, lease);
  const jobDir = join(deps.workDir, `${requestId}-${message.receiveCount}-${process.pid}`);
  let job: EngineJob | undefined;
  let result: Result;
  // When the GPU became free for the next request (context.handOver); until then it is this one's.
  let gpuReleasedAt: number | undefined;

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
    // The GPU's part is done. Delivery (uploads, video) needs only the host's cores and network, so
    // the worker may start the next request while this one delivers.
    if (context.handOver !== undefined) {
      await context.handOver();
      gpuReleasedAt = Date.now();
    }

    const t2 = Date.now();
    const { frameKeys, video } = await deliverOutputs({
      store: outputs,
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
    // Every frame is out: the outcome is decided, and what is left (result.json, status, event, the
    // message) is bookkeeping of a few small calls. The worker's time on the request ends here.
    const decidedAt = Date.now();
    timings.total = decidedAt - Date.parse(work.enqueued_at);
    timings.worker = decidedAt - startedAt;
    Object.assign(timings, output.timingsMs ?? {});
    const gpuSeconds = gpuHeldSeconds(startedAt, gpuReleasedAt ?? decidedAt);
    result = buildResult({
      work,
      engine: engine.name,
      workflow: output.workflow,
      frameKeys,
      videoBytes: video?.bytes,
      timingsMs: timings,
      gpuSeconds,
      createdAt: new Date(),
    });
    await withRetry(
      () => outputs.put(keys.result, JSON.stringify(result, null, 2), { contentType: 'application/json' }),
      { signal },
    );
  } catch (error) {
    await progress.close();
    await heartbeat.stop();
    return await settleFailure(deps, message, work, error, {
      shutdown,
      timeout,
      lease: lease.signal,
      token,
      timings,
      startedAt,
      gpuReleasedAt,
      provisionMs: context.provisionMs,
    });
  } finally {
    lease.dispose();
    await progress.close();
    await heartbeat.stop();
    await cleanUp(deps, job, jobDir);
  }
  // result.json is committed: from here a failure must not mark the request failed; the message comes
  // back and the redelivery finishes through the result.json path above.
  const outcome = await finish(deps, message, work, result, token, context.provisionMs);
  if (outcome.kind === 'succeeded') {
    log.info('request succeeded', {
      request_id: requestId,
      engine: engine.name,
      timings_ms: result.timings_ms,
      gpu_seconds: result.gpu_seconds,
    });
  }
  return outcome;
}

async function cleanUp(deps: RequestDeps, job: EngineJob | undefined, jobDir: string): Promise<void> {
  try {
    if (job !== undefined) await deps.engine.cleanup(job);
  } catch (error) {
    deps.log.warn('engine cleanup failed', { request_id: job?.requestId, error: describeError(error) });
  }
  await rm(jobDir, { recursive: true, force: true });
}
