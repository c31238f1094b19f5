/** Batch "Job State Change" events: a worker job that FAILED is logged with its reason and counted. */
import type { Logger } from '@aws-lambda-powertools/logger';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import { METRIC_NAMES } from '../../contracts/metrics.js';
import { countMetric } from '../observability.js';
import type { BatchJobStateChange } from './reconcile-events.js';

export interface WorkerJobDeps {
  logger: Logger;
  metrics: Metrics;
  /** Names of worker jobs start with this; other jobs on the queue are not ours to report. */
  workerJobPrefix: string;
}

/** Logs a worker job that Batch reports FAILED, with its reason, and counts it. */
export function recordWorkerJobChange(deps: WorkerJobDeps, event: BatchJobStateChange): boolean {
  const { detail } = event;
  if (detail.status !== 'FAILED' || !detail.jobName.startsWith(deps.workerJobPrefix)) return false;
  const lastAttempt = detail.attempts?.at(-1);
  deps.logger.error('worker job failed', {
    job_id: detail.jobId,
    job_name: detail.jobName,
    reason: detail.statusReason,
    exit_code: lastAttempt?.container?.exitCode,
    container_reason: lastAttempt?.container?.reason,
  });
  countMetric(deps.metrics, METRIC_NAMES.workerJobsFailed);
  return true;
}
