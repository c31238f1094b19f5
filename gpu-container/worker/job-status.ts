/**
 * The status moves a worker makes. Each goes through StatusStore.update, which enforces TRANSITIONS
 * and If-Match; each declines (returns undefined) when the request is no longer where the worker left it,
 * for example when the dead-letter handler failed it meanwhile.
 */
import type { ErrorInfo } from '../../contracts/errors.js';
import type { StatusRecord, StatusStore } from '../../contracts/ports.js';
import type { StatusDocument } from '../../contracts/status.js';

const iso = (now: Date): string => now.toISOString();

function withoutProgress(status: StatusDocument): StatusDocument {
  const { progress: _progress, ...rest } = status;
  return rest;
}

/** queued/running -> running, counting the attempt. Undefined when the request is already terminal. */
export function claimRunning(
  statuses: StatusStore,
  requestId: string,
  workerId: string,
  now: Date,
): Promise<StatusRecord | undefined> {
  return statuses.update(requestId, (current) =>
    current.state === 'queued' || current.state === 'running'
      ? {
          ...current,
          state: 'running',
          attempt: (current.attempt ?? 0) + 1,
          worker_id: workerId,
          heartbeat_at: iso(now),
          updated_at: iso(now),
          progress: { percent: 0, phase: 'starting' },
        }
      : undefined,
  );
}

/** running -> running with new progress and a heartbeat. */
export function recordProgress(
  statuses: StatusStore,
  requestId: string,
  progress: StatusDocument['progress'],
  now: Date,
): Promise<StatusRecord | undefined> {
  return statuses.update(requestId, (current) =>
    current.state === 'running'
      ? {
          ...current,
          ...(progress === undefined ? {} : { progress }),
          heartbeat_at: iso(now),
          updated_at: iso(now),
        }
      : undefined,
  );
}

/** running -> queued: the worker lets the request go so that another attempt picks it up. */
export function requeue(
  statuses: StatusStore,
  requestId: string,
  now: Date,
  lastError?: ErrorInfo,
): Promise<StatusRecord | undefined> {
  return statuses.update(requestId, (current) =>
    current.state === 'running'
      ? {
          ...withoutProgress(current),
          state: 'queued',
          updated_at: iso(now),
          ...(lastError === undefined ? {} : { last_error: lastError }),
        }
      : undefined,
  );
}

/**
 * -> succeeded, through running when a crash left the request queued after its result was written.
 * True when this call made the move (and so owns the completion event).
 */
export async function markSucceeded(
  statuses: StatusStore,
  requestId: string,
  resultKey: string,
  now: Date,
): Promise<boolean> {
  const succeed = (): Promise<StatusRecord | undefined> =>
    statuses.update(requestId, (current) =>
      current.state === 'running'
        ? {
            ...current,
            state: 'succeeded',
            progress: { percent: 100, phase: 'done' },
            result_key: resultKey,
            updated_at: iso(now),
          }
        : undefined,
    );
  if ((await succeed()) !== undefined) return true;
  // Only a request a crash left queued needs the detour through running; the usual path is one write.
  const resumed = await statuses.update(requestId, (current) =>
    current.state === 'queued' ? { ...current, state: 'running', updated_at: iso(now) } : undefined,
  );
  return resumed !== undefined && (await succeed()) !== undefined;
}

/** queued/running -> failed. True when this call made the move (and so owns the completion event). */
export async function markFailed(
  statuses: StatusStore,
  requestId: string,
  error: ErrorInfo,
  now: Date,
): Promise<boolean> {
  const done = await statuses.update(requestId, (current) =>
    current.state === 'queued' || current.state === 'running'
      ? { ...withoutProgress(current), state: 'failed', error, updated_at: iso(now) }
      : undefined,
  );
  return done !== undefined;
}
