/**
 * What a job runs with and how it can end: shared by run-job.ts, which runs it, and settle-job.ts,
 * which ends it, so that neither imports the other's internals.
 */
import type { ErrorInfo } from '../../../contracts/errors.js';
import type {
  EventPublisher,
  RequestAccess,
  RequestMetrics,
  RequestStores,
  WorkQueue,
} from '../../../contracts/ports.js';
import type { FrameEngine } from '../engines/engine.js';
import type { WorkerLog } from '../log.js';

export interface RunJobDeps {
  /** The request bucket, named in completion events. */
  bucket: string;
  /** Each request's stores; in the cloud IAM confines them to that request's prefixes. */
  requests: RequestAccess;
  queue: WorkQueue;
  events: EventPublisher;
  engine: FrameEngine;
  log: WorkerLog;
  /** One report per attempt that held the GPU. */
  metrics: RequestMetrics;
  ffmpegPath: string;
  workerId: string;
  /** Parent of the per-request work dirs. */
  workDir: string;
  requestTimeoutMs: number;
  /** Visibility each heartbeat extends the message to. */
  visibilitySeconds: number;
  heartbeatIntervalMs: number;
  /** How long a start or a renewal holds the request; heartbeats renew it several times per lease. */
  leaseMs: number;
  /** The worker stops this long before its lease lapses, to absorb clock skew with other paths. */
  leaseMarginMs?: number;
  /** The clock of lease moves; tests move it. */
  now?: () => Date;
  /**
   * How long this worker's claim on a terminal event holds off other paths: longer than its SNS publish
   * can take with retries and timeouts (adapters/aws/call-timeouts.ts). Default max(2 x leaseMs, 60 s).
   */
  outboxLeaseMs?: number;
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
  /** Another attempt holds the request (a second holder of its message): left alone, message kept. */
  | { kind: 'held-elsewhere'; requestId: string }
  /** This attempt lost its lease while running: it stopped, wrote nothing more, kept nothing. */
  | { kind: 'lost'; requestId: string }
  /** Not a work message, or one for a request with no status: left for the work DLQ. */
  | { kind: 'discarded'; reason: string };

/** The worker stops this long before its lease lapses unless RunJobDeps.leaseMarginMs says otherwise. */
export const DEFAULT_LEASE_MARGIN_MS = 10_000;

/** How long a worker's terminal-event claim holds off other paths (RunJobDeps.outboxLeaseMs). */
export function outboxLease(deps: Pick<RunJobDeps, 'outboxLeaseMs' | 'leaseMs'>): number {
  return deps.outboxLeaseMs ?? Math.max(2 * deps.leaseMs, 60_000);
}

/** The time of the deps' clock (the real one unless a test set it). */
export function clock(deps: Pick<RunJobDeps, 'now'>): Date {
  return deps.now?.() ?? new Date();
}
