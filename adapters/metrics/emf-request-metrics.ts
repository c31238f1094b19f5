/**
 * RequestMetrics as CloudWatch embedded metric format, through Powertools Metrics. Outside Lambda it
 * works the same: each flush is one JSON line on stdout, which the container's log driver ships to
 * CloudWatch Logs, where the metrics are extracted. One line per attempt, carrying `request_id`, plus
 * one more for a failure's breakdown by error code.
 */
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { CODE_DIMENSION, METRIC_NAMES, METRICS_NAMESPACE, METRICS_SERVICE } from '../../contracts/metrics.js';
import type { AttemptReport, RequestMetrics } from '../../contracts/ports.js';

export class EmfRequestMetrics implements RequestMetrics {
  // Namespace and service pinned, so that no environment variable can move them off the alarms.
  private readonly metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: METRICS_SERVICE });

  record(report: AttemptReport): void {
    const { metrics } = this;
    const name = METRIC_NAMES;
    metrics.addMetadata('request_id', report.requestId);
    metrics.addMetadata('outcome', report.outcome);
    if (report.errorCode !== undefined) metrics.addMetadata('error_code', report.errorCode);
    metrics.addMetric(name.gpuSeconds, MetricUnit.Seconds, report.gpuSeconds);
    if (report.provisionMs !== undefined) {
      metrics.addMetric(name.provisionMs, MetricUnit.Milliseconds, report.provisionMs);
    }
    if (report.outcome === 'succeeded') {
      metrics.addMetric(name.requestsSucceeded, MetricUnit.Count, 1);
      const stages = report.stagesMs;
      if (stages !== undefined) {
        metrics.addMetric(name.queueWaitMs, MetricUnit.Milliseconds, stages.queued);
        metrics.addMetric(name.inferenceMs, MetricUnit.Milliseconds, stages.inference);
        metrics.addMetric(name.uploadMs, MetricUnit.Milliseconds, stages.upload);
        if (stages.videoMs !== undefined)
          metrics.addMetric(name.videoMs, MetricUnit.Milliseconds, stages.videoMs);
        metrics.addMetric(name.totalMs, MetricUnit.Milliseconds, stages.total);
      }
      if (report.frames !== undefined) metrics.addMetric(name.frames, MetricUnit.Count, report.frames);
    }
    if (report.outcome === 'failed') metrics.addMetric(name.requestsFailed, MetricUnit.Count, 1);
    metrics.publishStoredMetrics();
    if (report.outcome === 'failed' && report.errorCode !== undefined) {
      const single = metrics.singleMetric();
      single.addDimensions({ [CODE_DIMENSION]: report.errorCode });
      single.addMetadata('request_id', report.requestId);
      single.addMetric(name.requestsFailed, MetricUnit.Count, 1);
    }
  }
}
