/**
 * Self-healing, once a minute: start workers when work waits and too few are live, and fail requests
 * whose worker went silent.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { type ErrorInfo, HeartbeatLostError } from '../../contracts/errors.js';
import { parseStatusKey, REQUESTS_PREFIX } from '../../contracts/keys.js';
import { failureEvent } from '../../contracts/lifecycle/completion-event.js';
import type { StatusDocument } from '../../contracts/lifecycle/status.js';
import { publishTerminalEvent } from '../../contracts/lifecycle/terminal-event.js';
import { fail, lastSignOfLife } from '../../contracts/lifecycle/transitions.js';
import type {
  EventPublisher,
  ObjectStore,
  StatusStore,
  WorkerLauncher,
  WorkQueue,
} from '../../contracts/ports.js';
import { type ScaleDecision, scaleWorkers } from '../dispatch/scale-workers.js';
import { countMetric, requestLogger } from '../observability.js';

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
  scaling: ScaleDecision;
  scanned: number;
  capped: boolean;
  heartbeatsLost: string[];
}

/** Where a capped status scan stopped; kept by the handler between warm invocations. */
export interface ScanCursor {
  skip: number;
}

/**
 * One owner for every run, so the next run finishes a publication an earlier one left; runs never
 * overlap (a one-minute schedule, and reserved concurrency 1 on the function).
 */
const RECONCILE_OWNER = 'reconcile';

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
  // Only if the worker is still silent: one that woke up meanwhile wins.
  const stillSilent = (current: StatusDocument) =>
    current.state === 'running' && lastSignOfLife(current) === lastSignOfLife(status);
  const updated = await deps.statuses.update(requestId, fail({ error, now: deps.now(), only: stillSilent }));
  if (updated === undefined) return false;
  await publishHeartbeatLost(deps, status, error);
  requestLogger(deps.logger, requestId).warn('request failed: heartbeat lost', {
    worker_id: status.worker_id,
  });
  countMetric(deps.metrics, 'RequestsFailed', { code: 'HEARTBEAT_LOST' });
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
  for await (const object of deps.objects.list(REQUESTS_PREFIX)) {
    const requestId = parseStatusKey(object.key);
    if (requestId === undefined) continue;
    seen += 1;
    if (seen <= cursor.skip) continue;
    if (scanned >= deps.maxStatusesScanned) {
      cursor.skip += scanned;
      deps.logger.warn('status scan capped; the next run goes on from here', {
        cap: deps.maxStatusesScanned,
        next_skip: cursor.skip,
      });
      countMetric(deps.metrics, 'ReconcileScanCapped');
      return { scanned, capped: true, heartbeatsLost };
    }
    scanned += 1;
    try {
      if (await checkRequest(deps, requestId)) heartbeatsLost.push(requestId);
    } catch (error) {
      // One request must not stop the scan; the next run looks at it again.
      requestLogger(deps.logger, requestId).error('reconcile could not check the request', { error });
      countMetric(deps.metrics, 'ReconcileErrors');
    }
  }
  cursor.skip = 0;
  return { scanned, capped: false, heartbeatsLost };
}

/** The scheduled run. */
export async function reconcile(deps: ReconcileDeps, cursor?: ScanCursor): Promise<ReconcileReport> {
  const scaling = await scaleWorkers(deps);
  if (scaling.launched > 0) {
    deps.logger.info('reconcile launched workers', { ...scaling });
    deps.metrics.addMetric('WorkersLaunched', MetricUnit.Count, scaling.launched);
  }
  const scan = await failSilentRequests(deps, cursor);
  return { scaling, ...scan };
}
