/**
 * The worker's main loop: long-poll the work queue, render one request at a time while the one before
 * it delivers its outputs, exit 0 after an idle timeout (scale to zero), and on shutdown stop taking
 * work and hand the requests in flight back.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { TransientError } from '../../../contracts/errors.js';
import type { ReceivedMessage } from '../../../contracts/ports.js';
import { describeError, type WorkerLog } from '../log.js';
import type { JobOutcome, RunJobDeps } from './job-deps.js';
import { runJob } from './run-job.js';

/** SQS caps a long poll at 20 s. */
const MAX_WAIT_SECONDS = 20;
const MAX_RECEIVE_FAILURES = 10;

export interface WorkerLoopOptions {
  /** Exit after this long without a message (0: after the first request). */
  idleTimeoutMs: number;
  /**
   * A fresh worker was started because there was a backlog, so it waits at least this long for its
   * first message even when the idle timeout is shorter.
   */
  startupGraceMs?: number;
  /**
   * Longest single long poll (SQS allows 20 s). On shutdown the loop waits for a poll in flight to
   * return, so that a message it brings is handed straight back; this bounds that wait.
   */
  pollSeconds?: number;
  /** Time spent provisioning models before the loop, reported on the first request's event. */
  provisionMs?: number;
  onOutcome?: (outcome: JobOutcome) => void;
  /**
   * Let the next request render while the previous one delivers (OVERLAP_DELIVERY). Off (the
   * default), the worker delivers each request before it takes the next.
   */
  overlapDelivery?: boolean;
}

export interface LoopExit {
  reason: 'idle' | 'shutdown';
  handled: number;
}

/** Resolves with the message, or with undefined as soon as `signal` aborts. */
function untilAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T | undefined> {
  if (signal.aborted) return Promise.resolve(undefined);
  return new Promise((resolve, reject) => {
    const onAbort = (): void => resolve(undefined);
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

export async function runWorkerLoop(
  deps: RunJobDeps,
  options: WorkerLoopOptions,
  shutdown: AbortSignal,
): Promise<LoopExit> {
  const { queue, log } = deps;
  let handled = 0;
  let receiveFailures = 0;
  let idleSince = Date.now();
  const pollSeconds = Math.min(MAX_WAIT_SECONDS, Math.max(1, options.pollSeconds ?? MAX_WAIT_SECONDS));
  let idleLimitMs = Math.max(options.idleTimeoutMs, options.startupGraceMs ?? MAX_WAIT_SECONDS * 1000);
  // The previous request, still delivering its outputs while the next one renders; settled when none is.
  let delivering: Promise<void> = Promise.resolve();

  while (!shutdown.aborted) {
    const remainingMs = idleSince + idleLimitMs - Date.now();
    const waitSeconds = Math.min(pollSeconds, Math.max(1, Math.ceil(remainingMs / 1000)));
    const receiving = queue.receive({ waitSeconds, visibilitySeconds: deps.visibilitySeconds });
    let message: ReceivedMessage | undefined;
    try {
      message = await untilAborted(receiving, shutdown);
      receiveFailures = 0;
    } catch (error) {
      receiveFailures += 1;
      log.warn('receive from the work queue failed', {
        attempt: receiveFailures,
        error: describeError(error),
      });
      if (receiveFailures >= MAX_RECEIVE_FAILURES) {
        await delivering;
        throw new TransientError(`work queue unreachable after ${receiveFailures} attempts`, {
          cause: error,
        });
      }
      await sleep(Math.min(5_000, 250 * 2 ** receiveFailures));
      continue;
    }
    if (shutdown.aborted) {
      // A poll in flight may still deliver a message: hand it straight back.
      const late = await receiving.catch(() => undefined);
      if (late !== undefined) {
        // Taken and handed back at once: the message counts one more receive, so the log says so.
        const lateLog = logForMessage(log, late.body);
        lateLog.info('request taken', { message_id: late.id, receive_count: late.receiveCount });
        await queue.release(late.receiptHandle);
        lateLog.info('request left', { message_id: late.id, outcome: 'released' });
      }
      break;
    }
    if (message === undefined) {
      if (Date.now() >= idleSince + idleLimitMs) {
        await delivering;
        return { reason: 'idle', handled };
      }
      continue;
    }
    const job = startJob(message, deps, shutdown, {
      overlap: options.overlapDelivery ?? false,
      previous: delivering,
      ...(handled === 0 ? { provisionMs: options.provisionMs ?? 0 } : {}),
      ...(options.onOutcome === undefined ? {} : { onOutcome: options.onOutcome }),
    });
    // The GPU is free once the job hands it over or ends, whichever comes first.
    await Promise.race([job.gpuFree, job.done]);
    log.setRequestId(undefined);
    // A job that ended without handing over (a failure, a shutdown) may have ended before the one
    // still delivering: both must settle before the worker exits.
    const previous = delivering;
    delivering = Promise.all([previous, job.done]).then(() => undefined);
    handled += 1;
    idleSince = Date.now();
    idleLimitMs = options.idleTimeoutMs;
    if (idleLimitMs === 0 && !shutdown.aborted) {
      await delivering;
      return { reason: 'idle', handled };
    }
  }
  await delivering;
  return { reason: 'shutdown', handled };
}

interface StartedJob {
  /** Resolves when the job hands the GPU over to the next request (it may never: see `done`). */
  gpuFree: Promise<void>;
  /** Settles when the job has ended, whatever its outcome; never rejects. */
  done: Promise<void>;
}

/**
 * Starts one request. With `overlap`, it hands the GPU over once its frames are out of the engine and
 * the previous request has finished delivering, so the worker holds at most one request on the GPU
 * and one delivering. Without it, the GPU is handed over when the job ends.
 */
function startJob(
  message: ReceivedMessage,
  deps: RunJobDeps,
  shutdown: AbortSignal,
  options: {
    overlap: boolean;
    previous: Promise<void>;
    provisionMs?: number;
    onOutcome?: (outcome: JobOutcome) => void;
  },
): StartedJob {
  const { previous } = options;
  let release = (): void => {};
  const gpuFree = new Promise<void>((resolve) => {
    release = resolve;
  });
  const handOver = async (): Promise<void> => {
    await previous;
    release();
  };
  // Every take and every end is a line, so that a request's story (docs/observability.md) and a
  // crash's victims (the chaos drill) read straight from the log.
  const log = logForMessage(deps.log, message.body);
  log.info('request taken', { message_id: message.id, receive_count: message.receiveCount });
  const done = (async () => {
    try {
      const outcome = await runJob(message, deps, shutdown, {
        ...(options.provisionMs === undefined ? {} : { provisionMs: options.provisionMs }),
        ...(options.overlap ? { handOver } : {}),
      });
      log.info('request left', { message_id: message.id, outcome: outcome.kind });
      options.onOutcome?.(outcome);
    } catch (error) {
      // Status or queue unreachable mid-request: the message returns after its visibility timeout.
      log.error('request could not be settled; its message will come back', {
        message_id: message.id,
        error: describeError(error),
      });
      if (shutdown.aborted) await deps.queue.release(message.receiptHandle).catch(() => undefined);
      log.info('request left', { message_id: message.id, outcome: 'unsettled' });
    }
  })();
  return { gpuFree, done };
}

/** A log naming the request a work message names, if it names one (a poison body may not). */
function logForMessage(log: WorkerLog, body: string): WorkerLog {
  try {
    const id = (JSON.parse(body) as { request_id?: unknown }).request_id;
    return typeof id === 'string' ? log.forRequest(id) : log;
  } catch {
    return log;
  }
}
