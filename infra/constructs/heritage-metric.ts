/** A Heritage metric as the alarms and widgets read it: the shared namespace and `service` dimension. */
import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { METRICS_NAMESPACE, METRICS_SERVICE, type MetricName } from '../../contracts/metrics.js';

export function heritageMetric(
  metricName: MetricName,
  statistic: string,
  period: Duration = Duration.minutes(1),
): cloudwatch.Metric {
  return new cloudwatch.Metric({
    namespace: METRICS_NAMESPACE,
    metricName,
    dimensionsMap: { service: METRICS_SERVICE },
    statistic,
    period,
  });
}
