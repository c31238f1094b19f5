/**
 * Ports: the small interfaces the domain code depends on. Adapters (S3, SQS, SNS, Batch, ComfyUI, local
 * processes) implement them; nothing in here imports an SDK.
 */
import type { CompletionEvent } from './event.js';
import type { StatusDocument } from './lifecycle/status.js';

export interface ObjectHead {
  size: number;
  etag: string;
  contentType?: string;
}

export interface StoredObject extends ObjectHead {
  body: Uint8Array;
}

export interface PutOptions {
  contentType?: string;
  /** '*' creates the object only if absent (S3 If-None-Match: *). */
  ifNoneMatch?: '*';
  /** Replaces the object only if its ETag still matches (S3 If-Match). */
  ifMatch?: string;
  /** Ends the call at once when it aborts (a worker's shutdown or lost lease). */
  signal?: AbortSignal;
}

export interface ObjectStore {
  /** Returns undefined when the key does not exist. */
  head(key: string): Promise<ObjectHead | undefined>;
  /**
   * Reads a whole object, or bytes [start, end] inclusive. Undefined when the key does not exist. With
   * `ifMatch`, throws PreconditionFailed when the object's ETag differs; with `maxBytes`, refuses (a
   * RangeError) an object larger than that before reading its body.
   */
  get(
    key: string,
    range?: { start: number; end: number },
    options?: { ifMatch?: string; maxBytes?: number; signal?: AbortSignal },
  ): Promise<StoredObject | undefined>;
  /** Throws PreconditionFailed (see `isPreconditionFailed`) when a condition does not hold. */
  put(key: string, body: Uint8Array | string, options?: PutOptions): Promise<{ etag: string }>;
  delete(key: string): Promise<void>;
  list(prefix: string): AsyncIterable<{ key: string; size: number }>;
}

/** Raised by adapters when a conditional write loses. Domain code branches on it. */
export class PreconditionFailed extends Error {
  constructor(readonly key: string) {
    super(`precondition failed for ${key}`);
    this.name = 'PreconditionFailed';
  }
}

export function isPreconditionFailed(error: unknown): error is PreconditionFailed {
  return error instanceof PreconditionFailed;
}

export interface ReceivedMessage {
  id: string;
  receiptHandle: string;
  body: string;
  /** How many times this message has been received (SQS ApproximateReceiveCount). */
  receiveCount: number;
}

export interface WorkQueue {
  send(body: string, options?: { deduplicationId?: string }): Promise<void>;
  /** Long-polls for at most one message. */
  receive(options: { waitSeconds: number; visibilitySeconds: number }): Promise<ReceivedMessage | undefined>;
  extendVisibility(receiptHandle: string, seconds: number): Promise<void>;
  /** Makes the message visible again at once, so another worker can take it. */
  release(receiptHandle: string): Promise<void>;
  delete(receiptHandle: string): Promise<void>;
  /** Visible plus in-flight messages. */
  backlog(): Promise<{ visible: number; inFlight: number }>;
}

export interface EventPublisher {
  publish(event: CompletionEvent): Promise<void>;
}

export interface StatusRecord {
  status: StatusDocument;
  etag: string;
}

export interface StatusStore {
  /** Creates the status only if none exists. Returns false when one already did (a duplicate). */
  create(status: StatusDocument): Promise<boolean>;
  read(requestId: string): Promise<StatusRecord | undefined>;
  /**
   * Applies a transition with optimistic concurrency: reads, checks `allowed transition`, writes with
   * If-Match, retries on a lost race. Returns the new record, or undefined when `update` declined.
   */
  update(
    requestId: string,
    update: (current: StatusDocument) => StatusDocument | undefined,
  ): Promise<StatusRecord | undefined>;
}

/** Worker jobs by where they are: `live` counts every one submitted, waiting, starting or running. */
export interface WorkerCensus {
  live: number;
  /** Waiting for capacity (Batch RUNNABLE). */
  runnable: number;
  /** Holding a GPU (Batch RUNNING). */
  running: number;
}

/** The stores one request runs with. */
export interface RequestStores {
  store: ObjectStore;
  statuses: StatusStore;
}

/**
 * Hands a worker the stores of one request. In the cloud they sign with credentials that IAM confines
 * to that request's prefixes (contracts/request-access-policy.ts), so a worker cannot read or write
 * another request's objects whatever its code does. Locally there is no IAM: every request shares one store.
 */
export interface RequestAccess {
  forRequest(requestId: string): RequestStores;
}

export interface WorkerLauncher {
  /** Counts workers that are submitted, starting or running. */
  liveWorkers(): Promise<number>;
  /** The live workers, with how many wait for capacity and how many run. */
  census(): Promise<WorkerCensus>;
  /** Starts `count` more workers. Returns how many it really started. */
  launch(count: number): Promise<number>;
}

/**
 * How one worker attempt at a request ended. `succeeded` and `failed` only when this attempt moved the
 * request there; `superseded` when another party (reconcile, dead-letter) had already ended it.
 */
export type AttemptOutcome = 'succeeded' | 'failed' | 'retried' | 'released' | 'superseded';

/** What one worker attempt at a request held and produced: the figures its metrics report. */
export interface AttemptReport {
  requestId: string;
  outcome: AttemptOutcome;
  /** GPU-held seconds of this attempt (docs/observability.md). */
  gpuSeconds: number;
  /** `failed` and `retried`: the error's code. */
  errorCode?: string;
  /** `succeeded`: milliseconds per stage; `videoMs` only when a video was made. */
  stagesMs?: { queued: number; inference: number; upload: number; videoMs?: number; total: number };
  /** `succeeded`: frames delivered. */
  frames?: number;
  /** The worker's first request: milliseconds it spent provisioning models before taking it. */
  provisionMs?: number;
}

/** The worker's metrics port: one report per attempt that held the GPU. */
export interface RequestMetrics {
  record(report: AttemptReport): void;
}
