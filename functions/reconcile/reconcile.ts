/**
 * Self-healing, once a minute: start workers when work waits and too few are live; fail requests whose
 * worker went silent or whose work message is gone; and finish every terminal event that did not go out.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import { type ErrorInfo, HeartbeatLostError, WorkLostError } from '../../contracts/errors.js';
import { parseRequestsKey, REQUESTS_PREFIX } from '../../contracts/keys.js';
import { completeTerminalEvent, finishCommittedResult } from '../../contracts/lifecycle/complete-event.js';
import { failureEvent } from '../../contracts/lifecycle/completion-event.js';
import { isTerminal, type StatusDocument } from '../../contracts/lifecycle/status.js';
import { publishTerminalEvent } from '../../contracts/lifecycle/terminal-event.js';
import { fail, lastSignOfLife, leaseLive } from '../../contracts/lifecycle/transitions.js';
import { METRIC_NAMES } from '../../contracts/metrics.js';
import type {
  EventPublisher,
  ObjectStore,
  StatusStore,
  WorkerCensus,
  WorkerLauncher,
  WorkQueue,
} from '../../contracts/ports.js';
import { type ScaleDecision, scaleWorkers } from '../dispatch/scale-workers.js';
import { addMetric, countMetric, countRequestMetric, requestLogger } from '../observability.js';

export interface ReconcileDeps {
  bucket: string;
  objects: ObjectStore;
  statuses: StatusStore;
  events: EventPublisher;
  workQueue: WorkQueue;
  launcher: WorkerLauncher;
  maxWorkers: number;
  /** A running request whose last heartbeat is older than this has lost its worker. */
  requestTimeoutMs: number;
  /** The work queue's retention: a request still queued this long after its message went out has lost it. */
  workMessageRetentionMs: number;
  /** Most status documents one run reads: the scan is O(requests), so it is capped. */
  maxStatusesScanned: number;
  leaseMs: number;
  /** Names of worker jobs start with this; other jobs on the queue are not ours to report. */
  workerJobPrefix: string;
  logger: Logger;
  metrics: Metrics;
  now: () => Date;
}

export interface ReconcileReport {
  census: WorkerCensus;
  scaling: ScaleDecision;
  /** Status documents read (requests whose event already went out are skipped from the listing). */
  scanned: number;
  capped: boolean;
  heartbeatsLost: string[];
  /** Requests failed because their work message expired or was dropped. */
  workLost: string[];
  /** Terminal requests whose unpublished event this run published. */
  eventsCompleted: string[];
}

/** Where a capped status scan stopped; kept by the handler between warm invocations. */
export interface ScanCursor {
  /** The last request id a capped run read; the next run goes on after it (ids list in key order). */
  after?: string | undefined;
}

/**
 * One owner for every run, so the next run finishes a publication an earlier one left; runs never
 * overlap (a one-minute schedule, and reserved concurrency 1 on the function).
 */
const RECONCILE_OWNER = 'reconcile';
/**
 * A terminal status younger than this, with no outbox yet, is left to its writer, which publishes
 * right after marking it; past it, a missing event is a lost one. Well under the schedule's minute.
 */
const COMPLETION_GRACE_MS = 30_000;

type Finding = 'heartbeat-lost' | 'work-lost' | 'event-completed' | undefined;

async function failAndPublish(
  deps: ReconcileDeps,
  status: StatusDocument,
  error: ErrorInfo,
  only: (s: StatusDocument) => boolean,
) {
  const updated = await deps.statuses.update(status.request_id, fail({ error, now: deps.now(), only }));
  if (updated === undefined) return false;
  countMetric(deps.metrics, METRIC_NAMES.requestsFailed, { code: error.code, requestId: status.request_id });
  const event = failureEvent({
    status: 'failed',
    requestId: status.request_id,
    bucket: deps.bucket,
    error,
    clientReference: status.client_reference,
    parameters: status.parameters,
  });
  await publishTerminalEvent(deps, event, { owner: RECONCILE_OWNER, leaseMs: deps.leaseMs });
  return true;
}

/** A running request whose worker stopped beating (and whose lease lapsed): HEARTBEAT_LOST. */
async function failSilentRequest(deps: ReconcileDeps, status: StatusDocument): Promise<boolean> {
  const requestId = status.request_id;
  const silentMs = deps.now().getTime() - lastSignOfLife(status);
  const error = new HeartbeatLostError(
    `the worker of request ${requestId} stopped sending heartbeats ${Math.round(silentMs / 1000)} s ago; the limit is ${deps.requestTimeoutMs / 1000} s`,
    { details: { worker_id: status.worker_id ?? null, last_heartbeat: status.heartbeat_at ?? null } },
  ).toInfo();
  // A worker that committed result.json decided the outcome before it went silent: succeeded.
  const committed = await finishCommittedResult(deps, status, {
    owner: RECONCILE_OWNER,
    leaseMs: deps.leaseMs,
  });
  if (committed === 'succeeded') {
    countRequestMetric(deps.metrics, METRIC_NAMES.requestsSucceeded, requestId);
    requestLogger(deps.logger, requestId).warn(
      'request succeeded: its silent worker had committed result.json',
      {
        worker_id: status.worker_id,
      },
    );
    return true;
  }
  if (committed === 'moved') return false;
  // Only if the worker is still silent: one that woke up meanwhile wins.
  const stillSilent = (current: StatusDocument) =>
    current.state === 'running' && lastSignOfLife(current) === lastSignOfLife(status);
  const failed = await failAndPublish(deps, status, error, stillSilent);
  if (failed)
    requestLogger(deps.logger, requestId).warn('request failed: heartbeat lost', {
      worker_id: status.worker_id,
    });
  return failed;
}

/** A queued request whose work message went out longer ago than the queue keeps messages: WORK_LOST. */
async function failLostWork(deps: ReconcileDeps, status: StatusDocument): Promise<boolean> {
  const requestId = status.request_id;
  const error = new WorkLostError(
    `request ${requestId} is still queued ${Math.round((deps.now().getTime() - Date.parse(status.enqueued_at ?? status.updated_at)) / 3_600_000)} h after its work message went out; the work queue keeps messages ${Math.round(deps.workMessageRetentionMs / 3_600_000)} h, so no worker will take it`,
    { details: { enqueued_at: status.enqueued_at ?? null, attempts: status.attempt ?? 0 } },
  ).toInfo();
  const unchanged = (current: StatusDocument) =>
    current.state === 'queued' && current.enqueued_at === status.enqueued_at;
  const failed = await failAndPublish(deps, status, error, unchanged);
  if (failed)
    requestLogger(deps.logger, requestId).warn('request failed: its work message is gone', {
      enqueued_at: status.enqueued_at,
    });
  return failed;
}

/** What one request needs, if anything. */
async function checkRequest(deps: ReconcileDeps, requestId: string): Promise<Finding> {
  const record = await deps.statuses.read(requestId);
  if (record === undefined) return undefined;
  const { status } = record;
  const now = deps.now();
  if (isTerminal(status.state)) {
    const outcome = await completeTerminalEvent(deps, status, {
      owner: RECONCILE_OWNER,
      leaseMs: deps.leaseMs,
      graceMs: COMPLETION_GRACE_MS,
    });
    if (outcome === 'missing-result') {
      requestLogger(deps.logger, requestId).error(
        'succeeded request without a readable result.json; its event cannot be built',
      );
      countMetric(deps.metrics, METRIC_NAMES.reconcileErrors);
    }
    if (outcome !== 'published') return undefined;
    requestLogger(deps.logger, requestId).warn('published a terminal event that had not gone out', {
      state: status.state,
    });
    countMetric(deps.metrics, METRIC_NAMES.eventsCompleted);
    return 'event-completed';
  }
  if (status.state === 'running') {
    const silent = now.getTime() - lastSignOfLife(status) > deps.requestTimeoutMs && !leaseLive(status, now);
    return silent && (await failSilentRequest(deps, status)) ? 'heartbeat-lost' : undefined;
  }
  const sentAt = status.enqueued_at === undefined ? undefined : Date.parse(status.enqueued_at);
  const expired = sentAt !== undefined && now.getTime() - sentAt > deps.workMessageRetentionMs;
  return expired && (await failLostWork(deps, status)) ? 'work-lost' : undefined;
}

/** The requests under requests/ whose event has not gone out yet (the rest need nothing). */
async function unfinishedRequests(objects: ObjectStore): Promise<string[]> {
  const withStatus = new Set<string>();
  const published = new Set<string>();
  for await (const object of objects.list(REQUESTS_PREFIX)) {
    const parsed = parseRequestsKey(object.key);
    if (parsed?.kind === 'status') withStatus.add(parsed.requestId);
    if (parsed?.kind === 'published') published.add(parsed.requestId);
  }
  return [...withStatus].filter((id) => !published.has(id));
}

/**
 * Lists requests/ and reads the status of every request whose event has not gone out, at most
 * `maxStatusesScanned` per run: fails silent or stranded ones, finishes unpublished terminal events.
 * A capped run leaves `cursor` where it stopped, so the next run (warm) goes on from there.
 */
export async function scanRequests(
  deps: ReconcileDeps,
  cursor: ScanCursor = {},
): Promise<Omit<ReconcileReport, 'scaling' | 'census'>> {
  const report: Omit<ReconcileReport, 'scaling' | 'census'> = {
    scanned: 0,
    capped: false,
    heartbeatsLost: [],
    workLost: [],
    eventsCompleted: [],
  };
  const ids = await unfinishedRequests(deps.objects);
  const { after } = cursor;
  const rest = after === undefined ? ids : ids.filter((id) => id > after);
  const batch = rest.slice(0, deps.maxStatusesScanned);
  for (const requestId of batch) {
    report.scanned += 1;
    try {
      const finding = await checkRequest(deps, requestId);
      if (finding === 'heartbeat-lost') report.heartbeatsLost.push(requestId);
      if (finding === 'work-lost') report.workLost.push(requestId);
      if (finding === 'event-completed') report.eventsCompleted.push(requestId);
    } catch (error) {
      // One request must not stop the scan; the next run looks at it again.
      requestLogger(deps.logger, requestId).error('reconcile could not check the request', { error });
      countMetric(deps.metrics, METRIC_NAMES.reconcileErrors);
    }
  }
  if (batch.length < rest.length) {
    cursor.after = batch.at(-1);
    report.capped = true;
    deps.logger.warn('status scan capped; the next run goes on from here', {
      cap: deps.maxStatusesScanned,
      next_after: cursor.after,
    });
    countMetric(deps.metrics, METRIC_NAMES.reconcileScanCapped);
  } else {
    cursor.after = undefined;
  }
  return report;
}

/**
 * The scheduled run. Its worker gauges come first and every run, with or without work waiting: the
 * WorkersStuckRunnable alarm reads them minute by minute.
 */
export async function reconcile(deps: ReconcileDeps, cursor?: ScanCursor): Promise<ReconcileReport> {
  const census = await deps.launcher.census();
  addMetric(deps.metrics, METRIC_NAMES.workersRunning, census.running);
  addMetric(deps.metrics, METRIC_NAMES.workersRunnable, census.runnable);
  const scaling = await scaleWorkers(deps, { live: census.live });
  if (scaling.launched > 0) {
    deps.logger.info('reconcile launched workers', { ...scaling });
    addMetric(deps.metrics, METRIC_NAMES.workersLaunched, scaling.launched);
  }
  const scan = await scanRequests(deps, cursor);
  return { census, scaling, ...scan };
}
