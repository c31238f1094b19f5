/**
 * Keeps a message invisible while its request runs and shows the request is alive: every interval it
 * extends the message's visibility and renews the lease (heartbeat_at) in status.json. A failed
 * extension means the message may be visible to other workers: the run stops (onVisibilityLost).
 */
import type { WorkQueue } from '../../../contracts/ports.js';
import { describeError, type WorkerLog } from '../log.js';

export interface HeartbeatOptions {
  queue: WorkQueue;
  receiptHandle: string;
  /** What each extension sets the visibility timeout to. */
  visibilitySeconds: number;
  intervalMs: number;
  /** Stamps the status (heartbeat_at) and renews the lease. */
  stamp: () => Promise<void>;
  /** The message could not be kept invisible: another worker may receive it. */
  onVisibilityLost: (why: string) => void;
  log: WorkerLog;
  requestId: string;
}

export interface Heartbeat {
  /** Stops beating and waits for a beat in flight. */
  stop(): Promise<void>;
}

export function startHeartbeat(options: HeartbeatOptions): Heartbeat {
  let beating: Promise<void> = Promise.resolve();
  const beat = async (): Promise<void> => {
    const [visibility, status] = await Promise.allSettled([
      options.queue.extendVisibility(options.receiptHandle, options.visibilitySeconds),
      options.stamp(),
    ]);
    if (visibility.status === 'rejected') {
      options.log.warn('message visibility extension failed; stopping the request', {
        request_id: options.requestId,
        error: describeError(visibility.reason),
      });
      options.onVisibilityLost(
        `the visibility extension of its message failed: ${(visibility.reason as Error)?.message}`,
      );
    }
    if (status.status === 'rejected') {
      options.log.warn('status heartbeat failed', {
        request_id: options.requestId,
        error: describeError(status.reason),
      });
    }
  };
  const timer = setInterval(() => {
    beating = beating.then(beat);
  }, options.intervalMs);
  return {
    async stop() {
      clearInterval(timer);
      await beating;
    },
  };
}
