/**
 * The dashboard an operator opens first and the alarms that page them: dead letters, workers stuck
 * RUNNABLE, a backlog that stopped draining, and the failure rate; the request stages, GPU-held time
 * and its cost; and the saved query that tells one request's story.
 */
import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { METRIC_NAMES, METRICS_NAMESPACE } from '../../contracts/metrics.js';
import { costWidgets, type GpuHourPrices } from './cost-widgets.js';
import { heritageMetric } from './heritage-metric.js';
import { RequestStory } from './request-story.js';

/** Alarm when more than this share of finished requests failed in the window. */
export const FAILURE_RATE_THRESHOLD_PERCENT = 20;
export const FAILURE_RATE_WINDOW = Duration.minutes(15);
/** A worker job waiting this long for a GPU is stuck, not queued. */
export const RUNNABLE_ALARM_MINUTES = 15;

export interface ObservabilityProps {
  readonly dashboardName: string;
  readonly intakeQueue: sqs.IQueue;
  readonly intakeDeadLetterQueue: sqs.IQueue;
  readonly workQueue: sqs.IQueue;
  readonly workDeadLetterQueue: sqs.IQueue;
  readonly alarmTopic: sns.ITopic;
  readonly requestTimeout: Duration;
  /** What a GPU-hour costs, for the cost widgets. */
  readonly gpuHourPrices: GpuHourPrices;
  /** Every log group on a request's path (functions and workers), for the request-story query. */
  readonly requestLogGroups: logs.ILogGroup[];
}

export class Observability extends Construct {
  readonly dashboard: cloudwatch.Dashboard;
  readonly alarms: cloudwatch.Alarm[] = [];
  readonly requestStory: RequestStory;

  constructor(scope: Construct, id: string, props: ObservabilityProps) {
    super(scope, id);
    const notify = new actions.SnsAction(props.alarmTopic);
    const alarm = (name: string, alarmProps: cloudwatch.AlarmProps) => {
      const created = new cloudwatch.Alarm(this, name, alarmProps);
      created.addAlarmAction(notify);
      created.addOkAction(notify);
      this.alarms.push(created);
      return created;
    };

    for (const [name, queue] of [
      ['IntakeDeadLetters', props.intakeDeadLetterQueue],
      ['WorkDeadLetters', props.workDeadLetterQueue],
    ] as const) {
      alarm(name, {
        alarmDescription: `${name}: a message reached a dead-letter queue; inspect it, then redrive or delete it.`,
        metric: queue.metricApproximateNumberOfMessagesVisible({
          statistic: 'Maximum',
          period: Duration.minutes(1),
        }),
        threshold: 0,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
    }

    // Reconcile's gauges, every minute. Jobs waiting while others run are queued behind them; jobs
    // waiting with none running for the whole window cannot get a GPU at all.
    alarm('WorkersStuckRunnable', {
      alarmDescription:
        `Worker jobs have waited RUNNABLE for ${RUNNABLE_ALARM_MINUTES} minutes with no worker running: no p5 ` +
        'capacity, a vCPU quota below the compute environment, or a job larger than the instance. See the ' +
        'README troubleshooting.',
      metric: new cloudwatch.MathExpression({
        expression: 'IF(FILL(runnable, 0) > 0 AND FILL(running, 0) == 0, 1, 0)',
        usingMetrics: {
          runnable: heritageMetric(METRIC_NAMES.workersRunnable, 'Minimum'),
          running: heritageMetric(METRIC_NAMES.workersRunning, 'Maximum'),
        },
        label: 'runnable with none running',
        period: Duration.minutes(1),
      }),
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: RUNNABLE_ALARM_MINUTES,
      datapointsToAlarm: RUNNABLE_ALARM_MINUTES,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });

    // Independent of any emitted metric: work older than a few request timeouts means nobody drains it.
    const staleAfter = Duration.seconds(props.requestTimeout.toSeconds() * 3 + RUNNABLE_ALARM_MINUTES * 60);
    alarm('BacklogNotDraining', {
      alarmDescription: `The oldest work message is older than ${staleAfter.toMinutes()} minutes: workers are not draining the queue.`,
      metric: props.workQueue.metricApproximateAgeOfOldestMessage({
        statistic: 'Maximum',
        period: Duration.minutes(5),
      }),
      threshold: staleAfter.toSeconds(),
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });

    const succeeded = heritageMetric(METRIC_NAMES.requestsSucceeded, 'Sum', FAILURE_RATE_WINDOW);
    const failed = heritageMetric(METRIC_NAMES.requestsFailed, 'Sum', FAILURE_RATE_WINDOW);
    alarm('FailureRate', {
      alarmDescription: `More than ${FAILURE_RATE_THRESHOLD_PERCENT}% of finished requests failed in ${FAILURE_RATE_WINDOW.toMinutes()} minutes.`,
      metric: new cloudwatch.MathExpression({
        expression: 'IF((FILL(s, 0) + FILL(f, 0)) > 0, 100 * FILL(f, 0) / (FILL(s, 0) + FILL(f, 0)), 0)',
        usingMetrics: { s: succeeded, f: failed },
        label: 'Failed %',
        period: FAILURE_RATE_WINDOW,
      }),
      threshold: FAILURE_RATE_THRESHOLD_PERCENT,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });

    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      dashboardName: props.dashboardName,
      defaultInterval: Duration.hours(3),
    });
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Backlog',
        left: [
          props.workQueue.metricApproximateNumberOfMessagesVisible({
            label: 'work waiting',
            statistic: 'Maximum',
          }),
          props.workQueue.metricApproximateNumberOfMessagesNotVisible({
            label: 'work running',
            statistic: 'Maximum',
          }),
          props.intakeQueue.metricApproximateNumberOfMessagesVisible({
            label: 'intake waiting',
            statistic: 'Maximum',
          }),
        ],
        width: 8,
      }),
      new cloudwatch.GraphWidget({
        title: 'Workers',
        left: [
          heritageMetric(METRIC_NAMES.workersRunning, 'Maximum').with({ label: 'running' }),
          heritageMetric(METRIC_NAMES.workersRunnable, 'Maximum').with({
            label: 'runnable (waiting for a GPU)',
          }),
          heritageMetric(METRIC_NAMES.workersLaunched, 'Sum').with({ label: 'launched' }),
        ],
        width: 8,
      }),
      new cloudwatch.GraphWidget({
        title: 'Requests finished',
        left: [
          heritageMetric(METRIC_NAMES.requestsSucceeded, 'Sum', Duration.minutes(5)).with({
            label: 'succeeded',
          }),
          heritageMetric(METRIC_NAMES.requestsFailed, 'Sum', Duration.minutes(5)).with({ label: 'failed' }),
          heritageMetric(METRIC_NAMES.requestsRejected, 'Sum', Duration.minutes(5)).with({
            label: 'rejected',
          }),
        ],
        stacked: true,
        width: 8,
      }),
    );
    const fiveMinutes = Duration.minutes(5);
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Stages per request (ms, p50)',
        left: (
          [
            [METRIC_NAMES.queueWaitMs, 'queue wait'],
            [METRIC_NAMES.provisionMs, "provision (a worker's first request)"],
            [METRIC_NAMES.inferenceMs, 'inference'],
            [METRIC_NAMES.uploadMs, 'upload'],
            [METRIC_NAMES.videoMs, 'video encode'],
            [METRIC_NAMES.totalMs, 'total, enqueued to result'],
          ] as const
        ).map(([name, label]) => heritageMetric(name, 'p50', fiveMinutes).with({ label })),
        width: 8,
      }),
      new cloudwatch.GraphWidget({
        title: 'GPU-held time per request (s)',
        left: [
          heritageMetric(METRIC_NAMES.gpuSeconds, 'p50', fiveMinutes).with({ label: 'p50' }),
          heritageMetric(METRIC_NAMES.gpuSeconds, 'p90', fiveMinutes).with({ label: 'p90' }),
          heritageMetric(METRIC_NAMES.gpuSeconds, 'Maximum', fiveMinutes).with({ label: 'max' }),
        ],
        right: [heritageMetric(METRIC_NAMES.frames, 'p50', fiveMinutes).with({ label: 'frames (p50)' })],
        width: 8,
      }),
      new cloudwatch.GraphWidget({
        title: 'Dead-letter queue depth',
        left: [
          props.intakeDeadLetterQueue.metricApproximateNumberOfMessagesVisible({
            label: 'intake DLQ',
            statistic: 'Maximum',
          }),
          props.workDeadLetterQueue.metricApproximateNumberOfMessagesVisible({
            label: 'work DLQ',
            statistic: 'Maximum',
          }),
        ],
        width: 8,
      }),
    );
    this.dashboard.addWidgets(
      new cloudwatch.AlarmStatusWidget({ title: 'Alarms', alarms: this.alarms, width: 8 }),
      new cloudwatch.GraphWidget({
        title: 'Inference per request (ms)',
        left: [
          heritageMetric(METRIC_NAMES.inferenceMs, 'p50', fiveMinutes).with({ label: 'p50' }),
          heritageMetric(METRIC_NAMES.inferenceMs, 'p90', fiveMinutes).with({ label: 'p90' }),
          heritageMetric(METRIC_NAMES.inferenceMs, 'Maximum', fiveMinutes).with({ label: 'max' }),
        ],
        width: 8,
      }),
    );
    this.dashboard.addWidgets(...costWidgets(props.gpuHourPrices));
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Failed and rejected by error code',
        left: [METRIC_NAMES.requestsFailed, METRIC_NAMES.requestsRejected].map(
          (name) =>
            new cloudwatch.MathExpression({
              expression: `SEARCH('{${METRICS_NAMESPACE},code,service} MetricName="${name}"', 'Sum', 300)`,
              label: name,
              period: Duration.minutes(5),
            }),
        ),
        stacked: true,
        width: 24,
      }),
    );

    this.requestStory = new RequestStory(this, 'RequestStory', {
      queryName: `${props.dashboardName}/request-story`,
      logGroups: props.requestLogGroups,
    });
  }
}
