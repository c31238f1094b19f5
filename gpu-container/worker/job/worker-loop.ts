/**
 * The worker's main loop: long-poll the work queue, run one request at a time, exit 0 after an idle
 * timeout (scale to zero), and on shutdown stop taking work and hand the in-flight request back.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { TransientError } from '../../../contracts/errors.js';
import type { ReceivedMessage } from '../../../contracts/ports.js';
import { describeError } from '../log.js';
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
      if (late !== undefined) await queue.release(late.receiptHandle);
      break;
    }
    if (message === undefined) {
      if (Date.now() >= idleSince + idleLimitMs) return { reason: 'idle', handled };
      continue;
    }
    try {
      const outcome = await runJob(
        message,
        deps,
        shutdown,
        handled === 0 ? { provisionMs: options.provisionMs ?? 0 } : {},
      );
      options.onOutcome?.(outcome);
    } catch (error) {
      // Status or queue unreachable mid-request: the message returns after its visibility timeout.
      log.error('request could not be settled; its message will come back', { error: describeError(error) });
      if (shutdown.aborted) await queue.release(message.receiptHandle).catch(() => undefined);
    } finally {
      log.setRequestId(undefined);
    }
    handled += 1;
    idleSince = Date.now();
    idleLimitMs = options.idleTimeoutMs;
    if (idleLimitMs === 0 && !shutdown.aborted) return { reason: 'idle', handled };
  }
  return { reason: 'shutdown', handled };
}
