/**
 * Powertools set-up shared by the Lambda functions: one Logger, one Metrics and one Tracer per
 * function, built on first use so importing a handler has no side effects.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { Tracer } from '@aws-lambda-powertools/tracer';
import { CODE_DIMENSION, METRICS_NAMESPACE, METRICS_SERVICE, type MetricName } from '../contracts/metrics.js';

export interface Observability {
  logger: Logger;
  metrics: Metrics;
  tracer: Tracer;
}

/**
 * `serviceName` names the function in its logs and traces. Its metrics carry the one `service`
 * dimension the alarms read (contracts/metrics.ts), whatever the function is called.
 */
export function createObservability(serviceName: string): Observability {
  const logger = new Logger({ serviceName });
  return {
    logger,
    metrics: new Metrics({ namespace: METRICS_NAMESPACE, serviceName: METRICS_SERVICE, logger }),
    tracer: new Tracer({ serviceName }),
  };
}

/**
 * Adds `value` (one by default) to a counter. With a breakdown (the error code of a rejection) it also
 * counts under it, at once and on its own line that names the request; the total without it is always
 * there, because the alarms read it (contracts/metrics.ts).
 */
export function countMetric(
  metrics: Metrics,
  name: MetricName,
  breakdown?: { code: string; requestId?: string },
): void {
  metrics.addMetric(name, MetricUnit.Count, 1);
  if (breakdown === undefined) return;
  const single = metrics.singleMetric();
  single.addDimensions({ [CODE_DIMENSION]: breakdown.code });
  if (breakdown.requestId !== undefined) single.addMetadata('request_id', breakdown.requestId);
  single.addMetric(name, MetricUnit.Count, 1);
}

/**
 * Counts one event of a request on its own line that names the request (no extra dimension), for a
 * count nobody breaks down but somebody may trace: which request a duplicate notification was for.
 */
export function countRequestMetric(metrics: Metrics, name: MetricName, requestId: string): void {
  const single = metrics.singleMetric();
  single.addMetadata('request_id', requestId);
  single.addMetric(name, MetricUnit.Count, 1);
}

/** Sets a gauge or adds a count larger than one. */
export function addMetric(metrics: Metrics, name: MetricName, value: number): void {
  metrics.addMetric(name, MetricUnit.Count, value);
}

/** A logger whose every line carries the request id. */
export function requestLogger(logger: Logger, requestId: string): Logger {
  return logger.createChild({ persistentKeys: { request_id: requestId } });
}
