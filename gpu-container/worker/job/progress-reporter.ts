/**
 * Writes progress to status.json at most once per interval (2 s by default). The latest value wins:
 * a report that arrives too early is held and written when the interval has passed. Writes never
 * overlap. Every write renews the attempt's lease; a failed write is logged (the lease guard stops the
 * work if renewals keep failing until the lease lapses), and a declined one means the lease is gone.
 */

import { progress as progressMove } from '../../../contracts/lifecycle/transitions.js';
import type { StatusStore } from '../../../contracts/ports.js';
import { describeError, type WorkerLog } from '../log.js';

export const PROGRESS_INTERVAL_MS = 2_000;

export interface Progress {
  percent: number;
  phase: string;
}

export interface ProgressReporterOptions {
  statuses: StatusStore;
  requestId: string;
  /** The attempt's lease token, and how long each renewal extends the lease. */
  token: string;
  leaseMs: number;
  /** Each write renewed the lease until this time. */
  onRenewed?: (expiresAt: string) => void;
  /** A write was declined: the request is no longer this attempt's. */
  onLost?: (why: string) => void;
  log: WorkerLog;
  intervalMs?: number;
  now?: () => number;
}

export class ProgressReporter {
  private readonly intervalMs: number;
  private readonly now: () => number;
  private lastWriteAt = Number.NEGATIVE_INFINITY;
  private held: Progress | undefined;
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(private readonly options: ProgressReporterOptions) {
    this.intervalMs = options.intervalMs ?? PROGRESS_INTERVAL_MS;
    this.now = options.now ?? Date.now;
  }

  report(progress: Progress): void {
    if (this.closed) return;
    this.held = {
      percent: Math.min(100, Math.max(0, Math.round(progress.percent * 10) / 10)),
      phase: progress.phase,
    };
    if (this.timer !== undefined) return;
    const wait = this.lastWriteAt + this.intervalMs - this.now();
    if (wait <= 0) this.flush();
    else this.timer = setTimeout(() => this.flush(), wait);
  }

  /** A heartbeat rides on the same serialized writes; it carries any held progress along. */
  heartbeat(): Promise<void> {
    if (this.closed) return Promise.resolve();
    return this.enqueue(undefined);
  }

  /** Stops reporting and waits for a write in flight, so no progress write lands after a terminal status. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    await this.writing;
  }

  private flush(): void {
    this.timer = undefined;
    const progress = this.held;
    this.held = undefined;
    if (progress === undefined || this.closed) return;
    this.lastWriteAt = this.now();
    void this.enqueue(progress);
  }

  private enqueue(progress: Progress | undefined): Promise<void> {
    const { statuses, requestId, log, token, leaseMs } = this.options;
    this.writing = this.writing.then(async () => {
      try {
        const record = await statuses.update(
          requestId,
          progressMove({ token, leaseMs, progress, now: new Date() }),
        );
        if (record?.status.lease !== undefined) this.options.onRenewed?.(record.status.lease.expires_at);
        else
          this.options.onLost?.(
            `status is ${record === undefined ? 'no longer' : 'not'} held by this attempt`,
          );
      } catch (error) {
        log.warn('status progress write failed', { request_id: requestId, error: describeError(error) });
      }
    });
    return this.writing;
  }
}
