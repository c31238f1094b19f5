/**
 * The CloudWatch metrics the dashboard and alarms read. Every deployable that emits them (dispatch,
 * dead-letter, reconcile, worker) uses these names, so a rename here is a rename everywhere.
 *
 * Each count is emitted once as a total with only the `service` dimension, which is what the alarms
 * read. A breakdown by error code may be emitted in addition, as the same metric with the dimensions
 * `service` and `code` (Powertools `singleMetric`); the dashboard shows that breakdown.
 */
export const METRICS_NAMESPACE = 'Heritage';

/** The `service` dimension; Powertools takes it from POWERTOOLS_SERVICE_NAME, which the infra sets. */
export const METRICS_SERVICE = 'heritage';

export const METRIC_NAMES = {
  /** Count: a request reached `succeeded` (worker). */
  requestsSucceeded: 'RequestsSucceeded',
  /** Count: a request reached `failed` (worker, dead-letter, reconcile). */
  requestsFailed: 'RequestsFailed',
  /** Count: a request reached `rejected` (dispatch). */
  requestsRejected: 'RequestsRejected',
  /** Milliseconds of GPU inference for one request (worker, timings_ms.inference). */
  inferenceMs: 'InferenceMs',
  /** Count: worker jobs submitted to Batch (dispatch, reconcile). */
  workersLaunched: 'WorkersLaunched',
  /** Gauge: worker jobs RUNNING on the job queue (reconcile, every minute). */
  workersRunning: 'WorkersRunning',
  /** Gauge: worker jobs waiting RUNNABLE for capacity (reconcile, every minute). */
  workersRunnable: 'WorkersRunnable',
} as const;
