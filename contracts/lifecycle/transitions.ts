/**
 * The request lifecycle's named moves, pure: each takes the current status and returns the next one,
 * or undefined when the move does not apply (the request is no longer where the caller left it).
 * `StatusStore.update(id, move)` applies one with If-Match and refuses any step TRANSITIONS forbids;
 * the `…Status` builders make the documents `StatusStore.create` writes with If-None-Match.
 *
 *   claim ──> queued ──enqueue──> queued ──start──> running ──succeed──> succeeded
 *               │ takeOver          ▲                 │ progress (renews the lease)
 *               │                   └────requeue──────┤
 *               └──────────────fail────────────────> failed          reject ──> rejected
 *
 * A running request has one holder, the attempt whose lease it carries (`start`). Only the holder
 * renews, requeues, succeeds or fails it; any other path may fail it only once the lease lapsed, or
 * mark it succeeded then if its holder had committed result.json (`succeedCommitted`).
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
  parameters: StatusDocument['parameters'];
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
    parameters: input.parameters,
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
  parameters?: StatusDocument['parameters'];
  /** The ETag of the manifest rejected: a later upload under the id is told from a redelivery by it. */
  manifestEtag?: string | undefined;
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
    ...(input.parameters === undefined ? {} : { parameters: input.parameters }),
    ...(input.manifestEtag === undefined ? {} : { manifest_etag: input.manifestEtag }),
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

/** True while a running request's lease has not lapsed at `now`. */
export function leaseLive(status: StatusDocument, now: Date): boolean {
  return status.lease !== undefined && Date.parse(status.lease.expires_at) > now.getTime();
}

/** Whether `token`'s attempt holds the request: running, and the lease is its own. */
export function holds(status: StatusDocument, token: string): boolean {
  return status.state === 'running' && status.lease?.token === token;
}

function leaseFor(input: {
  workerId: string;
  token: string;
  leaseMs: number;
  now: Date;
}): StatusDocument['lease'] {
  return {
    token: input.token,
    holder: input.workerId,
    expires_at: iso(new Date(input.now.getTime() + input.leaseMs)),
  };
}

function withoutLease(status: StatusDocument): StatusDocument {
  const { lease: _lease, ...rest } = status;
  return rest;
}

/**
 * queued -> running, counting the attempt and taking the lease. A running request whose lease lapsed
 * (its worker died) may be taken over; one whose lease is live belongs to its holder, and another
 * holder of the same message declines here, before rendering anything.
 */
export function start(input: { workerId: string; token: string; leaseMs: number; now: Date }): Move {
  return (current) => {
    if (current.state !== 'queued' && current.state !== 'running') return undefined;
    if (current.state === 'running' && leaseLive(current, input.now)) return undefined;
    return {
      ...current,
      state: 'running',
      attempt: (current.attempt ?? 0) + 1,
      worker_id: input.workerId,
      lease: leaseFor(input),
      heartbeat_at: iso(input.now),
      updated_at: iso(input.now),
      progress: { percent: 0, phase: 'starting' },
    };
  };
}

/** running -> running: the holder renews its lease and stamps a heartbeat, with new progress when given. */
export function progress(input: {
  token: string;
  leaseMs: number;
  now: Date;
  progress?: StatusDocument['progress'];
}): Move {
  return (current) => {
    if (!holds(current, input.token) || current.lease === undefined) return undefined;
    return {
      ...current,
      ...(input.progress === undefined ? {} : { progress: input.progress }),
      lease: { ...current.lease, expires_at: iso(new Date(input.now.getTime() + input.leaseMs)) },
      heartbeat_at: iso(input.now),
      updated_at: iso(input.now),
    };
  };
}

/** running -> queued: the holder lets the request go, so that another attempt picks it up. */
export function requeue(input: { token: string; lastError?: ErrorInfo | undefined; now: Date }): Move {
  return (current) =>
    holds(current, input.token)
      ? {
          ...withoutLease(withoutProgress(current)),
          state: 'queued',
          updated_at: iso(input.now),
          ...(input.lastError === undefined ? {} : { last_error: input.lastError }),
        }
      : undefined;
}

/** running -> succeeded, pointing at result.json: only the holder, whose result it is. */
export function succeed(input: { token: string; resultKey: string; now: Date }): Move {
  return (current) =>
    holds(current, input.token)
      ? {
          ...withoutLease(current),
          state: 'succeeded',
          progress: { percent: 100, phase: 'done' },
          result_key: input.resultKey,
          updated_at: iso(input.now),
        }
      : undefined;
}

/**
 * running -> succeeded by another path than the holder (dead-letter, reconcile): its worker committed
 * result.json, which decides the outcome, and died before marking it; its lease lapsed. Only when
 * `only` (default: always) holds.
 */
export function succeedCommitted(input: {
  resultKey: string;
  now: Date;
  only?: (current: StatusDocument) => boolean;
}): Move {
  return (current) => {
    if (current.state !== 'running' || leaseLive(current, input.now)) return undefined;
    if (input.only !== undefined && !input.only(current)) return undefined;
    return {
      ...withoutLease(current),
      state: 'succeeded',
      progress: { percent: 100, phase: 'done' },
      result_key: input.resultKey,
      updated_at: iso(input.now),
    };
  };
}

/**
 * queued or running -> failed. With `token`, the holder fails its own attempt. Without, another path
 * (dispatch, dead-letter, reconcile) fails a request nobody holds: queued, or running with a lapsed
 * lease; and only when `only` (default: always) holds. `claimedBy` records the delivery that failed
 * it, so its retries know the event is theirs.
 */
export function fail(input: {
  error: ErrorInfo;
  now: Date;
  token?: string;
  only?: (current: StatusDocument) => boolean;
  claimedBy?: string;
}): Move {
  return (current) => {
    if (current.state !== 'queued' && current.state !== 'running') return undefined;
    if (input.token !== undefined ? !holds(current, input.token) : leaseLive(current, input.now))
      return undefined;
    if (input.only !== undefined && !input.only(current)) return undefined;
    return {
      ...withoutLease(withoutProgress(current)),
      state: 'failed',
      error: input.error,
      updated_at: iso(input.now),
      ...(input.claimedBy === undefined ? {} : { claimed_by: input.claimedBy }),
    };
  };
}
