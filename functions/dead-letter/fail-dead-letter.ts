/**
 * A work message that reached the work DLQ: no worker finished it. The request becomes `failed` with
 * WORKER_CRASHED (a worker had taken it) or RETRIES_EXHAUSTED (none got far), and its one `failed`
 * event goes out through the outbox; unless its last worker committed result.json before it died,
 * which decided the outcome: then it becomes `succeeded`, with its succeeded event. A request that is
 * already terminal is only logged.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import { type ErrorInfo, RetriesExhaustedError, WorkerCrashedError } from '../../contracts/errors.js';
import { REQUEST_ID_PATTERN } from '../../contracts/keys.js';
import { completeTerminalEvent, finishCommittedResult } from '../../contracts/lifecycle/complete-event.js';
import { failureEvent } from '../../contracts/lifecycle/completion-event.js';
import { isTerminal, type StatusDocument } from '../../contracts/lifecycle/status.js';
import { publishTerminalEvent } from '../../contracts/lifecycle/terminal-event.js';
import { fail, leaseLive } from '../../contracts/lifecycle/transitions.js';
import type { Manifest } from '../../contracts/manifest.js';
import { METRIC_NAMES } from '../../contracts/metrics.js';
import type { EventPublisher, ObjectStore, StatusStore } from '../../contracts/ports.js';
import { WorkMessageSchema } from '../../contracts/work-message.js';
import { countMetric, countRequestMetric, requestLogger } from '../observability.js';

export interface DeadLetterDeps {
  bucket: string;
  objects: ObjectStore;
  statuses: StatusStore;
  events: EventPublisher;
  logger: Logger;
  metrics: Metrics;
  now: () => Date;
  leaseMs: number;
}

export interface DeadLetter {
  body: string;
  /** The DLQ message id: stable across redeliveries. */
  deliveryId: string;
  /** Unique to this handling of the letter: the owner of any event it publishes. */
  attemptId: string;
}

export type DeadLetterResult = 'failed' | 'succeeded' | 'already-terminal' | 'held' | 'unreadable';

/** A terminal status on the dead-letter path: its event must still go out if it did not. */
const COMPLETION_GRACE_MS = 30_000;

/** The request id and manifest of a work message; from a poison body, at least the id when it has one. */
function readDeadLetter(body: string): { requestId?: string; manifest?: Manifest } {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    return {};
  }
  const parsed = WorkMessageSchema.safeParse(value);
  if (parsed.success) return { requestId: parsed.data.request_id, manifest: parsed.data.manifest };
  const id = (value as { request_id?: unknown } | null)?.request_id;
  return typeof id === 'string' && REQUEST_ID_PATTERN.test(id) ? { requestId: id } : {};
}

/** The request a work dead letter names, if any: for log lines about a letter that could not be handled. */
export function deadLetterRequestId(body: string): string | undefined {
  return readDeadLetter(body).requestId;
}

function deadLetterError(status: StatusDocument): ErrorInfo {
  const attempts = status.attempt ?? 0;
  if (status.state === 'running') {
    return new WorkerCrashedError(
      `a worker took request ${status.request_id} and stopped without finishing it (attempts: ${attempts})`,
      { details: { attempts, worker_id: status.worker_id ?? null } },
    ).toInfo();
  }
  // The last retryable error a worker recorded names the fault behind the exhausted retries.
  const last = status.last_error;
  return new RetriesExhaustedError(
    `request ${status.request_id} went to the dead-letter queue before a worker finished it (attempts: ${attempts})` +
      (last === undefined ? '' : `; last error ${last.code}: ${last.message}`),
    { details: { attempts, ...(last === undefined ? {} : { last_error: last }) } },
  ).toInfo();
}

/**
 * A request that already ended: publishes its event if it never went out (a crash or an SNS outage
 * after the status was marked). One that its writer may still be publishing is left to reconcile.
 */
async function finishTerminal(
  deps: DeadLetterDeps,
  status: StatusDocument,
  letter: DeadLetter,
): Promise<DeadLetterResult> {
  const log = requestLogger(deps.logger, status.request_id);
  const outcome = await completeTerminalEvent(deps, status, {
    owner: letter.attemptId,
    leaseMs: deps.leaseMs,
    graceMs: COMPLETION_GRACE_MS,
  });
  if (outcome === 'published') {
    log.warn('published the terminal event of a request that had ended without it', { state: status.state });
    countMetric(deps.metrics, METRIC_NAMES.eventsCompleted);
  } else {
    log.info('dead letter for a request that already ended', { state: status.state, event: outcome });
  }
  return 'already-terminal';
}

export async function failDeadLetter(deps: DeadLetterDeps, letter: DeadLetter): Promise<DeadLetterResult> {
  const { requestId, manifest } = readDeadLetter(letter.body);
  if (requestId === undefined) {
    deps.logger.error('dead letter names no request; nothing to fail', {
      message_id: letter.deliveryId,
      body: letter.body.slice(0, 512),
    });
    countMetric(deps.metrics, METRIC_NAMES.poisonMessages);
    return 'unreadable';
  }
  const log = requestLogger(deps.logger, requestId);
  if (manifest === undefined) {
    log.warn('dead letter is not a valid work message; failing the request it names', {
      message_id: letter.deliveryId,
    });
    countMetric(deps.metrics, METRIC_NAMES.poisonMessages);
  }
  const before = await deps.statuses.read(requestId);
  if (before === undefined) {
    log.error('dead letter for a request that has no status; nothing to fail', {
      message_id: letter.deliveryId,
    });
    countMetric(deps.metrics, METRIC_NAMES.poisonMessages);
    return 'unreadable';
  }
  const { status: current } = before;
  if (isTerminal(current.state)) return finishTerminal(deps, current, letter);
  // A worker that committed result.json decided the outcome before it died: succeeded, not failed.
  if (current.state === 'running' && !leaseLive(current, deps.now())) {
    const committed = await finishCommittedResult(deps, current, {
      owner: letter.attemptId,
      leaseMs: deps.leaseMs,
    });
    if (committed === 'succeeded') {
      countRequestMetric(deps.metrics, METRIC_NAMES.requestsSucceeded, requestId);
      log.warn('request succeeded from the dead-letter queue: its worker had committed result.json', {
        worker_id: current.worker_id,
      });
      return 'succeeded';
    }
    if (committed === 'moved') return failDeadLetter(deps, letter);
  }
  // The code depends on how far the request got; a request that moved on since is left to the next delivery.
  const error = deadLetterError(current);
  const updated = await deps.statuses.update(
    requestId,
    fail({ error, now: deps.now(), only: (latest) => latest.state === current.state }),
  );
  if (updated === undefined) {
    const latest = (await deps.statuses.read(requestId))?.status;
    if (latest !== undefined && isTerminal(latest.state)) return finishTerminal(deps, latest, letter);
    // A live lease: a worker holds the request and will end it; if it goes silent, reconcile does.
    log.info('dead letter for a request a worker still holds; leaving it to its worker', {
      state: latest?.state,
      worker_id: latest?.worker_id,
    });
    return 'held';
  }
  countMetric(deps.metrics, METRIC_NAMES.requestsFailed, { code: error.code, requestId });
  const event = failureEvent({
    status: 'failed',
    requestId,
    bucket: deps.bucket,
    error,
    clientReference: current.client_reference,
    manifest,
    seed: current.seed,
    parameters: current.parameters,
  });
  const outcome = await publishTerminalEvent(deps, event, {
    owner: letter.attemptId,
    leaseMs: deps.leaseMs,
  });
  if (outcome === 'published')
    log.warn('request failed from the dead-letter queue', { error_code: error.code });
  return 'failed';
}
