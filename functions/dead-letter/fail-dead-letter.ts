/**
 * A work message that reached the work DLQ: no worker finished it. The request becomes `failed` with
 * WORKER_CRASHED (a worker had taken it) or RETRIES_EXHAUSTED (none got far), and its one `failed`
 * event goes out through the outbox. A request that is already terminal is only logged.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import { type ErrorInfo, RetriesExhaustedError, WorkerCrashedError } from '../../contracts/errors.js';
import { REQUEST_ID_PATTERN } from '../../contracts/keys.js';
import type { Manifest } from '../../contracts/manifest.js';
import { METRIC_NAMES } from '../../contracts/metrics.js';
import type { EventPublisher, ObjectStore, StatusStore } from '../../contracts/ports.js';
import { isTerminal, type StatusDocument } from '../../contracts/status.js';
import { publishTerminalEvent } from '../../contracts/terminal-event.js';
import { WorkMessageSchema } from '../../contracts/work-message.js';
import { failureEvent } from '../failure-event.js';
import { countMetric, requestLogger } from '../observability.js';

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
  /** The DLQ message id: stable across redeliveries, so a retry may finish an interrupted publish. */
  deliveryId: string;
}

export type DeadLetterResult = 'failed' | 'already-terminal' | 'unreadable';

const DEAD_LETTER_CODES: readonly string[] = ['WORKER_CRASHED', 'RETRIES_EXHAUSTED'];

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
  if ((await deps.statuses.read(requestId)) === undefined) {
    log.error('dead letter for a request that has no status; nothing to fail', {
      message_id: letter.deliveryId,
    });
    countMetric(deps.metrics, METRIC_NAMES.poisonMessages);
    return 'unreadable';
  }
  let error: ErrorInfo | undefined;
  const updated = await deps.statuses.update(requestId, (current) => {
    if (isTerminal(current.state)) return undefined;
    error = deadLetterError(current);
    return { ...current, state: 'failed', error, updated_at: deps.now().toISOString() };
  });
  const status = updated?.status ?? (await deps.statuses.read(requestId))?.status;
  if (status === undefined) return 'unreadable';
  const ours = status.state === 'failed' && DEAD_LETTER_CODES.includes(status.error?.code ?? '');
  if (updated === undefined && !ours) {
    log.info('dead letter for a request that already ended; nothing to do', { state: status.state });
    return 'already-terminal';
  }
  // Either we just failed it, or an earlier delivery of this letter did and may not have published.
  const info = error ?? status.error;
  if (info === undefined) return 'already-terminal';
  const event = failureEvent({
    status: 'failed',
    requestId,
    bucket: deps.bucket,
    error: info,
    clientReference: status.client_reference,
    manifest,
    seed: status.seed,
  });
  const outcome = await publishTerminalEvent(deps, event, {
    owner: letter.deliveryId,
    leaseMs: deps.leaseMs,
  });
  if (outcome === 'published') {
    log.warn('request failed from the dead-letter queue', { error_code: info.code });
    countMetric(deps.metrics, METRIC_NAMES.requestsFailed, { code: info.code, requestId });
  }
  return 'failed';
}
