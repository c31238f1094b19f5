import { readFileSync } from 'node:fs';
import { Match, type Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { METRIC_NAMES, METRICS_NAMESPACE, METRICS_SERVICE } from '../../contracts/metrics.js';
import { REQUEST_STORY_QUERY } from '../../infra/constructs/request-story.js';
import type { HeritageStack } from '../../infra/stack.js';
import { buildHeritage, logicalId, resourcesOfType } from './support/heritage-app.js';

describe('alarms and dashboard', () => {
  let template: Template;
  let stack: HeritageStack;
  beforeAll(() => {
    ({ template, stack } = buildHeritage({ alarmEmail: 'oncall@example.com' }));
  });

  const alarmTopic = () => ({ Ref: logicalId(stack.messaging.alarmTopic) });

  it.each(['intakeDeadLetterQueue', 'workDeadLetterQueue'] as const)(
    'alarms as soon as the %s holds a message',
    (queue) => {
      // Assess
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: 'AWS/SQS',
        MetricName: 'ApproximateNumberOfMessagesVisible',
        Dimensions: [
          { Name: 'QueueName', Value: { 'Fn::GetAtt': [logicalId(stack.messaging[queue]), 'QueueName'] } },
        ],
        Statistic: 'Maximum',
        ComparisonOperator: 'GreaterThanThreshold',
        Threshold: 0,
        EvaluationPeriods: 1,
        AlarmActions: [alarmTopic()],
      });
    },
  );

  it('alarms when worker jobs wait RUNNABLE with none running for 15 minutes in a row', () => {
    // Assess
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Metrics: Match.arrayWith([
        Match.objectLike({ Expression: 'IF(FILL(runnable, 0) > 0 AND FILL(running, 0) == 0, 1, 0)' }),
        Match.objectLike({
          Id: 'runnable',
          MetricStat: Match.objectLike({
            Metric: {
              Namespace: METRICS_NAMESPACE,
              MetricName: METRIC_NAMES.workersRunnable,
              Dimensions: [{ Name: 'service', Value: METRICS_SERVICE }],
            },
            Stat: 'Minimum',
            Period: 60,
          }),
        }),
        Match.objectLike({
          Id: 'running',
          MetricStat: Match.objectLike({
            Metric: Match.objectLike({ MetricName: METRIC_NAMES.workersRunning }),
            Stat: 'Maximum',
          }),
        }),
      ]),
      EvaluationPeriods: 15,
      DatapointsToAlarm: 15,
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'notBreaching',
      AlarmActions: [alarmTopic()],
    });
  });

  it('alarms when the oldest work message outlives three request timeouts plus the RUNNABLE window', () => {
    // Assess
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ApproximateAgeOfOldestMessage',
      Dimensions: [
        { Name: 'QueueName', Value: { 'Fn::GetAtt': [logicalId(stack.messaging.workQueue), 'QueueName'] } },
      ],
      Threshold: 900 * 3 + 15 * 60,
    });
  });

  it('alarms when more than 20% of the requests that finished in 15 minutes failed', () => {
    // Act
    const failureRate = Object.values(resourcesOfType(template, 'AWS::CloudWatch::Alarm')).find((alarm) =>
      JSON.stringify(alarm.Properties).includes(METRIC_NAMES.requestsFailed),
    )?.Properties as { Metrics: { Id: string; Expression?: string; MetricStat?: unknown }[] } | undefined;

    // Assess
    expect(failureRate).toMatchObject({ Threshold: 20, ComparisonOperator: 'GreaterThanThreshold' });
    const expression = failureRate?.Metrics.find((metric) => metric.Expression)?.Expression;
    expect(expression).toContain('100 * FILL(f, 0) / (FILL(s, 0) + FILL(f, 0))');
    expect(failureRate?.Metrics).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          Id: 'f',
          MetricStat: expect.objectContaining({
            Metric: expect.objectContaining({ MetricName: METRIC_NAMES.requestsFailed }),
            Period: 900,
            Stat: 'Sum',
          }),
        }),
        expect.objectContaining({
          Id: 's',
          MetricStat: expect.objectContaining({
            Metric: expect.objectContaining({ MetricName: METRIC_NAMES.requestsSucceeded }),
          }),
        }),
      ]),
    );
  });

  it('notifies the alarm topic on alarm and on recovery, and subscribes the configured e-mail', () => {
    // Assess
    template.allResourcesProperties('AWS::CloudWatch::Alarm', {
      AlarmActions: [alarmTopic()],
      OKActions: [alarmTopic()],
    });
    template.resourceCountIs('AWS::CloudWatch::Alarm', 5);
    template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'oncall@example.com',
      TopicArn: alarmTopic(),
    });
  });

  it('shows backlog, workers, outcomes, stages, GPU-held time, cost and DLQ depth on the dashboard', () => {
    // Act
    const [dashboard] = Object.values(resourcesOfType(template, 'AWS::CloudWatch::Dashboard'));
    const body = JSON.stringify(dashboard?.Properties?.DashboardBody);

    // Assess
    for (const title of [
      'Backlog',
      'Workers',
      'Requests finished',
      'Stages per request',
      'GPU-held time per request',
      'GPU cost per request (USD)',
      'GPU cost per day (USD)',
      'Dead-letter queue depth',
      'Failed and rejected by error code',
    ]) {
      expect(body).toContain(`\\"title\\":\\"${title}`);
    }
  });

  it('saves a Logs Insights query that reads every log group on a request path, in time order', () => {
    // Assess
    const logGroups = [
      stack.controlPlane.dispatch.logGroup,
      stack.workers.logGroup,
      stack.controlPlane.deadLetter.logGroup,
      stack.controlPlane.reconcile.logGroup,
    ].map((group) => ({ Ref: logicalId(group) }));
    template.hasResourceProperties('AWS::Logs::QueryDefinition', {
      QueryString: REQUEST_STORY_QUERY.toString(),
      LogGroupNames: logGroups,
    });
    expect(REQUEST_STORY_QUERY.toString()).toMatch(/filter request_id = .*\n\| sort @timestamp asc/);
  });
});

describe('cost on the dashboard', () => {
  it.each([
    [{}, 6.88, 2.75],
    [{ gpuHourPriceUsd: '7.5', spotGpuHourPriceUsd: '3' }, 7.5, 3],
  ])('turns GPU-held seconds into dollars at the configured prices (%o)', (context, onDemand, spot) => {
    // Act
    const { template } = buildHeritage(context);
    const [dashboard] = Object.values(resourcesOfType(template, 'AWS::CloudWatch::Dashboard'));
    const body = JSON.stringify(dashboard?.Properties?.DashboardBody);

    // Assess
    for (const price of [onDemand, spot]) {
      expect(body).toContain(`g * ${price} / 3600`);
      expect(body).toContain(`$${price}/GPU-hour`);
    }
  });
});

describe('alarms without an e-mail', () => {
  it('creates the alarm topic but subscribes nobody', () => {
    // Act
    const { template } = buildHeritage();

    // Assess
    template.resourceCountIs('AWS::SNS::Subscription', 0);
    template.hasOutput('AlarmTopicArn', { Value: Match.anyValue() });
  });
});

describe('docs/observability.md', () => {
  const doc = readFileSync(new URL('../../docs/observability.md', import.meta.url), 'utf8');

  it('shows the request-story query exactly as the stack saves it', () => {
    // Act
    const shown = /<!-- query: request-story -->\s*```\n([\s\S]*?)\n```/.exec(doc)?.[1];

    // Assess
    expect(shown).toBe(REQUEST_STORY_QUERY.toString());
  });

  it('describes every metric the emitters may use', () => {
    // Assess
    const missing = Object.values(METRIC_NAMES).filter((name) => !doc.includes(`\`${name}\``));
    expect(missing).toEqual([]);
  });
});
