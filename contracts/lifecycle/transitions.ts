/**
 * The request lifecycle's named moves, pure: each takes the current status and returns the next one,
 * or undefined when the move does not apply (the request is no longer where the caller left it).
 * `StatusStore.update(id, move)` applies one with If-Match and refuses any step TRANSITIONS forbids;
 * the `…Status` builders make the documents `StatusStore.create` writes with If-None-Match.
 *
 *   claim ──> queued ──enqueue──> queued ──start──> running ──succeed──> succeeded
 *               │ takeOver          ▲                 │ progress
 *               │                   └────requeue──────┤
 *               └──────────────fail────────────────> failed          reject ──> rejected
 */
import type { ErrorInfo } from '../errors.js';
import type { StatusDocument } from './status.js';

export type Move = (current: StatusDocument) => StatusDocument | undefined;

const iso = (now: Date): string => now.toISOString();

function withoutProgress(status: StatusDocument): StatusDocument {
  const { progress: _progress, ...rest } = status;
  return rest;
}

/** A claim whose work message has not gone out yet. */
export function isUnsent(status: StatusDocument): boolean {
  return status.state === 'queued' && status.enqueued_at === undefined;
}

/** When a running request last showed it is alive (ms since the epoch). */
export function lastSignOfLife(status: StatusDocument): number {
  return Date.parse(status.heartbeat_at ?? status.updated_at);
}

/** The claim: a new request's `queued` status, owned by the intake delivery that made it. */
export function claimedStatus(input: {
  requestId: string;
  deliveryId: string;
  seed: number;
  manifestEtag: string;
  clientReference?: string | undefined;
  now: Date;
}): StatusDocument {
  return {
    version: 1,
    request_id: input.requestId,
    state: 'queued',
    created_at: iso(input.now),
    updated_at: iso(input.now),
    seed: input.seed,
    manifest_etag: input.manifestEtag,
    claimed_by: input.deliveryId,
    ...(input.clientReference === undefined ? {} : { client_reference: input.clientReference }),
  };
}

/** A request refused at the door: `rejected`, claimed like any request so that it ends once. */
export function rejectedStatus(input: {
  requestId: string;
  deliveryId: string;
  error: ErrorInfo;
  clientReference?: string | undefined;
  now: Date;
}): StatusDocument {
  return {
    version: 1,
    request_id: input.requestId,
    state: 'rejected',
    created_at: iso(input.now),
    updated_at: iso(input.now),
    claimed_by: input.deliveryId,
    error: input.error,
    ...(input.clientReference === undefined ? {} : { client_reference: input.clientReference }),
  };
}

/** A request that failed before anyone claimed it (the intake dead-letter queue). */
export function failedStatus(input: {
  requestId: string;
  deliveryId: string;
  error: ErrorInfo;
  now: Date;
}): StatusDocument {
  return {
    version: 1,
    request_id: input.requestId,
    state: 'failed',
    created_at: iso(input.now),
    updated_at: iso(input.now),
    claimed_by: input.deliveryId,
    error: input.error,
  };
}

/**
 * Takes over a claim whose work message never went out: the claim's own delivery may, and anyone
 * once the claim is older than the lease.
 */
export function takeOver(input: { deliveryId: string; leaseMs: number; now: Date }): Move {
  return (current) => {
    if (!isUnsent(current)) return undefined;
    const stale = input.now.getTime() - Date.parse(current.updated_at) > input.leaseMs;
    if (current.claimed_by !== input.deliveryId && !stale) return undefined;
    return { ...current, claimed_by: input.deliveryId, updated_at: iso(input.now) };
  };
}

/** Records that the work message went out. A fast worker may already run it: the stamp still goes on. */
export function enqueue(input: { enqueuedAt: string; now: Date }): Move {
  return (current) =>
    (current.state === 'queued' || current.state === 'running') && current.enqueued_at === undefined
      ? { ...current, enqueued_at: input.enqueuedAt, updated_at: iso(input.now) }
      : undefined;
}

/** queued/running -> running, counting the attempt. */
export function start(input: { workerId: string; now: Date }): Move {
  return (current) =>
    current.state === 'queued' || current.state === 'running'
      ? {
          ...current,
          state: 'running',
          attempt: (current.attempt ?? 0) + 1,
          worker_id: input.workerId,
          heartbeat_at: iso(input.now),
          updated_at: iso(input.now),
          progress: { percent: 0, phase: 'starting' },
        }
      : undefined;
}

/** running -> running with new progress (when given) and a heartbeat. */
export function progress(input: { progress?: StatusDocument['progress']; now: Date }): Move {
  return (current) =>
    current.state === 'running'
      ? {
          ...current,
          ...(input.progress === undefined ? {} : { progress: input.progress }),
          heartbeat_at: iso(input.now),
          updated_at: iso(input.now),
        }
      : undefined;
}

/** running -> queued: the worker lets the request go, so that another attempt picks it up. */
export function requeue(input: { lastError?: ErrorInfo | undefined; now: Date }): Move {
  return (current) =>
    current.state === 'running'
      ? {
          ...withoutProgress(current),
          state: 'queued',
          updated_at: iso(input.now),
          ...(input.lastError === undefined ? {} : { last_error: input.lastError }),
        }
      : undefined;
}

/** queued -> running without a new attempt: a crash left the request queued after its result was written. */
export function resume(input: { now: Date }): Move {
  return (current) =>
    current.state === 'queued' ? { ...current, state: 'running', updated_at: iso(input.now) } : undefined;
}

/** running -> succeeded, pointing at result.json. */
export function succeed(input: { resultKey: string; now: Date }): Move {
  return (current) =>
    current.state === 'running'
      ? {
          ...current,
          state: 'succeeded',
          progress: { percent: 100, phase: 'done' },
          result_key: input.resultKey,
          updated_at: iso(input.now),
        }
      : undefined;
}

/**
 * Any state that is not terminal -> failed, when `only` (default: always) holds for the current
 * status. `claimedBy` records the delivery that failed it, so its retries know the event is theirs.
 */
export function fail(input: {
  error: ErrorInfo;
  now: Date;
  only?: (current: StatusDocument) => boolean;
  claimedBy?: string;
}): Move {
  return (current) => {
    if (current.state !== 'queued' && current.state !== 'running') return undefined;
    if (input.only !== undefined && !input.only(current)) return undefined;
    return {
      ...withoutProgress(current),
      state: 'failed',
      error: input.error,
      updated_at: iso(input.now),
      ...(input.claimedBy === undefined ? {} : { claimed_by: input.claimedBy }),
    };
  };
}
