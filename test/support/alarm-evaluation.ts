/**
 * An alarm from the synthesized template, evaluated on EMF datapoints as CloudWatch would evaluate it:
 * each of its metrics aggregated per period by its statistic, its expression (if any) applied with
 * test/support/metric-math.ts, and the state decided by threshold, operator, M out of N and the
 * treatment of missing data.
 */
import type { EmfDatapoint } from '../../local/emf-records.js';
import { evaluateMetricMath, type Series } from './metric-math.js';

interface MetricRef {
  Namespace: string;
  MetricName: string;
  Dimensions?: { Name: string; Value: string }[] | undefined;
}

/** The properties of an AWS::CloudWatch::Alarm that its evaluation reads. */
export interface AlarmProperties {
  Namespace?: string;
  MetricName?: string;
  Dimensions?: { Name: string; Value: string }[] | undefined;
  Statistic?: string;
  Period?: number;
  Metrics?: {
    Id: string;
    Expression?: string;
    ReturnData?: boolean;
    Period?: number;
    MetricStat?: { Metric: MetricRef; Period: number; Stat: string };
  }[];
  Threshold: number;
  ComparisonOperator: string;
  EvaluationPeriods: number;
  DatapointsToAlarm?: number;
  TreatMissingData?: string;
}

export interface AlarmEvaluation {
  state: 'ALARM' | 'OK';
  /** The alarm's value in each evaluated period, oldest first. */
  values: Series;
}

function matches(point: EmfDatapoint, metric: MetricRef): boolean {
  const wanted = metric.Dimensions ?? [];
  return (
    point.namespace === metric.Namespace &&
    point.name === metric.MetricName &&
    Object.keys(point.dimensions).length === wanted.length &&
    wanted.every((dimension) => point.dimensions[dimension.Name] === dimension.Value)
  );
}

function statistic(stat: string, values: number[]): number | undefined {
  if (values.length === 0) return undefined;
  switch (stat) {
    case 'Sum':
      return values.reduce((sum, value) => sum + value, 0);
    case 'Minimum':
      return Math.min(...values);
    case 'Maximum':
      return Math.max(...values);
    case 'Average':
      return values.reduce((sum, value) => sum + value, 0) / values.length;
    case 'SampleCount':
      return values.length;
    default:
      throw new Error(`statistic ${stat} is not supported here`);
  }
}

/** The statistic of `metric` in each of `periods` periods of `periodSeconds` that end at `end` (epoch ms). */
function aggregate(
  points: EmfDatapoint[],
  metric: MetricRef,
  stat: string,
  periodSeconds: number,
  periods: number,
  end: number,
): Series {
  const periodMs = periodSeconds * 1000;
  return Array.from({ length: periods }, (_, i) => {
    const from = end - (periods - i) * periodMs;
    const values = points
      .filter(
        (point) => point.timestamp >= from && point.timestamp < from + periodMs && matches(point, metric),
      )
      .flatMap((point) => point.values);
    return statistic(stat, values);
  });
}

function breaches(operator: string, value: number, threshold: number): boolean {
  switch (operator) {
    case 'GreaterThanThreshold':
      return value > threshold;
    case 'GreaterThanOrEqualToThreshold':
      return value >= threshold;
    case 'LessThanThreshold':
      return value < threshold;
    case 'LessThanOrEqualToThreshold':
      return value <= threshold;
    default:
      throw new Error(`comparison ${operator} is not supported here`);
  }
}

/** Evaluates `alarm` at `end` (epoch ms) over its EvaluationPeriods periods, the last one ending at `end`. */
export function evaluateAlarm(alarm: AlarmProperties, points: EmfDatapoint[], end: number): AlarmEvaluation {
  if (alarm.TreatMissingData !== 'notBreaching') {
    throw new Error('only alarms that treat missing data as not breaching are evaluated here');
  }
  const periods = alarm.EvaluationPeriods;
  let values: Series;
  if (alarm.Metrics === undefined) {
    const metric = {
      Namespace: alarm.Namespace ?? '',
      MetricName: alarm.MetricName ?? '',
      Dimensions: alarm.Dimensions,
    };
    values = aggregate(points, metric, alarm.Statistic ?? '', alarm.Period ?? 60, periods, end);
  } else {
    const output = alarm.Metrics.find(
      (query) => query.ReturnData !== false && query.Expression !== undefined,
    );
    if (output?.Expression === undefined) throw new Error('the alarm has no expression that returns data');
    const series: Record<string, Series> = {};
    for (const query of alarm.Metrics) {
      if (query.MetricStat === undefined) continue;
      const { Metric, Stat, Period } = query.MetricStat;
      series[query.Id] = aggregate(points, Metric, Stat, Period, periods, end);
    }
    values = evaluateMetricMath(output.Expression, series, periods);
  }
  const breaching = values.filter(
    (value) => value !== undefined && breaches(alarm.ComparisonOperator, value, alarm.Threshold),
  ).length;
  return { state: breaching >= (alarm.DatapointsToAlarm ?? periods) ? 'ALARM' : 'OK', values };
}
