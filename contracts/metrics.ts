/**
 * The CloudWatch metrics the dashboard and alarms read. Every deployable that emits them (dispatch,
 * dead-letter, reconcile, worker) uses these names, so a rename here is a rename everywhere.
 */
export const METRICS_NAMESPACE = 'Heritage';

/** Every metric carries exactly this one dimension; Powertools adds it from POWERTOOLS_SERVICE_NAME. */
export const METRICS_SERVICE = 'heritage';

export const METRIC_NAMES = {
  /** Count, one per request that reached `succeeded` (worker). */
  requestSucceeded: 'RequestSucceeded',
  /** Count, one per request that reached `failed` (worker or dead-letter). */
  requestFailed: 'RequestFailed',
  /** Count, one per request that reached `rejected` (dispatch). */
  requestRejected: 'RequestRejected',
  /** Milliseconds of GPU inference for one request (worker, timings_ms.inference). */
  inferenceMs: 'InferenceMs',
  /** Gauge: worker jobs RUNNING on the job queue (reconcile, every minute). */
  workersRunning: 'WorkersRunning',
  /** Gauge: worker jobs waiting RUNNABLE for capacity (reconcile, every minute). */
  workersRunnable: 'WorkersRunnable',
} as const;
