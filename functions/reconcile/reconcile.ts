/**
 * Self-healing, once a minute: start workers when work waits and too few are live, and fail requests
 * whose worker went silent.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import { type ErrorInfo, HeartbeatLostError } from '../../contracts/errors.js';
import { METRIC_NAMES } from '../../contracts/metrics.js';
import type {
  EventPublisher,
  ObjectStore,
  StatusStore,
  WorkerCensus,
  WorkerLauncher,
  WorkQueue,
} from '../../contracts/ports.js';
import type { StatusDocument } from '../../contracts/status.js';
import { publishTerminalEvent } from '../../contracts/terminal-event.js';
import { type ScaleDecision, scaleWorkers } from '../dispatch/scale-workers.js';
import { failureEvent } from '../failure-event.js';
import { addMetric, countMetric, requestLogger } from '../observability.js';

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
  scanned: number;
  capped: boolean;
  heartbeatsLost: string[];
}

/** Where a capped status scan stopped; kept by the handler between warm invocations. */
export interface ScanCursor {
  skip: number;
}

const STATUS_SUFFIX = '/status.json';
/**
 * One owner for every run, so the next run finishes a publication an earlier one left; runs never
 * overlap (a one-minute schedule, and reserved concurrency 1 on the function).
 */
const RECONCILE_OWNER = 'reconcile';

function lastSignOfLife(status: StatusDocument): number {
  return Date.parse(status.heartbeat_at ?? status.updated_at);
}

async function publishHeartbeatLost(
  deps: ReconcileDeps,
  status: StatusDocument,
  error: ErrorInfo,
): Promise<void> {
  const event = failureEvent({
    status: 'failed',
    requestId: status.request_id,
    bucket: deps.bucket,
    error,
    clientReference: status.client_reference,
    seed: status.seed,
  });
  await publishTerminalEvent(deps, event, { owner: RECONCILE_OWNER, leaseMs: deps.leaseMs });
}

/** Marks one silent request failed (the status update guards against doing it twice) and publishes. */
async function failSilentRequest(deps: ReconcileDeps, status: StatusDocument): Promise<boolean> {
  const requestId = status.request_id;
  const silentMs = deps.now().getTime() - lastSignOfLife(status);
  const error = new HeartbeatLostError(
    `the worker of request ${requestId} stopped sending heartbeats ${Math.round(silentMs / 1000)} s ago; the limit is ${deps.requestTimeoutMs / 1000} s`,
    { details: { worker_id: status.worker_id ?? null, last_heartbeat: status.heartbeat_at ?? null } },
  ).toInfo();
  const updated = await deps.statuses.update(requestId, (current) =>
    current.state === 'running' && lastSignOfLife(current) === lastSignOfLife(status)
      ? { ...current, state: 'failed', error, updated_at: deps.now().toISOString() }
      : undefined,
  );
  if (updated === undefined) return false;
  await publishHeartbeatLost(deps, status, error);
  requestLogger(deps.logger, requestId).warn('request failed: heartbeat lost', {
    worker_id: status.worker_id,
  });
  countMetric(deps.metrics, METRIC_NAMES.requestsFailed, { code: 'HEARTBEAT_LOST', requestId });
  return true;
}

/**
 * Fails a silent running request; finishes the event of one an earlier run failed but could not
 * publish (the outbox makes that a no-op once the event is out). True when it failed one now.
 */
async function checkRequest(deps: ReconcileDeps, requestId: string): Promise<boolean> {
  const record = await deps.statuses.read(requestId);
  if (record === undefined) return false;
  const { status } = record;
  const now = deps.now().getTime();
  if (status.state === 'running') {
    return now - lastSignOfLife(status) > deps.requestTimeoutMs && failSilentRequest(deps, status);
  }
  const recent = now - Date.parse(status.updated_at) < 2 * deps.leaseMs;
  if (status.state === 'failed' && status.error?.code === 'HEARTBEAT_LOST' && recent) {
    await publishHeartbeatLost(deps, status, status.error);
  }
  return false;
}

/**
 * Reads the statuses under requests/, at most `maxStatusesScanned` per run, and fails the running ones
 * gone silent. A capped run leaves `cursor` where it stopped, so the next run (warm) goes on from there.
 */
export async function failSilentRequests(
  deps: ReconcileDeps,
  cursor: ScanCursor = { skip: 0 },
): Promise<Pick<ReconcileReport, 'scanned' | 'capped' | 'heartbeatsLost'>> {
  let seen = 0;
  let scanned = 0;
  const heartbeatsLost: string[] = [];
  for await (const object of deps.objects.list('requests/')) {
    if (!object.key.endsWith(STATUS_SUFFIX)) continue;
    seen += 1;
    if (seen <= cursor.skip) continue;
    if (scanned >= deps.maxStatusesScanned) {
      cursor.skip += scanned;
      deps.logger.warn('status scan capped; the next run goes on from here', {
        cap: deps.maxStatusesScanned,
        next_skip: cursor.skip,
      });
      countMetric(deps.metrics, METRIC_NAMES.reconcileScanCapped);
      return { scanned, capped: true, heartbeatsLost };
    }
    scanned += 1;
    const requestId = object.key.slice('requests/'.length, -STATUS_SUFFIX.length);
    try {
      if (await checkRequest(deps, requestId)) heartbeatsLost.push(requestId);
    } catch (error) {
      // One request must not stop the scan; the next run looks at it again.
      requestLogger(deps.logger, requestId).error('reconcile could not check the request', { error });
      countMetric(deps.metrics, METRIC_NAMES.reconcileErrors);
    }
  }
  cursor.skip = 0;
  return { scanned, capped: false, heartbeatsLost };
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
  const scan = await failSilentRequests(deps, cursor);
  return { census, scaling, ...scan };
}
