/**
 * The CloudWatch metrics the dashboard and alarms read. Every emitter (dispatch, dead-letter, reconcile,
 * the worker) names its metrics from this list and nowhere else, so a rename here is a rename
 * everywhere; test/chaos/pipeline-chaos.test.ts checks that each metric an alarm or widget reads is
 * emitted with the same name, namespace and dimensions.
 *
 * Each metric is emitted with only the `service` dimension, which is what the alarms read. A breakdown
 * by error code is emitted in addition, as the same metric with the dimensions `service` and `code`;
 * the dashboard searches that breakdown.
 */
export const METRICS_NAMESPACE = 'Heritage';

/**
 * The `service` dimension of every Heritage metric. The emitters pin it, whatever name their logs use,
 * so that the alarms find their data wherever it comes from.
 */
export const METRICS_SERVICE = 'heritage';

/** The dimension of the breakdown by error code. */
export const CODE_DIMENSION = 'code';

export const METRIC_NAMES = {
  /** Count: a request reached `succeeded` (worker). */
  requestsSucceeded: 'RequestsSucceeded',
  /** Count: a request reached `failed` (worker, dispatch, dead-letter, reconcile); also by `code`. */
  requestsFailed: 'RequestsFailed',
  /** Count: a request reached `rejected` (dispatch, dead-letter); also by `code`. */
  requestsRejected: 'RequestsRejected',
  /**
   * Count: an upload that never became a request, such as a manifest over a used id (dispatch,
   * dead-letter); also by `code`.
   */
  uploadsRejected: 'UploadsRejected',
  /** Count: a manifest was accepted and its work message sent (dispatch). */
  requestsAccepted: 'RequestsAccepted',
  /** Milliseconds from the work message being sent to a worker taking it (worker, succeeded requests). */
  queueWaitMs: 'QueueWaitMs',
  /** Milliseconds the worker spent provisioning models before its first request (worker, that request). */
  provisionMs: 'ProvisionMs',
  /** Milliseconds the engine rendered one request (worker, succeeded requests). */
  inferenceMs: 'InferenceMs',
  /** Milliseconds uploading one request's frames and video (worker, succeeded requests). */
  uploadMs: 'UploadMs',
  /** Milliseconds encoding one request's MP4 (worker, succeeded requests that asked for a video). */
  videoMs: 'VideoMs',
  /** Milliseconds from the work message being sent to result.json (worker, succeeded requests). */
  totalMs: 'TotalMs',
  /**
   * Seconds: GPU-held time of one attempt, from the worker taking the work message to the request's
   * outcome being decided (docs/observability.md). Every attempt that held the GPU reports it, a retried
   * or handed-back one too, so that the daily sum is the GPU time spent.
   */
  gpuSeconds: 'GpuSeconds',
  /** Count: frames one succeeded request delivered (worker). */
  frames: 'Frames',
  /** Count: worker jobs submitted to Batch (dispatch, reconcile). */
  workersLaunched: 'WorkersLaunched',
  /** Gauge: worker jobs RUNNING on the job queue (reconcile, every minute). */
  workersRunning: 'WorkersRunning',
  /** Gauge: worker jobs waiting RUNNABLE for capacity (reconcile, every minute). */
  workersRunnable: 'WorkersRunnable',
  /** Count: the same manifest notification came again and was acknowledged (dispatch). */
  duplicateEvents: 'DuplicateEvents',
  /** Count: an intake record failed and SQS will deliver it again (dispatch). */
  dispatchRetries: 'DispatchRetries',
  /** Count: an intake message that is not an S3 event (dispatch). */
  intakeUnreadable: 'IntakeUnreadable',
  /** Count: a scaling decision failed; reconcile heals it (dispatch). */
  scalingFailures: 'ScalingFailures',
  /** Count: a dead letter that names no request or is not a work message (dead-letter). */
  poisonMessages: 'PoisonMessages',
  /** Count: Batch reported a worker job FAILED (reconcile). */
  workerJobsFailed: 'WorkerJobsFailed',
  /** Count: a reconcile run stopped its status scan at the cap (reconcile). */
  reconcileScanCapped: 'ReconcileScanCapped',
  /**
   * Count: a terminal request whose event had not gone out, published late from its status and the
   * outbox (dead-letter, reconcile).
   */
  eventsCompleted: 'EventsCompleted',
  /** Count: reconcile could not check one request (reconcile). */
  reconcileErrors: 'ReconcileErrors',
} as const;

export type MetricName = (typeof METRIC_NAMES)[keyof typeof METRIC_NAMES];
