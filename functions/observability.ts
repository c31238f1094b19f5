/**
 * Powertools set-up shared by the Lambda functions: one Logger, one Metrics and one Tracer per
 * function, built on first use so importing a handler has no side effects.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { Tracer } from '@aws-lambda-powertools/tracer';

export const METRICS_NAMESPACE = 'Heritage';

export interface Observability {
  logger: Logger;
  metrics: Metrics;
  tracer: Tracer;
}

export function createObservability(serviceName: string): Observability {
  const logger = new Logger({ serviceName });
  return {
    logger,
    metrics: new Metrics({ namespace: METRICS_NAMESPACE, serviceName, logger }),
    tracer: new Tracer({ serviceName }),
  };
}

/**
 * Adds one to a counter. With dimensions (e.g. the error code of a rejection) it also counts under
 * them; the total without them is always there, because the alarms read it (contracts/metrics.ts).
 */
export function countMetric(metrics: Metrics, name: string, dimensions?: Record<string, string>): void {
  metrics.addMetric(name, MetricUnit.Count, 1);
  if (dimensions === undefined) return;
  const single = metrics.singleMetric();
  single.addDimensions(dimensions);
  single.addMetric(name, MetricUnit.Count, 1);
}

/** A logger whose every line carries the request id. */
export function requestLogger(logger: Logger, requestId: string): Logger {
  return logger.createChild({ persistentKeys: { request_id: requestId } });
}
