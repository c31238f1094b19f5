/**
 * The GPU cost an operator sees on the dashboard: per request and per day, from the GPU-held seconds
 * the workers report (GpuSeconds) and a configured price per GPU-hour, on-demand and Spot side by side.
 * The price is configuration (cdk.json `gpuHourPriceUsd`, `spotGpuHourPriceUsd`), not a lookup: the
 * dashboard shows what the operator said a GPU-hour costs, and its labels say so.
 */
import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { METRIC_NAMES } from '../../contracts/metrics.js';
import { heritageMetric } from './heritage-metric.js';

export interface GpuHourPrices {
  /** USD per GPU-hour on demand (README "Cost": $55.04 / 8 GPUs for p5.48xlarge, us-east-1). */
  readonly onDemandUsd: number;
  /** USD per GPU-hour on Spot: a planning figure; Spot prices move (README "Cost"). */
  readonly spotUsd: number;
}

const SECONDS_PER_HOUR = 3600;

/** One line per price: `seconds` (a GpuSeconds statistic, id `g`) turned into dollars. */
function dollars(seconds: cloudwatch.IMetric, prices: GpuHourPrices, what: string, period: Duration) {
  return (
    [
      ['on-demand', prices.onDemandUsd],
      ['Spot', prices.spotUsd],
    ] as const
  ).map(
    ([kind, price]) =>
      new cloudwatch.MathExpression({
        expression: `g * ${price} / ${SECONDS_PER_HOUR}`,
        usingMetrics: { g: seconds },
        label: `${what}, ${kind} at $${price}/GPU-hour`,
        period,
      }),
  );
}

export function costWidgets(prices: GpuHourPrices): cloudwatch.IWidget[] {
  const hour = Duration.hours(1);
  const day = Duration.days(1);
  return [
    new cloudwatch.GraphWidget({
      title: 'GPU cost per request (USD)',
      left: dollars(
        heritageMetric(METRIC_NAMES.gpuSeconds, 'Average', hour),
        prices,
        'mean per request',
        hour,
      ),
      leftYAxis: { min: 0 },
      width: 12,
    }),
    new cloudwatch.GraphWidget({
      title: 'GPU cost per day (USD)',
      left: dollars(heritageMetric(METRIC_NAMES.gpuSeconds, 'Sum', day), prices, 'GPU-held time', day),
      leftYAxis: { min: 0 },
      start: '-P14D',
      width: 12,
    }),
  ];
}
