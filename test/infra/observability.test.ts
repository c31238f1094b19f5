import { Match, type Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { METRIC_NAMES, METRICS_NAMESPACE, METRICS_SERVICE } from '../../contracts/metrics.js';
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

  it('alarms when worker jobs stay RUNNABLE for 15 minutes in a row', () => {
    // Assess
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: METRICS_NAMESPACE,
      MetricName: METRIC_NAMES.workersRunnable,
      Dimensions: [{ Name: 'service', Value: METRICS_SERVICE }],
      Statistic: 'Minimum',
      Period: 60,
      EvaluationPeriods: 15,
      DatapointsToAlarm: 15,
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
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

  it('shows backlog, workers, outcomes, GPU time and DLQ depth on the dashboard', () => {
    // Act
    const [dashboard] = Object.values(resourcesOfType(template, 'AWS::CloudWatch::Dashboard'));
    const body = JSON.stringify(dashboard?.Properties?.DashboardBody);

    // Assess
    for (const title of [
      'Backlog',
      'Workers',
      'Requests finished',
      'GPU time per request',
      'Dead-letter queue depth',
      'Failed and rejected by error code',
    ]) {
      expect(body).toContain(`\\"title\\":\\"${title}`);
    }
    for (const metric of Object.values(METRIC_NAMES)) expect(body).toContain(metric);
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
